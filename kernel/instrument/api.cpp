// The qemu_plugin_* functions, exported from the tessera executable (see
// qemu-plugin.dynlist) for plugins built against plugin-api/include/qemu-plugin.h.
#include "instrument/internal.hpp"

#include "host/host_table.hpp"
#include "loader/loader.hpp"
#include "log/log.hpp"
#include "vcpu/vcpu.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string_view>
#include <vector>

using namespace tessera;
using namespace tessera::instr;

namespace {

Plugin *live_plugin(qemu_plugin_id_t id) {
    Plugin *p = plugin_of(id);
    return p && !p->removed ? p : nullptr;
}

template <class F> void set_slot(qemu_plugin_id_t id, F Plugin::*m, F cb) {
    std::lock_guard lk(state().mu);
    if (Plugin *p = live_plugin(id)) p->*m = cb;
}

void reset_plugin(qemu_plugin_id_t id, bool remove) {
    Plugin *p = plugin_of(id);
    if (!p) return;
    {
        std::lock_guard lk(state().mu);
        p->vcpu_init = p->vcpu_exit = p->vcpu_idle = p->vcpu_resume = nullptr;
        p->tb_trans = nullptr;
        p->flush = nullptr;
        p->discon = nullptr;
        p->atexit = nullptr;
        if (remove) p->removed = true;
    }
    // Every CPU drops its blocks (and with them this plugin's actions) at its
    // next block boundary. The library stays loaded: code may still run until then.
    state().flush_generation.fetch_add(1);
}

// The three kinds of block/instruction action, shared by the tb_* and insn_*
// registration calls (they differ only in where the action goes).
Action call_action(qemu_plugin_vcpu_udata_cb_t cb, void *udata) {
    Action a;
    a.kind = Action::Call;
    a.fn = cb;
    a.udata = udata;
    return a;
}
Action cond_action(qemu_plugin_vcpu_udata_cb_t cb, void *udata, qemu_plugin_cond cond, qemu_plugin_u64 entry,
                   uint64_t imm) {
    Action a = call_action(cb, udata);
    a.kind = Action::Cond;
    a.cond = cond;
    a.entry = entry;
    a.imm = imm;
    return a;
}
Action inline_action(qemu_plugin_op op, qemu_plugin_u64 entry, uint64_t imm) {
    Action a;
    a.kind = Action::Inline;
    a.op = op;
    a.entry = entry;
    a.imm = imm;
    return a;
}

// ---- registers: gdb's target description of the CPU ----

struct RegInfo {
    std::string name, feature;
    int regno;
};

std::string attr(std::string_view tag, std::string_view key) {
    std::string pat = " " + std::string(key) + "=\"";
    size_t at = tag.find(pat);
    if (at == std::string_view::npos) return {};
    at += pat.size();
    size_t end = tag.find('"', at);
    return std::string(tag.substr(at, end - at));
}

// Registers of a CPU class, parsed once from its target.xml.
const std::vector<RegInfo> &registers_of(Vcpu &v) {
    static std::mutex mu;
    static std::map<const ts_cpu_class *, std::vector<RegInfo>> cache;
    std::lock_guard lk(mu);
    auto [it, fresh] = cache.try_emplace(v.cls);
    if (!fresh || !v.cls->gdb_xml) return it->second;
    const char *xml = v.cls->gdb_xml(v.cpu, "target.xml");
    if (!xml) return it->second;
    std::string_view s = xml;
    std::string feature;
    int next = 0;
    for (size_t pos = 0; (pos = s.find('<', pos)) != std::string_view::npos;) {
        size_t end = s.find('>', pos);
        if (end == std::string_view::npos) break;
        std::string_view tag = s.substr(pos, end - pos);
        if (tag.starts_with("<feature ")) {
            feature = attr(tag, "name");
        } else if (tag.starts_with("<reg ")) {
            std::string num = attr(tag, "regnum");
            int regno = num.empty() ? next : std::stoi(num);
            next = regno + 1;
            it->second.push_back(RegInfo{attr(tag, "name"), feature, regno});
        }
        pos = end;
    }
    return it->second;
}

qemu_plugin_register *reg_handle(int regno) { return reinterpret_cast<qemu_plugin_register *>(uintptr_t(regno) + 1); }
int reg_number(qemu_plugin_register *h) { return static_cast<int>(reinterpret_cast<uintptr_t>(h) - 1); }

}  // namespace

extern "C" {

// ---- lifecycle ----

void qemu_plugin_uninstall(qemu_plugin_id_t id, qemu_plugin_simple_cb_t cb) {
    Plugin *p = plugin_of(id);
    if (!p || p->removed) return;
    if (p->installing) {
        error_report("Calling qemu_plugin_uninstall from the install function is a bug. "
                     "Instead, return !0 from the install function.");
        std::abort();
    }
    reset_plugin(id, true);
    if (cb) cb(id);
}

void qemu_plugin_reset(qemu_plugin_id_t id, qemu_plugin_simple_cb_t cb) {
    if (!live_plugin(id)) return;
    reset_plugin(id, false);
    if (cb) cb(id);
}

void qemu_plugin_register_vcpu_init_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_simple_cb_t cb) {
    set_slot(id, &Plugin::vcpu_init, cb);
    // vCPUs that already exist are reported at once, as the reference does.
    for (auto &v : state().vcpus) {
        if (!cb) break;
        Vcpu *saved = t_vcpu;
        t_vcpu = v.get();
        cb(id, v->index);
        t_vcpu = saved;
    }
}
void qemu_plugin_register_vcpu_exit_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_simple_cb_t cb) {
    set_slot(id, &Plugin::vcpu_exit, cb);
}
void qemu_plugin_register_vcpu_idle_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_simple_cb_t cb) {
    set_slot(id, &Plugin::vcpu_idle, cb);
}
void qemu_plugin_register_vcpu_resume_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_simple_cb_t cb) {
    set_slot(id, &Plugin::vcpu_resume, cb);
}
void qemu_plugin_register_vcpu_discon_cb(qemu_plugin_id_t id, enum qemu_plugin_discon_type type,
                                         qemu_plugin_vcpu_discon_cb_t cb) {
    std::lock_guard lk(state().mu);
    if (Plugin *p = live_plugin(id)) {
        p->discon = cb;
        p->discon_mask = static_cast<unsigned>(type);
    }
}
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb) {
    set_slot(id, &Plugin::tb_trans, cb);
}
void qemu_plugin_register_flush_cb(qemu_plugin_id_t id, qemu_plugin_simple_cb_t cb) {
    set_slot(id, &Plugin::flush, cb);
}
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata) {
    std::lock_guard lk(state().mu);
    if (Plugin *p = live_plugin(id)) {
        p->atexit = cb;
        p->atexit_udata = userdata;
    }
}
// User-mode events: accepted, never raised in system emulation.
void qemu_plugin_register_vcpu_syscall_cb(qemu_plugin_id_t, qemu_plugin_vcpu_syscall_cb_t) {}
void qemu_plugin_register_vcpu_syscall_ret_cb(qemu_plugin_id_t, qemu_plugin_vcpu_syscall_ret_cb_t) {}

// ---- block and instruction instrumentation ----

void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
                                          enum qemu_plugin_cb_flags, void *userdata) {
    if (!tb || !cb) return;
    tb->plan->block.push_back(call_action(cb, userdata));
}

void qemu_plugin_register_vcpu_tb_exec_cond_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
                                               enum qemu_plugin_cb_flags flags, enum qemu_plugin_cond cond,
                                               qemu_plugin_u64 entry, uint64_t imm, void *userdata) {
    if (!tb || !cb || cond == QEMU_PLUGIN_COND_NEVER) return;
    if (cond == QEMU_PLUGIN_COND_ALWAYS) return qemu_plugin_register_vcpu_tb_exec_cb(tb, cb, flags, userdata);
    tb->plan->block.push_back(cond_action(cb, userdata, cond, entry, imm));
}

void qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(struct qemu_plugin_tb *tb, enum qemu_plugin_op op,
                                                       qemu_plugin_u64 entry, uint64_t imm) {
    if (!tb || !entry.score) return;
    tb->plan->block.push_back(inline_action(op, entry, imm));
}

void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags, void *userdata) {
    if (!insn || !cb) return;
    insn->plan->insn[insn->index].push_back(call_action(cb, userdata));
}

void qemu_plugin_register_vcpu_insn_exec_cond_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
                                                 enum qemu_plugin_cb_flags flags, enum qemu_plugin_cond cond,
                                                 qemu_plugin_u64 entry, uint64_t imm, void *userdata) {
    if (!insn || !cb || cond == QEMU_PLUGIN_COND_NEVER) return;
    if (cond == QEMU_PLUGIN_COND_ALWAYS) return qemu_plugin_register_vcpu_insn_exec_cb(insn, cb, flags, userdata);
    insn->plan->insn[insn->index].push_back(cond_action(cb, userdata, cond, entry, imm));
}

void qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(struct qemu_plugin_insn *insn, enum qemu_plugin_op op,
                                                         qemu_plugin_u64 entry, uint64_t imm) {
    if (!insn || !entry.score) return;
    insn->plan->insn[insn->index].push_back(inline_action(op, entry, imm));
}

void qemu_plugin_register_vcpu_mem_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_mem_cb_t cb,
                                      enum qemu_plugin_cb_flags, enum qemu_plugin_mem_rw rw, void *userdata) {
    if (!insn || !cb) return;
    MemAction a;
    a.rw = rw;
    a.fn = cb;
    a.udata = userdata;
    insn->plan->mem[insn->index].push_back(a);
}

void qemu_plugin_register_vcpu_mem_inline_per_vcpu(struct qemu_plugin_insn *insn, enum qemu_plugin_mem_rw rw,
                                                   enum qemu_plugin_op op, qemu_plugin_u64 entry, uint64_t imm) {
    if (!insn || !entry.score) return;
    MemAction a;
    a.is_inline = true;
    a.rw = rw;
    a.op = op;
    a.entry = entry;
    a.imm = imm;
    insn->plan->mem[insn->index].push_back(a);
}

// ---- block and instruction queries ----

size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb) { return tb ? tb->insns.size() : 0; }
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb) { return tb ? tb->b->vaddr : 0; }

struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx) {
    if (!tb || idx >= tb->insns.size()) return nullptr;
    return const_cast<qemu_plugin_insn *>(&tb->insns[idx]);
}

size_t qemu_plugin_insn_data(const struct qemu_plugin_insn *insn, void *dest, size_t len) {
    if (!insn) return 0;
    size_t n = std::min<size_t>(len, insn->d->len);
    std::memcpy(dest, insn->d->bytes, n);
    return n;
}

size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn) { return insn ? insn->d->len : 0; }
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn) { return insn ? insn->d->vaddr : 0; }
void *qemu_plugin_insn_haddr(const struct qemu_plugin_insn *insn) {
    return insn ? const_cast<void *>(insn->d->haddr) : nullptr;
}

char *qemu_plugin_insn_disas(const struct qemu_plugin_insn *insn) {
    if (!insn) return nullptr;
    char text[128] = "";
    Vcpu *v = t_vcpu;
    if (!v || !v->cls->disas || !v->cls->disas(v->cpu, insn->d->vaddr, insn->d->bytes, insn->d->len, text, sizeof text))
        return g_strdup("unknown");
    return g_strdup(text);
}

// No reverse symbol table yet: symbols are best effort in the reference too.
// The function of a loaded ELF (firmware, kernel, -device loader) holding the
// instruction, as the reference's ELF symbol lookup.
const char *qemu_plugin_insn_symbol(const struct qemu_plugin_insn *insn) {
    return insn ? tessera::global_symbols().function_at(insn->d->vaddr) : nullptr;
}

// ---- memory accesses ----

unsigned int qemu_plugin_mem_size_shift(qemu_plugin_meminfo_t info) { return info & 0xf; }
bool qemu_plugin_mem_is_sign_extended(qemu_plugin_meminfo_t info) { return (info >> 4) & 1; }
bool qemu_plugin_mem_is_big_endian(qemu_plugin_meminfo_t) { return false; }   // RISC-V data is little endian
bool qemu_plugin_mem_is_store(qemu_plugin_meminfo_t info) { return (info >> 5) & 1; }

qemu_plugin_mem_value qemu_plugin_mem_get_value(qemu_plugin_meminfo_t info) {
    qemu_plugin_mem_value out{};
    const uint64_t v = t_vcpu ? t_vcpu->mem.value : 0;
    switch (info & 0xf) {
    case 0: out.type = QEMU_PLUGIN_MEM_VALUE_U8; out.data.u8 = static_cast<uint8_t>(v); break;
    case 1: out.type = QEMU_PLUGIN_MEM_VALUE_U16; out.data.u16 = static_cast<uint16_t>(v); break;
    case 2: out.type = QEMU_PLUGIN_MEM_VALUE_U32; out.data.u32 = static_cast<uint32_t>(v); break;
    default: out.type = QEMU_PLUGIN_MEM_VALUE_U64; out.data.u64 = v; break;
    }
    return out;
}

struct qemu_plugin_hwaddr *qemu_plugin_get_hwaddr(qemu_plugin_meminfo_t info, uint64_t vaddr) {
    static thread_local qemu_plugin_hwaddr hw;
    Vcpu *v = t_vcpu;
    if (!v || !v->cls->translate) return nullptr;
    const ts_access acc = (info >> 5) & 1 ? TS_ACCESS_WRITE : TS_ACCESS_READ;
    uint64_t pa = 0;
    if (v->cls->translate(v->cpu, vaddr, acc, &pa) != TS_OK) return nullptr;
    ts_flat_range fr{};
    fr.size = sizeof fr;
    const ts_host *h = host_table_get();
    hw.paddr = pa;
    hw.is_io = h->as_lookup(h->system_as(), pa, &fr) != TS_OK || fr.kind == TS_REGION_MMIO;
    return &hw;
}

bool qemu_plugin_hwaddr_is_io(const struct qemu_plugin_hwaddr *haddr) { return haddr && haddr->is_io; }
uint64_t qemu_plugin_hwaddr_phys_addr(const struct qemu_plugin_hwaddr *haddr) { return haddr ? haddr->paddr : 0; }
const char *qemu_plugin_hwaddr_device_name(const struct qemu_plugin_hwaddr *h) {
    if (!h) return "invalid";
    return h->is_io ? "io" : "RAM";
}

// ---- time control: not offered (virtual time follows the host clock) ----

const void *qemu_plugin_request_time_control(void) { return nullptr; }
void qemu_plugin_update_ns(const void *, int64_t) {}

// ---- vCPUs, output, arguments ----

void qemu_plugin_vcpu_for_each(qemu_plugin_id_t id, qemu_plugin_vcpu_simple_cb_t cb) {
    if (!live_plugin(id) || !cb) return;
    for (auto &v : state().vcpus) cb(id, v->index);
}

int qemu_plugin_num_vcpus(void) { return static_cast<int>(state().vcpus.size()); }

void qemu_plugin_outs(const char *string) {
    if (string) log_printf(TS_LOG_PLUGIN, "%s", string);
}

bool qemu_plugin_bool_parse(const char *name, const char *val, bool *ret) {
    (void)name;
    if (!val || !ret) return false;
    std::string_view v = val;
    if (v == "on" || v == "yes" || v == "true") { *ret = true; return true; }
    if (v == "off" || v == "no" || v == "false") { *ret = false; return true; }
    return false;
}

const char *qemu_plugin_path_to_binary(void) { return nullptr; }
uint64_t qemu_plugin_start_code(void) { return 0; }
uint64_t qemu_plugin_end_code(void) { return 0; }
uint64_t qemu_plugin_entry_code(void) { return 0; }

// ---- registers ----

GArray *qemu_plugin_get_registers(void) {
    GArray *out = g_array_new(FALSE, FALSE, sizeof(qemu_plugin_reg_descriptor));
    Vcpu *v = t_vcpu;
    if (!v) return out;
    // Names live as long as the process: plugins keep the const strings.
    for (const RegInfo &r : registers_of(*v)) {
        qemu_plugin_reg_descriptor d{reg_handle(r.regno), r.name.c_str(), r.feature.c_str()};
        g_array_append_val(out, d);
    }
    return out;
}

int qemu_plugin_read_register(struct qemu_plugin_register *handle, GByteArray *buf) {
    Vcpu *v = t_vcpu;
    if (!v || !v->cls->gdb_read_reg || !buf) return -1;
    uint8_t tmp[64];
    size_t n = v->cls->gdb_read_reg(v->cpu, reg_number(handle), tmp, sizeof tmp);
    if (!n) return -1;
    g_byte_array_append(buf, tmp, static_cast<guint>(n));
    return static_cast<int>(n);
}

int qemu_plugin_write_register(struct qemu_plugin_register *handle, GByteArray *buf) {
    Vcpu *v = t_vcpu;
    if (!v || !v->cls->gdb_write_reg || !buf) return 0;
    return static_cast<int>(v->cls->gdb_write_reg(v->cpu, reg_number(handle), buf->data, buf->len));
}

// ---- memory ----

bool qemu_plugin_read_memory_vaddr(uint64_t addr, GByteArray *data, size_t len) {
    Vcpu *v = t_vcpu;
    if (!v || !data || len == 0) return false;
    std::vector<uint8_t> tmp(len);
    if (v->ops->read_vaddr(v->cpu, addr, tmp.data(), len) != TS_OK) return false;
    g_byte_array_set_size(data, 0);
    g_byte_array_append(data, tmp.data(), static_cast<guint>(len));
    return true;
}

bool qemu_plugin_write_memory_vaddr(uint64_t addr, GByteArray *data) {
    Vcpu *v = t_vcpu;
    if (!v || !data) return false;
    return v->ops->write_vaddr(v->cpu, addr, data->data, data->len) == TS_OK;
}

enum qemu_plugin_hwaddr_operation_result qemu_plugin_read_memory_hwaddr(uint64_t addr, GByteArray *data,
                                                                        size_t len) {
    if (!data || len == 0) return QEMU_PLUGIN_HWADDR_OPERATION_ERROR;
    const ts_host *h = host_table_get();
    std::vector<uint8_t> tmp(len);
    ts_memtx r = h->as_rw(h->system_as(), addr, tmp.data(), len, 0);
    if (r == TS_MEMTX_DECODE_ERROR) return QEMU_PLUGIN_HWADDR_OPERATION_INVALID_ADDRESS;
    if (r != TS_MEMTX_OK) return QEMU_PLUGIN_HWADDR_OPERATION_DEVICE_ERROR;
    g_byte_array_set_size(data, 0);
    g_byte_array_append(data, tmp.data(), static_cast<guint>(len));
    return QEMU_PLUGIN_HWADDR_OPERATION_OK;
}

enum qemu_plugin_hwaddr_operation_result qemu_plugin_write_memory_hwaddr(uint64_t addr, GByteArray *data) {
    if (!data) return QEMU_PLUGIN_HWADDR_OPERATION_ERROR;
    const ts_host *h = host_table_get();
    ts_memtx r = h->as_rw(h->system_as(), addr, data->data, data->len, 1);
    if (r == TS_MEMTX_DECODE_ERROR) return QEMU_PLUGIN_HWADDR_OPERATION_INVALID_ADDRESS;
    if (r != TS_MEMTX_OK) return QEMU_PLUGIN_HWADDR_OPERATION_DEVICE_ERROR;
    return QEMU_PLUGIN_HWADDR_OPERATION_OK;
}

bool qemu_plugin_translate_vaddr(uint64_t vaddr, uint64_t *hwaddr) {
    Vcpu *v = t_vcpu;
    if (!v || !hwaddr || !v->cls->translate) return false;
    return v->cls->translate(v->cpu, vaddr, TS_ACCESS_READ, hwaddr) == TS_OK;
}

// ---- scoreboards ----

struct qemu_plugin_scoreboard *qemu_plugin_scoreboard_new(size_t element_size) {
    // Owned by the plugin from here: qemu_plugin_scoreboard_free takes it back.
    qemu_plugin_scoreboard *sb = std::make_unique<qemu_plugin_scoreboard>().release();
    State &st = state();
    std::lock_guard lk(st.mu);
    sb->element_size = element_size;
    sb->capacity = std::max<size_t>(st.max_vcpus, st.vcpus.size());
    sb->data = std::make_unique<uint8_t[]>(element_size * sb->capacity);
    st.scoreboards.push_back(sb);
    return sb;
}

void qemu_plugin_scoreboard_free(struct qemu_plugin_scoreboard *score) {
    if (!score) return;
    State &st = state();
    {
        std::lock_guard lk(st.mu);
        std::erase(st.scoreboards, score);
    }
    std::unique_ptr<qemu_plugin_scoreboard> owned(score);
}

void *qemu_plugin_scoreboard_find(struct qemu_plugin_scoreboard *score, unsigned int vcpu_index) {
    if (!score || vcpu_index >= score->capacity) return nullptr;
    return score->data.get() + score->element_size * vcpu_index;
}

static uint64_t *u64_ptr(qemu_plugin_u64 e, unsigned vcpu) {
    auto *base = static_cast<uint8_t *>(qemu_plugin_scoreboard_find(e.score, vcpu));
    return base ? reinterpret_cast<uint64_t *>(base + e.offset) : nullptr;
}

void qemu_plugin_u64_add(qemu_plugin_u64 entry, unsigned int vcpu_index, uint64_t added) {
    if (uint64_t *p = u64_ptr(entry, vcpu_index)) *p += added;
}

uint64_t qemu_plugin_u64_get(qemu_plugin_u64 entry, unsigned int vcpu_index) {
    uint64_t *p = u64_ptr(entry, vcpu_index);
    return p ? *p : 0;
}

void qemu_plugin_u64_set(qemu_plugin_u64 entry, unsigned int vcpu_index, uint64_t val) {
    if (uint64_t *p = u64_ptr(entry, vcpu_index)) *p = val;
}

uint64_t qemu_plugin_u64_sum(qemu_plugin_u64 entry) {
    if (!entry.score) return 0;
    uint64_t sum = 0;
    const size_t n = std::max<size_t>(state().vcpus.size(), 1);
    for (size_t i = 0; i < n && i < entry.score->capacity; ++i) sum += *u64_ptr(entry, static_cast<unsigned>(i));
    return sum;
}

}  // extern "C"
