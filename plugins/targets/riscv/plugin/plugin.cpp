// The RISC-V target plugin: CPU types rv64/rv32/max over the core
// interpreter, wired to the kernel through the C ABI (memory through the
// address space, interrupts through gpio "irq", time from the ACLINT).
#include "csr.hpp"
#include "hart.hpp"
#include "../core/instrument.hpp"
#include "instrument.hpp"
#include "isa/isa.hpp"
#include "page_dump.hpp"
#include "../jit/jit.hpp"

#include <tessera/sdk/plugin.hpp>
#include <tessera/sdk/riscv_cpu.h>
#include <tessera/debug.h>

#include <atomic>
#include <cinttypes>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace {

using ts::host;

thread_local bool t_in_vcpu = false;   // set while exec() runs on this thread

struct ExtProp {
    const char *name;
    bool rv::Extensions::*field;
    const char *desc;
};

// Extension toggles, one bool property each (on by default).
constexpr ExtProp kExtProps[] = {
    {"m", &rv::Extensions::m, "M: integer multiply/divide"},
    {"a", &rv::Extensions::a, "A: atomics"},
    {"f", &rv::Extensions::f, "F: single-precision floating point"},
    {"d", &rv::Extensions::d, "D: double-precision floating point"},
    {"c", &rv::Extensions::c, "C: compressed instructions"},
    {"s", &rv::Extensions::s, "S: supervisor mode"},
    {"u", &rv::Extensions::u, "U: user mode"},
    {"zicsr", &rv::Extensions::zicsr, "Zicsr"},
    {"zifencei", &rv::Extensions::zifencei, "Zifencei"},
    {"zicntr", &rv::Extensions::zicntr, "Zicntr: base counters"},
    {"zihpm", &rv::Extensions::zihpm, "Zihpm: hardware performance counters"},
    {"zba", &rv::Extensions::zba, "Zba: address generation"},
    {"zbb", &rv::Extensions::zbb, "Zbb: basic bit manipulation"},
    {"zbc", &rv::Extensions::zbc, "Zbc: carry-less multiply"},
    {"zbs", &rv::Extensions::zbs, "Zbs: single-bit instructions"},
    {"zicond", &rv::Extensions::zicond, "Zicond: conditional zero"},
    {"zicbom", &rv::Extensions::zicbom, "Zicbom: cache-block management"},
    {"zicboz", &rv::Extensions::zicboz, "Zicboz: cache-block zero"},
    {"zicbop", &rv::Extensions::zicbop, "Zicbop: cache-block prefetch"},
    {"zihintpause", &rv::Extensions::zihintpause, "Zihintpause: pause hint"},
    {"sstc", &rv::Extensions::sstc, "Sstc: supervisor timer compare"},
    {"svpbmt", &rv::Extensions::svpbmt, "Svpbmt: page-based memory types"},
    {"svadu", &rv::Extensions::svadu, "Svadu: hardware A/D bit updates"},
};
constexpr size_t kNumExt = sizeof(kExtProps) / sizeof(kExtProps[0]);

constexpr ts_prop_decl make_bool(const char *name, const char *desc) {
    return ts_prop_decl{sizeof(ts_prop_decl), name, TS_PROP_BOOL, "on", 0, 0, nullptr, nullptr, desc};
}

struct PropTable {
    ts_prop_decl decl[kNumExt + 2];
    constexpr PropTable() : decl{} {
        for (size_t i = 0; i < kNumExt; ++i) decl[i] = make_bool(kExtProps[i].name, kExtProps[i].desc);
        decl[kNumExt] = ts_prop_decl{sizeof(ts_prop_decl), "resetvec", TS_PROP_UINT, "0x1000", 0, 0,
                                     nullptr, nullptr, "reset vector"};
        decl[kNumExt + 1] = ts_prop_decl{sizeof(ts_prop_decl), "hartid", TS_PROP_UINT, "0", 0, 0,
                                         nullptr, nullptr, "hart id (the CPU index)"};
    }
};
constexpr PropTable kProps;

// ---- the CPU instance ---------------------------------------------------------

// Realized harts of the machine (one machine per process): with only one,
// fence.i has nothing to re-check (rv::Hart::machine_harts_).
std::atomic<unsigned> g_realized_harts{0};

class RiscvCpu final : public rv::Bus {
public:
    RiscvCpu(ts_object *o, unsigned xlen) : obj(o), xlen_(xlen) {}
    ~RiscvCpu() override {
        if (hart) g_realized_harts.fetch_sub(1);
        if (sstc_timer_) host().timer_free(sstc_timer_);
    }

    ts_object *obj;
    std::unique_ptr<rv::Hart> hart;
    std::unique_ptr<rv::jit::Jit> jit;   // after hart: destroyed first
    std::string isa;
    uint64_t last_decoded_end = ~0ull;

    // -accel tcg runs the JIT; -accel tcg,jit=off the interpreter.
    static bool accel_flag(const char *key, bool dflt) {
        const char *v = host().config_get(key);
        if (!v || !*v) return dflt;
        std::string s = v;
        return s == "on" || s == "yes" || s == "true";
    }
    void attach_jit() {
        if (!accel_flag("accel.jit", true)) return;
        rv::jit::Options o;
        if (const char *mb = host().config_get("accel.tb-size"); mb && *mb && std::stoull(mb) > 0)
            o.cache_bytes = static_cast<size_t>(std::stoull(mb)) << 20;
        if (accel_flag("accel.one-insn-per-tb", false)) o.max_insns = 1;
        o.perfmap = accel_flag("perfmap", false);
        o.jitdump = accel_flag("jitdump", false);
        o.chain = !ts::log_enabled(TS_LOG_NOCHAIN);
        if (ts::log_enabled(TS_LOG_OUT_ASM))
            o.out_asm = [](std::string_view text) {
                host().log(TS_LOG_OUT_ASM, "%.*s", static_cast<int>(text.size()), text.data());
            };
        jit = std::make_unique<rv::jit::Jit>(*hart, std::move(o));
        hart->check_interval_ = 1 << 16;   // generated code sees check_ at every block entry
    }

    void realize() {
        rv::Config cfg;
        cfg.xlen = xlen_;
        for (const ExtProp &p : kExtProps) {
            int v = 1;
            if (host().prop_get_bool(obj, p.name, &v) == TS_OK) cfg.ext.*p.field = v != 0;
        }
        if (!cfg.ext.f) cfg.ext.d = false;
        if (!cfg.ext.s) cfg.ext.sstc = cfg.ext.svpbmt = cfg.ext.svadu = false;
        uint64_t u = 0;
        if (host().prop_get_uint(obj, "resetvec", &u) == TS_OK) cfg.resetvec = u;
        if (host().prop_get_uint(obj, "hartid", &u) == TS_OK) cfg.hartid = u;
        cfg.max_satp_mode = xlen_ == 32 ? 1 : 10;
        as_ = host().system_as();
        hart = std::make_unique<rv::Hart>(*this, cfg);
        g_realized_harts.fetch_add(1);
        hart->machine_harts_ = &g_realized_harts;
        hart->hook_opaque = this;
        hart->on_trap = log_trap;
        hart->on_decode = log_decode;
        hart->on_check = drain_invalidations;
        hart->on_block = log_block;
        attach_jit();
        isa = build_isa_string(cfg);
        sstc_timer_ = host().timer_new(TS_CLOCK_VIRTUAL, sstc_fire, this);
        if (host().gpio_in_init(obj, TS_RISCV_CPU_IRQ_GROUP, 12, irq_in, this) != TS_OK)
            throw ts::Error("cannot create the irq inputs");
        host().ram_write_listen(ram_written, this);
    }

    // ---- rv::Bus ----
    bool lookup(uint64_t pa, rv::RamRange &out) override {
        const uint64_t gen = *host().map_generation;
        if (gen != range_gen_ || pa < range_.start || pa - range_.start >= range_.length) {
            ts_flat_range fr{};
            fr.size = sizeof fr;
            if (host().as_lookup(as_, pa, &fr) != TS_OK) return false;
            if (fr.kind != TS_REGION_RAM && fr.kind != TS_REGION_ROM) return false;
            if (!fr.host) return false;
            range_ = fr;
            range_gen_ = gen;
        }
        out = {range_.host, range_.start, range_.length,
               range_.kind == TS_REGION_RAM && range_.writable != 0};
        return true;
    }
    bool read(uint64_t pa, unsigned size, uint64_t &val) override {
        val = 0;
        return host().as_rw(as_, pa, &val, size, 0) == TS_MEMTX_OK;
    }
    bool write(uint64_t pa, unsigned size, uint64_t val) override {
        return host().as_rw(as_, pa, &val, size, 1) == TS_MEMTX_OK;
    }
    uint64_t time() override {
        if (read_time_) return read_time_(time_opaque_);
        return static_cast<uint64_t>(host().clock_ns(TS_CLOCK_VIRTUAL)) / 100;   // 10 MHz
    }
    void arm_timer(uint64_t deadline) override {
        auto arm = [&] {
            if (deadline == ~0ull) {
                host().timer_del(sstc_timer_);
                return;
            }
            uint64_t now = time();
            int64_t now_ns = host().clock_ns(TS_CLOCK_VIRTUAL);
            uint64_t delta = deadline > now ? deadline - now : 0;
            long double ns = static_cast<long double>(delta) * 1e9L / static_cast<long double>(hz_);
            int64_t when = ns > 9e18L ? INT64_MAX : now_ns + static_cast<int64_t>(ns);
            host().timer_mod(sstc_timer_, when);
        };
        if (t_in_vcpu) {
            host().lock();
            arm();
            host().unlock();
        } else {
            arm();
        }
    }
    uint64_t generation() override { return *host().map_generation; }

    size_t dump(char *buf, size_t len);

    void set_time_source(uint64_t (*rt)(void *), void *opaque, uint64_t hz) {
        read_time_ = rt;
        time_opaque_ = opaque;
        hz_ = hz ? hz : 10'000'000;
    }

private:
    static std::string build_isa_string(const rv::Config &cfg) {
        std::string s = cfg.xlen == 32 ? "rv32i" : "rv64i";
        const rv::Extensions &e = cfg.ext;
        if (e.m) s += 'm';
        if (e.a) s += 'a';
#ifdef RV_HAVE_FPU
        if (e.f) s += 'f';
        if (e.f && e.d) s += 'd';
#endif
        if (e.c) s += 'c';
        const std::pair<bool, const char *> multi[] = {
            {e.zicbom, "zicbom"}, {e.zicbop, "zicbop"}, {e.zicboz, "zicboz"}, {e.zicntr, "zicntr"},
            {e.zicond, "zicond"}, {e.zicsr, "zicsr"}, {e.zifencei, "zifencei"},
            {e.zihintpause, "zihintpause"}, {e.zihpm, "zihpm"}, {e.zba, "zba"}, {e.zbb, "zbb"},
            {e.zbc, "zbc"}, {e.zbs, "zbs"}, {e.sstc, "sstc"}, {e.svadu, "svadu"}, {e.svpbmt, "svpbmt"},
        };
        for (auto &[on, name] : multi)
            if (on) s += std::string("_") + name;
        return s;
    }

    static void irq_in(void *opaque, int line, int level) {
        auto *c = static_cast<RiscvCpu *>(opaque);
        if (line < 0 || line >= 12 || !c->hart) return;
        c->hart->set_irq_line(line, level != 0);
        if (level) host().cpu_wake(c->obj);
    }
    static void sstc_fire(void *opaque) {
        auto *c = static_cast<RiscvCpu *>(opaque);
        c->hart->request_check();
        host().cpu_wake(c->obj);
    }
    static void ram_written(void *opaque, uint64_t gpa, uint64_t len) {
        auto *c = static_cast<RiscvCpu *>(opaque);
        {
            std::lock_guard lk(c->inval_mu_);
            c->inval_.emplace_back(gpa, len);
            c->inval_pending_.store(true, std::memory_order_release);
        }
        if (c->hart) c->hart->request_check();
    }
    static void drain_invalidations(void *opaque, rv::Hart &h) {
        auto *c = static_cast<RiscvCpu *>(opaque);
        if (!c->inval_pending_.load(std::memory_order_acquire)) return;   // the usual case: no lock
        std::vector<std::pair<uint64_t, uint64_t>> todo;
        {
            std::lock_guard lk(c->inval_mu_);
            todo.swap(c->inval_);
            c->inval_pending_.store(false, std::memory_order_relaxed);
        }
        for (auto &[pa, len] : todo) h.invalidate_code(pa, len);
    }

    static const char *trap_name(uint64_t cause, bool async) {
        static const char *const exc[] = {
            "misaligned_fetch", "fault_fetch", "illegal_instruction", "breakpoint", "misaligned_load",
            "fault_load", "misaligned_store", "fault_store", "user_ecall", "supervisor_ecall",
            "hypervisor_ecall", "machine_ecall", "exec_page_fault", "load_page_fault", "reserved",
            "store_page_fault"};
        static const char *const irq[] = {"u_software", "s_software", "vs_software", "m_software",
                                          "u_timer",    "s_timer",    "vs_timer",    "m_timer",
                                          "u_external", "s_external", "vs_external", "m_external"};
        if (async) return cause < std::size(irq) ? irq[cause] : "(unknown)";
        return cause < std::size(exc) ? exc[cause] : "(unknown)";
    }
    static void log_trap(void *, const rv::Hart &h, uint64_t cause, uint64_t tval, bool async, uint64_t epc) {
        if (!ts::log_enabled(TS_LOG_INT)) return;
        if (h.cfg.xlen == 32)
            host().log(TS_LOG_INT,
                       "riscv_cpu_do_interrupt: hart:%" PRIu64 ", async:%d, cause:%08" PRIx64
                       ", epc:0x%08" PRIx64 ", tval:0x%08" PRIx64 ", desc=%s\n",
                       h.s.mhartid, async, cause, epc, tval, trap_name(cause, async));
        else
            host().log(TS_LOG_INT,
                       "riscv_cpu_do_interrupt: hart:%" PRIu64 ", async:%d, cause:%016" PRIx64
                       ", epc:0x%016" PRIx64 ", tval:0x%016" PRIx64 ", desc=%s\n",
                       h.s.mhartid, async, cause, epc, tval, trap_name(cause, async));
    }
    // -d exec: one "Trace" line per straight-line run; -d cpu: the register dump.
    // -dfilter: the kernel says which pcs are wanted (hosts before 1.0's
    // final table did not have the call: then everything is).
    static bool pc_wanted(uint64_t pc) {
        const ts_host &hst = host();
        if (hst.size < offsetof(ts_host, log_addr_enabled) + sizeof(hst.log_addr_enabled)) return true;
        return hst.log_addr_enabled(pc) != 0;
    }

    static void log_block(void *opaque, rv::Hart &h, uint64_t pc) {
        auto *c = static_cast<RiscvCpu *>(opaque);
        if (!pc_wanted(pc)) return;
        if (ts::log_enabled(TS_LOG_CPU)) {
            std::string dump(4096, '\0');
            size_t n = c->dump(dump.data(), dump.size());
            dump.resize(std::min(n, dump.size()) ? std::min(n, dump.size()) - 1 : 0);
            host().log(TS_LOG_CPU, "%s", dump.c_str());
        }
        if (ts::log_enabled(TS_LOG_EXEC))
            host().log(TS_LOG_EXEC, "Trace %" PRIu64 ": 0x0 [%016" PRIx64 "/%016" PRIx64 "/%08x/00000000] \n",
                       h.cfg.hartid, uint64_t(0), pc, unsigned(h.s.priv));
    }

    // The reference's -d in_asm layout: a header per run of new code, then
    // address, encoding, mnemonic padded to 24 columns, operands.
    static void log_decode(void *opaque, const rv::Hart &h, uint64_t pc, const rv::Insn &in) {
        if (!ts::log_enabled(TS_LOG_IN_ASM) || !pc_wanted(pc)) return;
        auto *c = static_cast<RiscvCpu *>(opaque);
        if (pc != c->last_decoded_end)
            host().log(TS_LOG_IN_ASM, "----------------\nIN: \nPriv: %u; Virt: 0\n", h.s.priv);
        c->last_decoded_end = pc + in.len;
        std::string text = rv::disassemble(h, pc, in.raw, 4);
        size_t sp = text.find(' ');
        std::string mnem = text.substr(0, sp), ops = sp == std::string::npos ? "" : text.substr(sp + 1);
        char enc[24];
        if (in.len == 2) {
            uint16_t half = 0;
            const_cast<rv::Hart &>(h).debug_read(pc, &half, 2);
            std::snprintf(enc, sizeof enc, "%04x              ", half);
        } else {
            std::snprintf(enc, sizeof enc, "%08x          ", in.raw);
        }
        host().log(TS_LOG_IN_ASM, "0x%016" PRIx64 ":  %s%-24s%s\n", pc, enc, mnem.c_str(), ops.c_str());
    }

    unsigned xlen_;
    ts_address_space *as_ = nullptr;
    ts_flat_range range_{};
    uint64_t range_gen_ = ~0ull;
    ts_timer *sstc_timer_ = nullptr;
    uint64_t (*read_time_)(void *) = nullptr;
    void *time_opaque_ = nullptr;
    uint64_t hz_ = 10'000'000;
    std::mutex inval_mu_;
    std::vector<std::pair<uint64_t, uint64_t>> inval_;
    std::atomic<bool> inval_pending_{false};
};

RiscvCpu *self(void *p) { return static_cast<RiscvCpu *>(p); }

// ---- state declaration ----------------------------------------------------------

#define F64(name) {#name, TS_STATE_U64, offsetof(rv::CpuState, name), 0}
#define F8(name) {#name, TS_STATE_U8, offsetof(rv::CpuState, name), 0}
const ts_state_field kStateFields[] = {
    {"x", TS_STATE_U64, offsetof(rv::CpuState, x), 32},
    {"f", TS_STATE_U64, offsetof(rv::CpuState, f), 32},
    F64(pc), F8(priv), F8(fflags), F8(frm), F8(waiting), F8(lr_valid), F64(lr_addr), F64(lr_val),
    F64(mstatus), F64(misa), F64(medeleg), F64(mideleg), F64(mie), F64(mip), F64(mtvec),
    F64(mcounteren), F64(menvcfg), F64(mscratch), F64(mepc), F64(mcause), F64(mtval),
    F64(mcountinhibit), F64(mhartid), F64(instret), F64(cycle_offset),
    {"mhpmevent", TS_STATE_U64, offsetof(rv::CpuState, mhpmevent), 32},
    {"pmpcfg", TS_STATE_BYTES, offsetof(rv::CpuState, pmpcfg), 16},
    {"pmpaddr", TS_STATE_U64, offsetof(rv::CpuState, pmpaddr), 16},
    F64(stvec), F64(scounteren), F64(senvcfg), F64(sscratch), F64(sepc), F64(scause), F64(stval),
    F64(satp), F64(stimecmp), F64(tselect),
};
#undef F64
#undef F8

ts_status state_post_load(void *p, ts_error *) {
    if (!self(p)->hart) return TS_OK;
    rv::Hart &h = *self(p)->hart;
    h.flush_tlb();
    h.flush_code();
    h.arm_timer_from_state();
    return TS_OK;
}

const ts_state_decl kState = {sizeof(ts_state_decl), "riscv-cpu", 1,
                              sizeof(kStateFields) / sizeof(kStateFields[0]), kStateFields, nullptr,
                              state_post_load};

// ---- gdb ----

std::string gdb_target_xml(const rv::Hart &h) {
    const unsigned xl = h.cfg.xlen;
    const char *xt = "int";
    std::string s = "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n<target>\n";
    s += xl == 32 ? "<architecture>riscv:rv32</architecture>\n" : "<architecture>riscv:rv64</architecture>\n";
    static const char *const xnames[32] = {"zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "fp", "s1", "a0",
                                           "a1", "a2", "a3", "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5",
                                           "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6"};
    s += "<feature name=\"org.gnu.gdb.riscv.cpu\">\n";
    for (int i = 0; i < 32; ++i) {
        const char *type = i == 1 ? "code_ptr" : i == 2 || i == 8 ? "data_ptr" : xt;
        s += "<reg name=\"" + std::string(xnames[i]) + "\" bitsize=\"" + std::to_string(xl) +
             "\" type=\"" + type + "\" regnum=\"" + std::to_string(i) + "\"/>\n";
    }
    s += "<reg name=\"pc\" bitsize=\"" + std::to_string(xl) + "\" type=\"code_ptr\" regnum=\"32\"/>\n";
    s += "</feature>\n";
    if (h.ext_f()) {
        const unsigned fl = h.ext_d() ? 64 : 32;
        s += "<feature name=\"org.gnu.gdb.riscv.fpu\">\n";
        for (int i = 0; i < 32; ++i)
            s += "<reg name=\"f" + std::to_string(i) + "\" bitsize=\"" + std::to_string(fl) + "\" type=\"" +
                 (fl == 64 ? "ieee_double" : "ieee_single") + "\" regnum=\"" + std::to_string(33 + i) + "\"/>\n";
        for (unsigned c = 1; c <= 3; ++c)
            s += "<reg name=\"" + std::string(rv::csr_name(c)) + "\" bitsize=\"32\" type=\"int\" regnum=\"" +
                 std::to_string(65 + c) + "\" group=\"float\"/>\n";
        s += "</feature>\n";
    }
    s += "<feature name=\"org.gnu.gdb.riscv.csr\">\n";
    for (unsigned c = 0x100; c < 4096; ++c) {
        if (!rv::csr_present(h, c)) continue;
        s += "<reg name=\"" + std::string(rv::csr_name(c)) + "\" bitsize=\"" + std::to_string(xl) +
             "\" regnum=\"" + std::to_string(65 + c) + "\"/>\n";
    }
    s += "</feature>\n<feature name=\"org.gnu.gdb.riscv.virtual\">\n";
    s += "<reg name=\"priv\" bitsize=\"" + std::to_string(xl) + "\" regnum=\"" + std::to_string(65 + 4096) + "\"/>\n";
    s += "</feature>\n</target>\n";
    return s;
}

size_t put_reg(uint8_t *buf, size_t len, uint64_t v, unsigned bytes) {
    if (len < bytes) return 0;
    std::memcpy(buf, &v, bytes);
    return bytes;
}

// ---- capabilities ----

const ts_riscv_timer_v1 kTimerCap = {
    sizeof(ts_riscv_timer_v1),
    [](void *cpu, uint64_t (*rt)(void *), void *opaque, uint64_t hz) { self(cpu)->set_time_source(rt, opaque, hz); },
};

const ts_riscv_info_v1 kInfoCap = {
    sizeof(ts_riscv_info_v1),
    [](void *cpu) -> const char * { return self(cpu)->isa.c_str(); },
    [](void *cpu) -> const char * {
        const rv::Config &c = self(cpu)->hart->cfg;
        if (!c.ext.s) return nullptr;
        if (c.xlen == 32) return "riscv,sv32";
        return c.max_satp_mode >= 10 ? "riscv,sv57" : c.max_satp_mode == 9 ? "riscv,sv48" : "riscv,sv39";
    },
    [](void *cpu) -> uint32_t { return self(cpu)->hart->cfg.xlen; },
    [](void *cpu) -> uint64_t { return self(cpu)->hart->cfg.hartid; },
};

// The core's debug enums share the gdb/debug.h numbering.
static_assert(static_cast<int>(rv::DebugPoint::WatchAccess) == TS_DEBUG_WATCH_ACCESS &&
              static_cast<int>(rv::DebugPoint::HwBreak) == TS_DEBUG_HW_BREAK &&
              static_cast<int>(rv::StopReason::Step) == TS_DEBUG_STOP_STEP &&
              static_cast<int>(rv::StopReason::Watch) == TS_DEBUG_STOP_WATCH);

const ts_cpu_debug_ops kDebugCap = {
    sizeof(ts_cpu_debug_ops),
    [](void *cpu, ts_debug_point type, uint64_t addr, uint64_t len, ts_error *err) -> ts_status {
        if (self(cpu)->hart->debug_insert(static_cast<rv::DebugPoint>(type), addr, len)) return TS_OK;
        ts::set_error(err, "riscv: unsupported breakpoint/watchpoint type " + std::to_string(int(type)));
        return TS_ERROR;
    },
    [](void *cpu, ts_debug_point type, uint64_t addr, uint64_t len) -> ts_status {
        return self(cpu)->hart->debug_remove(static_cast<rv::DebugPoint>(type), addr, len) ? TS_OK : TS_ERROR;
    },
    [](void *cpu) { self(cpu)->hart->debug_remove_all(); },
    [](void *cpu, int on) { self(cpu)->hart->set_single_step(on != 0); },
    [](void *cpu, ts_debug_stop *out) {
        const rv::DebugStop &st = self(cpu)->hart->last_stop();
        *out = ts_debug_stop{sizeof(ts_debug_stop), static_cast<ts_debug_reason>(st.reason),
                             static_cast<ts_debug_point>(st.point), st.addr};
    },
};

// ---- class callbacks ----

template <unsigned XLEN> void *cpu_create(ts_object *obj, ts_error *err) {
    RiscvCpu *c = nullptr;
    ts::guarded(err, [&] { c = new RiscvCpu(obj, XLEN); });   // owned by the kernel until destroy
    return c;
}

ts_status cpu_realize(void *p, ts_error *err) {
    return ts::guarded(err, [&] { self(p)->realize(); });
}

void cpu_reset(void *p) {
    if (self(p)->hart) self(p)->hart->reset();
}

void cpu_destroy(void *p) {
    rvplugin::instrument_forget(p);
    std::unique_ptr<RiscvCpu> owned(self(p));
}

void *cpu_state_base(void *p) {
    // Before realize there is no hart yet: hand out a scratch state.
    static thread_local rv::CpuState unrealized{};
    return self(p)->hart ? static_cast<void *>(&self(p)->hart->s) : &unrealized;
}

ts_cpu_exit cpu_run(void *p, uint64_t budget, uint64_t *executed) {
    rv::Hart &h = *self(p)->hart;
    t_in_vcpu = true;
    h.trace_blocks = ts::log_enabled(TS_LOG_EXEC | TS_LOG_CPU);
    rv::Exit e = rv::Exit::Budget;
    if (h.instr_) [[unlikely]] h.instr_->exec_begin();
    try {
        e = h.run(budget);
    } catch (const std::exception &ex) {
        host().error_report("riscv: %s", ex.what());
        t_in_vcpu = false;
        return TS_CPU_SHUTDOWN;
    }
    t_in_vcpu = false;
    if (executed) *executed = h.run_count();
    if (h.instr_) [[unlikely]] h.instr_->exec_end(e == rv::Exit::Halted);
    switch (e) {
    case rv::Exit::Halted: return TS_CPU_HALTED;
    case rv::Exit::Stop: return TS_CPU_SHUTDOWN;
    case rv::Exit::Debug: return TS_CPU_DEBUG;
    default: return TS_CPU_EXIT_REQUEST;
    }
}

ts_cpu_exit cpu_exec(void *p) { return cpu_run(p, 50'000'000, nullptr); }

// -icount: the kernel's executor runs each hart for a counted budget.
const ts_cpu_icount_ops kIcountCap = {sizeof(ts_cpu_icount_ops), cpu_run};

void cpu_kick(void *p) { self(p)->hart->kick(); }
int cpu_has_work(void *p) { return self(p)->hart->has_work() ? 1 : 0; }
uint64_t cpu_get_pc(void *p) { return self(p)->hart->s.pc; }
void cpu_set_pc(void *p, uint64_t pc) { self(p)->hart->s.pc = pc & self(p)->hart->xmask(); }

ts_status cpu_translate(void *p, uint64_t va, ts_access acc, uint64_t *pa) {
    rv::Access a = acc == TS_ACCESS_WRITE ? rv::Access::Write
                   : acc == TS_ACCESS_FETCH ? rv::Access::Fetch
                                            : rv::Access::Read;
    return self(p)->hart->debug_translate(va, a, *pa) ? TS_OK : TS_ERROR;
}

size_t cpu_dump_state(void *p, char *buf, size_t len) { return self(p)->dump(buf, len); }

size_t RiscvCpu::dump(char *buf, size_t len) {
    rv::Hart &h = *hart;
    static const char *const xnames[32] = {"zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0",
                                           "a1", "a2", "a3", "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5",
                                           "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6"};
    const int w = h.cfg.xlen == 32 ? 8 : 16;
    std::string out;
    char line[160];
    auto row = [&](const char *name, uint64_t v) {
        std::snprintf(line, sizeof line, " %-8s %0*" PRIx64 "\n", name, w, v);
        out += line;
    };
    row("pc", h.s.pc);
    static const unsigned csrs[] = {0xf14, 0x300, 0x344, 0x304, 0x303, 0x302, 0x305, 0x105, 0x341,
                                    0x141, 0x342, 0x142, 0x343, 0x143, 0x340, 0x140, 0x180};
    for (unsigned c : csrs) {
        uint64_t v = 0;
        if (rv::csr_debug_read(h, c, v)) row(rv::csr_name(c), v);
    }
    // Same layout as the reference: " %-8s value", four per line.
    char name[16];
    for (int i = 0; i < 32; ++i) {
        std::snprintf(name, sizeof name, "x%d/%s", i, xnames[i]);
        std::snprintf(line, sizeof line, " %-8s %0*" PRIx64 "%s", name, w, h.s.x[i], (i % 4) == 3 ? "\n" : "");
        out += line;
    }
    if (h.ext_f()) {
        static const char *const fn[32] = {"ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7",
                                           "fs0", "fs1", "fa0", "fa1", "fa2", "fa3", "fa4", "fa5",
                                           "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7",
                                           "fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11"};
        for (int i = 0; i < 32; ++i) {
            std::snprintf(name, sizeof name, "f%d/%s", i, fn[i]);
            std::snprintf(line, sizeof line, " %-8s %016" PRIx64 "%s", name, h.s.f[i], (i % 4) == 3 ? "\n" : "");
            out += line;
        }
    }
    if (len == 0) return out.size() + 1;
    size_t n = std::min(out.size(), len - 1);
    std::memcpy(buf, out.data(), n);
    buf[n] = '\0';
    return out.size() + 1;
}

size_t cpu_disas(void *p, uint64_t pc, const uint8_t *bytes, size_t avail, char *out, size_t outlen) {
    if (avail < 2 || !outlen) return 0;
    uint32_t raw = bytes[0] | (uint32_t(bytes[1]) << 8);
    unsigned len = 2;
    if ((raw & 3) == 3) {
        if (avail < 4) return 0;
        raw |= (uint32_t(bytes[2]) << 16) | (uint32_t(bytes[3]) << 24);
        len = 4;
    }
    std::string text = rv::disassemble(*self(p)->hart, pc, raw, len);
    std::snprintf(out, outlen, "%s", text.c_str());
    return len;
}

const char *cpu_gdb_xml(void *p, const char *annex) {
    RiscvCpu *c = self(p);
    if (!annex || std::strcmp(annex, "target.xml") != 0) return nullptr;
    static thread_local std::string xml;
    xml = gdb_target_xml(*c->hart);
    return xml.c_str();
}

size_t cpu_gdb_read_reg(void *p, int regno, uint8_t *buf, size_t len) {
    rv::Hart &h = *self(p)->hart;
    const unsigned xb = h.cfg.xlen / 8;
    if (regno >= 0 && regno < 32) return put_reg(buf, len, h.s.x[regno], xb);
    if (regno == 32) return put_reg(buf, len, h.s.pc, xb);
    if (regno >= 33 && regno < 65) {
        if (!h.ext_f()) return 0;
        return put_reg(buf, len, h.s.f[regno - 33], h.ext_d() ? 8 : 4);
    }
    if (regno == 65 + 4096) return put_reg(buf, len, h.s.priv, xb);
    if (regno >= 65 && regno < 65 + 4096) {
        uint64_t v;
        if (!rv::csr_debug_read(h, regno - 65, v)) return 0;
        return put_reg(buf, len, v, (regno - 65) <= 3 ? 4 : xb);
    }
    return 0;
}

size_t cpu_gdb_write_reg(void *p, int regno, const uint8_t *buf, size_t len) {
    rv::Hart &h = *self(p)->hart;
    const unsigned xb = h.cfg.xlen / 8;
    uint64_t v = 0;
    auto get = [&](unsigned bytes) -> bool {
        if (len < bytes) return false;
        std::memcpy(&v, buf, bytes);
        return true;
    };
    if (regno >= 0 && regno < 32) {
        if (!get(xb)) return 0;
        if (regno) h.s.x[regno] = v;
        return xb;
    }
    if (regno == 32) {
        if (!get(xb)) return 0;
        h.s.pc = v;
        return xb;
    }
    if (regno >= 33 && regno < 65 && h.ext_f()) {
        unsigned b = h.ext_d() ? 8 : 4;
        if (!get(b)) return 0;
        h.s.f[regno - 33] = b == 4 ? (0xffffffff00000000ull | v) : v;
        return b;
    }
    if (regno == 65 + 4096) {
        if (!get(xb)) return 0;
        if (v == rv::PRV_U || v == rv::PRV_S || v == rv::PRV_M) h.s.priv = static_cast<uint8_t>(v);
        h.flush_tlb();
        return xb;
    }
    if (regno >= 65 && regno < 65 + 4096) {
        unsigned b = (regno - 65) <= 3 ? 4 : xb;
        if (!get(b)) return 0;
        return rv::csr_debug_write(h, regno - 65, v) ? b : 0;
    }
    return 0;
}

// info mem / info tlb: the page tables of the current satp.
const ts_cpu_info_ops kCpuInfoCap = {
    sizeof(ts_cpu_info_ops),
    [](void *cpu, const char *name, void (*emit)(void *, const char *), void *opaque) -> ts_status {
        const std::string_view n = name;
        if (n != "mem" && n != "tlb") return TS_ERROR;
        ts_error err{};
        std::string text;
        if (ts::guarded(&err, [&] { text = rv::dump_page_tables(*self(cpu)->hart, n == "mem"); }) != TS_OK) {
            text = std::string("error: ") + err.message + "\n";
        }
        emit(opaque, text.c_str());
        return TS_OK;
    },
};

const void *cpu_get_capability(void *, const char *id) {
    if (std::strcmp(id, TS_CPU_INFO_V1) == 0) return &kCpuInfoCap;
    if (std::strcmp(id, TS_RISCV_TIMER_V1) == 0) return &kTimerCap;
    if (std::strcmp(id, TS_RISCV_INFO_V1) == 0) return &kInfoCap;
    if (std::strcmp(id, TS_DEBUG_V1) == 0) return &kDebugCap;
    if (std::strcmp(id, TS_INSTRUMENT_V1) == 0) return rvplugin::instrument_ops();
    if (std::strcmp(id, TS_CPU_ICOUNT_V1) == 0) return &kIcountCap;
    return nullptr;
}

template <unsigned XLEN> constexpr ts_cpu_class make_class(const char *target, const char *desc) {
    return ts_cpu_class{
        sizeof(ts_cpu_class),
        ts_object_class{sizeof(ts_object_class), kProps.decl, static_cast<uint32_t>(kNumExt + 2), &kState,
                        cpu_create<XLEN>, cpu_realize, cpu_reset, cpu_destroy, cpu_state_base},
        target,
        desc,
        cpu_exec,
        cpu_kick,
        cpu_has_work,
        cpu_get_pc,
        cpu_set_pc,
        cpu_translate,
        cpu_dump_state,
        cpu_disas,
        cpu_gdb_xml,
        cpu_gdb_read_reg,
        cpu_gdb_write_reg,
        cpu_get_capability,
    };
}

const ts_cpu_class kRv64 = make_class<64>("riscv64", "RISC-V 64-bit generic CPU");
const ts_cpu_class kRv32 = make_class<32>("riscv32", "RISC-V 32-bit generic CPU");
const ts_cpu_class kMax = make_class<64>("riscv64", "RISC-V 64-bit CPU with all supported extensions");

const void *get_class(const char *name) {
    std::string_view n = name;
    if (n == "rv64") return &kRv64;
    if (n == "rv32") return &kRv32;
    if (n == "max") return &kMax;
    // Target types carry no class of their own; hand back a size-only stub.
    static const uint32_t kTargetStub = sizeof(uint32_t);
    if (n == "riscv64" || n == "riscv32") return &kTargetStub;
    return nullptr;
}

}  // namespace

rv::Hart &rvplugin::hart_of(void *cpu) { return *self(cpu)->hart; }

TESSERA_PLUGIN("riscv", "0.1.0",
               "type target riscv64 - - RISC-V 64-bit\n"
               "type target riscv32 - - RISC-V 32-bit\n"
               "type cpu rv64 - - RISC-V 64-bit generic CPU\n"
               "type cpu rv32 - - RISC-V 32-bit generic CPU\n"
               "type cpu max - - RISC-V 64-bit CPU with all supported extensions\n",
               get_class);
