// -plugin parsing and loading, and the hooks the CPUs call while
// instrumented: translation (plugins build a plan), block/instruction/memory
// execution (the plan's actions), flush, idle/resume and discontinuities.
#include "instrument/instrument.hpp"
#include "instrument/internal.hpp"

#include "log/log.hpp"
#include "options/error.hpp"
#include "options/keyval.hpp"
#include "vcpu/vcpu.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace tessera {

namespace instr {

thread_local Vcpu *t_vcpu = nullptr;

State &state() {
    static State s;
    return s;
}

Plugin *plugin_of(qemu_plugin_id_t id) {
    State &st = state();
    for (auto &p : st.plugins)
        if (p->id == id) return p.get();
    return nullptr;
}

void scoreboards_reserve(size_t n) {
    State &st = state();
    std::lock_guard lk(st.mu);
    st.max_vcpus = std::max<unsigned>(st.max_vcpus, static_cast<unsigned>(n));
    for (qemu_plugin_scoreboard *sb : st.scoreboards) {
        if (sb->capacity >= n) continue;
        auto grown = std::make_unique<uint8_t[]>(sb->element_size * n);   // zeroed
        std::memcpy(grown.get(), sb->data.get(), sb->element_size * sb->capacity);
        sb->data = std::move(grown);
        sb->capacity = n;
    }
}

namespace {

// The reference loads with its minimum API level 2 and current level 5.
constexpr int kMinVersion = 2;

struct VcpuScope {
    Vcpu *saved;
    explicit VcpuScope(Vcpu *v) : saved(t_vcpu) { t_vcpu = v; }
    ~VcpuScope() { t_vcpu = saved; }
};

// Snapshot of the plugins' slot `m` (callbacks may register more while we call).
template <class F> std::vector<std::pair<qemu_plugin_id_t, F>> slots(F Plugin::*m) {
    State &st = state();
    std::lock_guard lk(st.mu);
    std::vector<std::pair<qemu_plugin_id_t, F>> out;
    for (auto &p : st.plugins)
        if (!p->removed && p.get()->*m) out.emplace_back(p->id, p.get()->*m);
    return out;
}

uint64_t *entry_ptr(const qemu_plugin_u64 &e, unsigned vcpu) {
    return reinterpret_cast<uint64_t *>(e.score->data.get() + e.score->element_size * vcpu + e.offset);
}

bool cond_holds(qemu_plugin_cond c, uint64_t v, uint64_t imm) {
    switch (c) {
    case QEMU_PLUGIN_COND_ALWAYS: return true;
    case QEMU_PLUGIN_COND_EQ: return v == imm;
    case QEMU_PLUGIN_COND_NE: return v != imm;
    case QEMU_PLUGIN_COND_LT: return v < imm;
    case QEMU_PLUGIN_COND_LE: return v <= imm;
    case QEMU_PLUGIN_COND_GT: return v > imm;
    case QEMU_PLUGIN_COND_GE: return v >= imm;
    default: return false;
    }
}

void apply_op(qemu_plugin_op op, const qemu_plugin_u64 &e, unsigned vcpu, uint64_t imm) {
    uint64_t *p = entry_ptr(e, vcpu);
    if (op == QEMU_PLUGIN_INLINE_ADD_U64) *p += imm;
    else *p = imm;
}

void run_actions(const std::vector<Action> &acts, Vcpu &v) {
    for (const Action &a : acts) {
        switch (a.kind) {
        case Action::Inline: apply_op(a.op, a.entry, v.index, a.imm); break;
        case Action::Cond:
            if (cond_holds(a.cond, *entry_ptr(a.entry, v.index), a.imm)) a.fn(v.index, a.udata);
            break;
        case Action::Call: a.fn(v.index, a.udata); break;
        }
    }
}

// ---- hooks the CPU calls ----

Vcpu &ctx_vcpu(void *ctx) { return *static_cast<Vcpu *>(ctx); }

const ts_instr_plan *hook_translate(void *ctx, const ts_instr_block *block) {
    Vcpu &v = ctx_vcpu(ctx);
    VcpuScope scope(&v);
    auto plan = std::make_unique<Plan>();
    const size_t n = block->n_insns;
    plan->flags.assign(n, 0);
    plan->insn.resize(n);
    plan->mem.resize(n);
    qemu_plugin_tb tb;
    tb.b = block;
    tb.plan = plan.get();
    tb.insns.resize(n);
    for (size_t i = 0; i < n; ++i) tb.insns[i] = qemu_plugin_insn{&block->insns[i], plan.get(), i};
    for (auto &[id, cb] : slots(&Plugin::tb_trans)) cb(id, &tb);
    for (size_t i = 0; i < n; ++i) {
        if (!plan->insn[i].empty()) plan->flags[i] |= TS_INSTR_EXEC;
        if (!plan->mem[i].empty()) plan->flags[i] |= TS_INSTR_MEM;
    }
    plan->c.block_flags = plan->block.empty() ? 0 : 1;
    plan->c.insn_flags = plan->flags.data();
    return &plan.release()->c;
}

Plan &plan_of(const ts_instr_plan *p) {
    return *reinterpret_cast<Plan *>(const_cast<ts_instr_plan *>(p));
}

void hook_release(void *, const ts_instr_plan *p) { std::unique_ptr<Plan> owned(&plan_of(p)); }

void hook_block_exec(void *ctx, const ts_instr_plan *p) {
    Vcpu &v = ctx_vcpu(ctx);
    VcpuScope scope(&v);
    run_actions(plan_of(p).block, v);
}

void hook_insn_exec(void *ctx, const ts_instr_plan *p, uint32_t i) {
    Vcpu &v = ctx_vcpu(ctx);
    VcpuScope scope(&v);
    run_actions(plan_of(p).insn[i], v);
}

// meminfo encoding (private to tessera; plugins only query it): bits 0-3
// size shift, bit 4 sign-extended, bit 5 store.
constexpr uint32_t kMemSign = 1u << 4, kMemStore = 1u << 5;

void hook_mem(void *ctx, const ts_instr_plan *p, uint32_t i, const ts_instr_mem *m) {
    Vcpu &v = ctx_vcpu(ctx);
    VcpuScope scope(&v);
    v.mem = *m;
    const qemu_plugin_meminfo_t info = m->size_shift | (m->sign_extended ? kMemSign : 0) | (m->is_store ? kMemStore : 0);
    const unsigned want = m->is_store ? QEMU_PLUGIN_MEM_W : QEMU_PLUGIN_MEM_R;
    for (const MemAction &a : plan_of(p).mem[i]) {
        if (!(a.rw & want)) continue;
        if (a.is_inline) apply_op(a.op, a.entry, v.index, a.imm);
        else a.fn(v.index, info, m->vaddr, a.udata);
    }
}

void hook_flushed(void *ctx) {
    VcpuScope scope(&ctx_vcpu(ctx));
    for (auto &[id, cb] : slots(&Plugin::flush)) cb(id);
}

void hook_idle(void *ctx) {
    Vcpu &v = ctx_vcpu(ctx);
    VcpuScope scope(&v);
    for (auto &[id, cb] : slots(&Plugin::vcpu_idle)) cb(id, v.index);
}

void hook_resume(void *ctx) {
    Vcpu &v = ctx_vcpu(ctx);
    VcpuScope scope(&v);
    for (auto &[id, cb] : slots(&Plugin::vcpu_resume)) cb(id, v.index);
}

void hook_discon(void *ctx, unsigned type, uint64_t from, uint64_t to) {
    Vcpu &v = ctx_vcpu(ctx);
    VcpuScope scope(&v);
    std::vector<std::pair<qemu_plugin_id_t, std::pair<qemu_plugin_vcpu_discon_cb_t, unsigned>>> cbs;
    {
        std::lock_guard lk(state().mu);
        for (auto &pl : state().plugins)
            if (!pl->removed && pl->discon) cbs.push_back({pl->id, {pl->discon, pl->discon_mask}});
    }
    for (auto &[id, c] : cbs)
        if (c.second & type) c.first(id, v.index, static_cast<qemu_plugin_discon_type>(type), from, to);
}

const ts_instr_hooks &hooks() {
    static const ts_instr_hooks h = {
        sizeof(ts_instr_hooks), hook_translate, hook_release, hook_block_exec, hook_insn_exec, hook_mem,
        hook_flushed, hook_idle, hook_resume, hook_discon,
        reinterpret_cast<const volatile uint64_t *>(&state().flush_generation),
    };
    return h;
}

std::string dl_error() {
    const char *e = dlerror();
    return e ? e : "unknown error";
}

}  // namespace

}  // namespace instr

using namespace instr;

const char *instrument_help() {
    return "Plugin options\n  file=<path/to/plugin.so>\n  plugin specific arguments\n";
}

bool instrument_parse_option(std::vector<PluginRequest> &list, const std::string &arg) {
    KeyVals kv;
    try {
        kv = parse_keyval(arg, "file");
    } catch (const UsageError &e) {
        throw UsageError("-plugin " + arg + ": " + e.what());
    }
    if (kv.wants_help()) return true;
    PluginRequest *cur = nullptr;
    for (auto &[k, v] : kv.items) {
        if (k == "file") {
            if (v.empty()) throw UsageError("-plugin " + arg + ": requires a non-empty argument");
            auto it = std::find_if(list.begin(), list.end(), [&](const PluginRequest &r) { return r.path == v; });
            if (it == list.end()) {
                list.push_back(PluginRequest{v, {}});
                cur = &list.back();
            } else {
                cur = &*it;
            }
            continue;
        }
        if (!cur) throw UsageError("-plugin " + arg + ": missing earlier '-plugin file=' option");
        std::string full = k + "=" + v;
        if (k == "arg" && !(v == "on" || v == "off" || v == "yes" || v == "no" || v == "true" || v == "false")) {
            // The old spelling arg=NAME[=VALUE]: still accepted, with the reference's warning.
            full = v.find('=') == std::string::npos ? v + "=on" : v;
            warn_report("using 'arg=" + v + "' is deprecated");
            std::fprintf(stderr, "Please use '%s' directly\n", full.c_str());
        }
        cur->args.push_back(std::move(full));
    }
    return false;
}

bool instrument_active() { return !state().plugins.empty(); }

void instrument_load(const std::vector<PluginRequest> &list, const std::string &target, unsigned smp_cpus,
                     unsigned max_cpus) {
    State &st = state();
    st.target = target;
    st.max_vcpus = std::max(1u, std::max(smp_cpus, max_cpus));
    for (const PluginRequest &r : list) {
        const std::string what = "Could not load plugin " + r.path + ": ";
        // RTLD_LOCAL: plugins do not see each other's symbols (the reference's G_MODULE_BIND_LOCAL).
        void *h = dlopen(r.path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!h) throw UsageError(what + dl_error());
        dlerror();
        void *install_sym = dlsym(h, "qemu_plugin_install");
        if (!install_sym) {
            std::string e = dl_error();
            dlclose(h);
            throw UsageError(what + e);
        }
        void *version_sym = dlsym(h, "qemu_plugin_version");
        if (!version_sym) {
            std::string e = dl_error();
            dlclose(h);
            throw UsageError(what + "plugin does not declare API version " + e);
        }
        const int version = *static_cast<const int *>(version_sym);
        if (version < kMinVersion) {
            dlclose(h);
            throw UsageError(what + "plugin requires API version " + std::to_string(version) +
                             ", but this QEMU supports only a minimum version of " + std::to_string(kMinVersion));
        }
        if (version > QEMU_PLUGIN_VERSION) {
            dlclose(h);
            throw UsageError(what + "plugin requires API version " + std::to_string(version) +
                             ", but this QEMU supports only up to version " + std::to_string(QEMU_PLUGIN_VERSION));
        }
        auto p = std::make_unique<Plugin>();
        p->path = r.path;
        p->handle = h;   // kept open until exit: code may still be referenced by plans
        p->args = r.args;
        for (auto &a : p->args) p->argv.push_back(a.data());
        p->argv.push_back(nullptr);
        p->id = st.plugins.size() + 1;
        Plugin *pl = p.get();
        {
            std::lock_guard lk(st.mu);
            st.plugins.push_back(std::move(p));
        }
        qemu_info_t info{};
        info.target_name = st.target.c_str();
        info.version.min = kMinVersion;
        info.version.cur = QEMU_PLUGIN_VERSION;
        info.system_emulation = true;
        info.system.smp_vcpus = static_cast<int>(std::max(1u, smp_cpus));
        info.system.max_vcpus = static_cast<int>(st.max_vcpus);
        using InstallFn = int (*)(qemu_plugin_id_t, const qemu_info_t *, int, char **);
        auto install = reinterpret_cast<InstallFn>(install_sym);
        pl->installing = true;
        int rc = install(pl->id, &info, static_cast<int>(pl->args.size()), pl->argv.data());
        pl->installing = false;
        if (rc != 0) {
            std::lock_guard lk(st.mu);
            pl->removed = true;
            throw UsageError(what + "qemu_plugin_install returned error code " + std::to_string(rc));
        }
    }
    // A plugin's atexit callbacks also run when the process leaves by exit().
    static bool registered = false;
    if (!registered && !st.plugins.empty()) {
        registered = true;
        std::atexit([] { instrument_finish(); });
    }
}

void instrument_start() {
    State &st = state();
    if (st.plugins.empty()) return;
    scoreboards_reserve(vcpu_count());
    for (unsigned i = 0; i < vcpu_count(); ++i) {
        auto v = std::make_unique<Vcpu>();
        v->index = i;
        v->cpu = vcpu_instance(i);
        v->cls = vcpu_class(i);
        if (v->cls->get_capability)
            v->ops = static_cast<const ts_cpu_instrument_ops *>(v->cls->get_capability(v->cpu, TS_INSTRUMENT_V1));
        if (!v->ops)
            throw UsageError("-plugin: the CPU of this machine (target " + st.target +
                             ") does not support instrumentation plugins");
        v->ops->attach(v->cpu, &hooks(), v.get());
        st.vcpus.push_back(std::move(v));
    }
    for (auto &v : st.vcpus) {
        VcpuScope scope(v.get());
        for (auto &[id, cb] : slots(&Plugin::vcpu_init)) cb(id, v->index);
    }
}

void instrument_finish() {
    State &st = state();
    if (st.finished || st.plugins.empty()) return;
    st.finished = true;
    for (auto &v : st.vcpus) {
        VcpuScope scope(v.get());
        for (auto &[id, cb] : slots(&Plugin::vcpu_exit)) cb(id, v->index);
    }
    std::vector<std::pair<qemu_plugin_udata_cb_t, std::pair<qemu_plugin_id_t, void *>>> cbs;
    {
        std::lock_guard lk(st.mu);
        for (auto &p : st.plugins)
            if (!p->removed && p->atexit) cbs.push_back({p->atexit, {p->id, p->atexit_udata}});
    }
    for (auto &[cb, a] : cbs) cb(a.first, a.second);
}

}  // namespace tessera
