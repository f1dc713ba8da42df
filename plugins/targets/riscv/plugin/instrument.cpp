// tessera.instrument.v1 for the RISC-V CPUs. The core's structures mirror the
// C ones field for field (checked below), so plans and descriptions pass
// through unchanged.
#include "instrument.hpp"

#include "hart.hpp"
#include "../core/instrument.hpp"

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>

namespace rvplugin {

namespace {

static_assert(sizeof(rv::InstrInsn) == sizeof(ts_instr_insn) &&
              offsetof(rv::InstrInsn, paddr) == offsetof(ts_instr_insn, paddr) &&
              offsetof(rv::InstrInsn, haddr) == offsetof(ts_instr_insn, haddr) &&
              offsetof(rv::InstrInsn, len) == offsetof(ts_instr_insn, len) &&
              offsetof(rv::InstrInsn, bytes) == offsetof(ts_instr_insn, bytes));
static_assert(sizeof(rv::InstrPlan) == sizeof(ts_instr_plan) &&
              offsetof(rv::InstrPlan, insn_flags) == offsetof(ts_instr_plan, insn_flags));
static_assert(sizeof(rv::InstrMem) == sizeof(ts_instr_mem) &&
              offsetof(rv::InstrMem, size_shift) == offsetof(ts_instr_mem, size_shift) &&
              offsetof(rv::InstrMem, sign_extended) == offsetof(ts_instr_mem, sign_extended));
static_assert(rv::kInstrExec == TS_INSTR_EXEC && rv::kInstrMem == TS_INSTR_MEM);

// One attached CPU: the kernel's hooks and context, and the core's loop.
struct Attached {
    const ts_instr_hooks *k;
    void *kctx;
    std::unique_ptr<rv::Instrumenter> instr;
};

// Never destroyed: CPUs may be destroyed by the kernel's own static
// destructors, after this library's would have run.
std::mutex &g_mu = *new std::mutex;
std::map<void *, std::unique_ptr<Attached>> &g_attached = *new std::map<void *, std::unique_ptr<Attached>>;

const ts_instr_plan *as_c(const rv::InstrPlan *p) { return reinterpret_cast<const ts_instr_plan *>(p); }
Attached &att(void *ctx) { return *static_cast<Attached *>(ctx); }

rv::InstrHooks core_hooks(Attached &a) {
    rv::InstrHooks h;
    h.ctx = &a;
    h.translate = [](void *c, uint64_t vaddr, const rv::InstrInsn *insns, uint32_t n) -> const rv::InstrPlan * {
        ts_instr_block b{sizeof(ts_instr_block), vaddr, n, reinterpret_cast<const ts_instr_insn *>(insns)};
        return reinterpret_cast<const rv::InstrPlan *>(att(c).k->translate(att(c).kctx, &b));
    };
    h.release = [](void *c, const rv::InstrPlan *p) { att(c).k->release(att(c).kctx, as_c(p)); };
    h.block_exec = [](void *c, const rv::InstrPlan *p) { att(c).k->block_exec(att(c).kctx, as_c(p)); };
    h.insn_exec = [](void *c, const rv::InstrPlan *p, uint32_t i) { att(c).k->insn_exec(att(c).kctx, as_c(p), i); };
    h.mem = [](void *c, const rv::InstrPlan *p, uint32_t i, const rv::InstrMem &m) {
        att(c).k->mem(att(c).kctx, as_c(p), i, reinterpret_cast<const ts_instr_mem *>(&m));
    };
    h.flushed = [](void *c) { if (att(c).k->flushed) att(c).k->flushed(att(c).kctx); };
    h.discon = [](void *c, unsigned type, uint64_t from, uint64_t to) {
        if (att(c).k->discon) att(c).k->discon(att(c).kctx, type, from, to);
    };
    h.idle = [](void *c) { if (att(c).k->idle) att(c).k->idle(att(c).kctx); };
    h.resume = [](void *c) { if (att(c).k->resume) att(c).k->resume(att(c).kctx); };
    h.flush_generation = a.k->flush_generation;
    return h;
}

void detach_locked(void *cpu) {
    auto it = g_attached.find(cpu);
    if (it == g_attached.end()) return;
    rv::Hart &h = hart_of(cpu);
    h.instr_ = nullptr;
    h.instr_nocache_ = false;
    h.instr_report_ = false;
    g_attached.erase(it);
}

void attach(void *cpu, const ts_instr_hooks *hooks, void *ctx) {
    std::lock_guard lk(g_mu);
    detach_locked(cpu);
    if (!hooks) return;
    auto a = std::make_unique<Attached>();
    a->k = hooks;
    a->kctx = ctx;
    rv::Hart &h = hart_of(cpu);
    a->instr = std::make_unique<rv::Instrumenter>(h, core_hooks(*a));
    h.instr_ = a->instr.get();
    h.instr_nocache_ = false;   // set by the first block with memory callbacks
    h.request_check();
    g_attached[cpu] = std::move(a);
}

ts_status read_vaddr(void *cpu, uint64_t va, void *buf, size_t len) {
    return hart_of(cpu).debug_read(va, buf, len) ? TS_OK : TS_ERROR;
}

ts_status write_vaddr(void *cpu, uint64_t va, const void *buf, size_t len) {
    rv::Hart &h = hart_of(cpu);
    const auto *in = static_cast<const uint8_t *>(buf);
    for (size_t i = 0; i < len; ++i) {
        uint64_t pa;
        if (!h.debug_translate(va + i, rv::Access::Write, pa)) return TS_ERROR;
        rv::RamRange rr;
        if (h.bus.lookup(pa, rr) && rr.writable) {
            rr.host[pa - rr.base] = in[i];
            h.note_store(pa, 1);
        } else if (!h.bus.write(pa, 1, in[i])) {
            return TS_ERROR;
        }
    }
    return TS_OK;
}

const ts_cpu_instrument_ops kOps = {sizeof(ts_cpu_instrument_ops), attach, read_vaddr, write_vaddr};

}  // namespace

const ts_cpu_instrument_ops *instrument_ops() { return &kOps; }

void instrument_forget(void *cpu) {
    std::lock_guard lk(g_mu);
    g_attached.erase(cpu);
}

}  // namespace rvplugin
