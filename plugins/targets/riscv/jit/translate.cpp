// Code generation: guest instructions -> x86-64 with xbyak.
//
// Register use inside generated code:
//   rbx = Hart*  (guest registers, pc, instret, TLB and check_ are rbx-relative)
//   r12 = the instruction budget (Ctx::left; the Ctx is reached rip-relative)
//   r13 r14 r15 rbp r10 r11 rdi r8 r9: up to nine guest registers cached for
//     the block (the caller-saved ones are reloaded after every call)
//   rax rcx rdx rsi scratch; xmm0/xmm1 for FP; rsp is 16-byte
//   aligned at helper calls.
// Guest registers live in Hart::s.x (x0 is always 0 there), so any
// instruction may be left to its interpreter handler. The block's most used
// registers are loaded into host registers after the prologue; modified ones
// are written back before any helper call and before every exit, and all are
// reloaded after a call that may have changed them.
//
// Instruction counting: a block subtracts its length from the budget on
// entry, which counts it as retired (instret = Ctx::base - left; helpers and
// the dispatcher materialize it); helpers that may trap or leave early get
// the not-yet-retired count ("excess") and correct instret themselves.
#include "jit.hpp"

#include "../core/isa/isa.hpp"

#include <xbyak/xbyak.h>
#include <xbyak/xbyak_util.h>

#include <cstdio>
#include <cstring>
#include <array>
#include <bit>
#include <deque>
#include <memory_resource>

namespace rv {
uint64_t load_slow_n(Hart &h, uint64_t va, unsigned size);
void store_slow_n(Hart &h, uint64_t va, unsigned size, uint64_t v);
}  // namespace rv

namespace rv::jit {

namespace {

// ---- How each decode-table line is translated ---------------------------------

enum class Kind : uint8_t {
    Fallback,   // interpreter handler through a trap-catching helper
    Pure,       // interpreter handler called directly: cannot trap, no control flow
    Lui, Auipc, Jal, Jalr, Branch, Load, Store,
    AluR, AluI, AluRW, AluIW, Mul, MulW, MulH, MulHU,
    // A: lr/sc and the common AMOs on host memory through the inline TLB
    // (locked host instructions); misses and misalignment: the handler.
    Lr, Sc, Amo,
    Fence,     // mfence where x86 would not keep the order (earlier writes, later reads)
    CboZero,   // 64 zero bytes through the inline TLB; disabled, misses: the handler
    // Native F/D (SSE, FMA3); `dbl` selects D. Anything unusual (unboxed or
    // NaN inputs giving NaN results, out-of-range conversions, rounding modes
    // other than RNE) goes to the interpreter's handler from a cold path.
    FLoad, FStore, FArith, FSqrt, FFma, FSgnj, FCmp, FMvXF, FMvFX, FCvtXF, FCvtFX, FCvtSD, FCvtDS,
    FMinMax,   // sub 0 min, 1 max
};
enum FArithOp : uint8_t { FADD, FSUB, FMUL, FDIV };
enum AmoOp : uint8_t { ASWAP, AADD, AXOR, AAND, AOR, AMIN, AMAX, AMINU, AMAXU };
enum FCmpOp : uint8_t { FEQ, FLT, FLE };
enum Alu : uint8_t { ADD, SUB, SLL, SLT, SLTU, XOR, SRL, SRA, OR, AND };
enum Cond : uint8_t { EQ, NE, LT, GE, LTU, GEU };

// After an instruction run by its handler (helper_fallback's `force`): go on;
// leave always; or leave only when it changed what blocks are translated for
// or assume: the privilege, mstatus beyond SUM/MXR/SIE/MIE (MPRV/MPP pick the
// mode key, FS is checked once per block), a TLB flush (satp, PMP: the
// jump-cache key), or when it requested a check (an interrupt enabled while
// one is pending, another hart's code seen by fence.i). An sfence.vma of the
// running block's own page always starts a new jump-cache generation (the
// page of any code running now has had a jump-cache entry in the current
// generation: entered through the dispatcher or the jump cache, or chained
// within the page), so it leaves too.
enum Leave : uint8_t { kGoOn, kLeaveAlways, kLeaveIfChanged };

struct OpInfo {
    Kind kind = Kind::Fallback;
    uint8_t sub = 0;      // Alu / Cond
    uint8_t size = 0;     // load/store bytes
    bool sign = false;    // sign-extending load
    bool dbl = false;     // FP: double precision
    bool ends = false;    // block ends after it (control flow, SYSTEM but CSRs and fences)
    // What helper_fallback does after it (Leave): go on, leave always
    // (SYSTEM instructions that change the mode or jump), or leave only when
    // it changed what the block depends on (CSR accesses, fence.i,
    // sfence.vma).
    uint8_t leave = 0;
};

struct NativeLine {
    const char *name;
    Kind kind;
    uint8_t sub = 0, size = 0;
    bool sign = false;
    bool dbl = false;
};

constexpr NativeLine kNative[] = {
    {"lui", Kind::Lui}, {"auipc", Kind::Auipc}, {"jal", Kind::Jal}, {"jalr", Kind::Jalr},
    {"fence", Kind::Fence}, {"cbo.zero", Kind::CboZero},
    {"beq", Kind::Branch, EQ}, {"bne", Kind::Branch, NE}, {"blt", Kind::Branch, LT},
    {"bge", Kind::Branch, GE}, {"bltu", Kind::Branch, LTU}, {"bgeu", Kind::Branch, GEU},
    {"lb", Kind::Load, 0, 1, true}, {"lh", Kind::Load, 0, 2, true}, {"lw", Kind::Load, 0, 4, true},
    {"ld", Kind::Load, 0, 8, true}, {"lbu", Kind::Load, 0, 1}, {"lhu", Kind::Load, 0, 2},
    {"lwu", Kind::Load, 0, 4},
    {"sb", Kind::Store, 0, 1}, {"sh", Kind::Store, 0, 2}, {"sw", Kind::Store, 0, 4}, {"sd", Kind::Store, 0, 8},
    {"add", Kind::AluR, ADD}, {"sub", Kind::AluR, SUB}, {"sll", Kind::AluR, SLL},
    {"slt", Kind::AluR, SLT}, {"sltu", Kind::AluR, SLTU}, {"xor", Kind::AluR, XOR},
    {"srl", Kind::AluR, SRL}, {"sra", Kind::AluR, SRA}, {"or", Kind::AluR, OR}, {"and", Kind::AluR, AND},
    {"addi", Kind::AluI, ADD}, {"slti", Kind::AluI, SLT}, {"sltiu", Kind::AluI, SLTU},
    {"xori", Kind::AluI, XOR}, {"ori", Kind::AluI, OR}, {"andi", Kind::AluI, AND},
    {"slli", Kind::AluI, SLL}, {"srli", Kind::AluI, SRL}, {"srai", Kind::AluI, SRA},
    {"addw", Kind::AluRW, ADD}, {"subw", Kind::AluRW, SUB}, {"sllw", Kind::AluRW, SLL},
    {"srlw", Kind::AluRW, SRL}, {"sraw", Kind::AluRW, SRA},
    {"addiw", Kind::AluIW, ADD}, {"slliw", Kind::AluIW, SLL}, {"srliw", Kind::AluIW, SRL},
    {"sraiw", Kind::AluIW, SRA},
    {"mul", Kind::Mul}, {"mulw", Kind::MulW}, {"mulh", Kind::MulH}, {"mulhu", Kind::MulHU},
    {"lr.w", Kind::Lr, 0, 4}, {"lr.d", Kind::Lr, 0, 8}, {"sc.w", Kind::Sc, 0, 4}, {"sc.d", Kind::Sc, 0, 8},
    {"amoswap.w", Kind::Amo, ASWAP, 4}, {"amoswap.d", Kind::Amo, ASWAP, 8},
    {"amoadd.w", Kind::Amo, AADD, 4}, {"amoadd.d", Kind::Amo, AADD, 8},
    {"amoxor.w", Kind::Amo, AXOR, 4}, {"amoxor.d", Kind::Amo, AXOR, 8},
    {"amoand.w", Kind::Amo, AAND, 4}, {"amoand.d", Kind::Amo, AAND, 8},
    {"amoor.w", Kind::Amo, AOR, 4}, {"amoor.d", Kind::Amo, AOR, 8},
    {"amomin.w", Kind::Amo, AMIN, 4}, {"amomin.d", Kind::Amo, AMIN, 8},
    {"amomax.w", Kind::Amo, AMAX, 4}, {"amomax.d", Kind::Amo, AMAX, 8},
    {"amominu.w", Kind::Amo, AMINU, 4}, {"amominu.d", Kind::Amo, AMINU, 8},
    {"amomaxu.w", Kind::Amo, AMAXU, 4}, {"amomaxu.d", Kind::Amo, AMAXU, 8},
    {"flw", Kind::FLoad, 0, 4}, {"fld", Kind::FLoad, 0, 8, false, true},
    {"fsw", Kind::FStore, 0, 4}, {"fsd", Kind::FStore, 0, 8, false, true},
#define FP_NATIVE(sfx, d)                                                                                   \
    {"fadd." sfx, Kind::FArith, FADD, 0, false, d}, {"fsub." sfx, Kind::FArith, FSUB, 0, false, d},         \
    {"fmul." sfx, Kind::FArith, FMUL, 0, false, d}, {"fdiv." sfx, Kind::FArith, FDIV, 0, false, d},         \
    {"fsqrt." sfx, Kind::FSqrt, 0, 0, false, d},                                                           \
    {"fmadd." sfx, Kind::FFma, 0, 0, false, d}, {"fmsub." sfx, Kind::FFma, 1, 0, false, d},                \
    {"fnmsub." sfx, Kind::FFma, 2, 0, false, d}, {"fnmadd." sfx, Kind::FFma, 3, 0, false, d},              \
    {"fsgnj." sfx, Kind::FSgnj, 0, 0, false, d}, {"fsgnjn." sfx, Kind::FSgnj, 1, 0, false, d},             \
    {"fsgnjx." sfx, Kind::FSgnj, 2, 0, false, d},                                                          \
    {"fmin." sfx, Kind::FMinMax, 0, 0, false, d}, {"fmax." sfx, Kind::FMinMax, 1, 0, false, d},            \
    {"feq." sfx, Kind::FCmp, FEQ, 0, false, d}, {"flt." sfx, Kind::FCmp, FLT, 0, false, d},                \
    {"fle." sfx, Kind::FCmp, FLE, 0, false, d},                                                            \
    {"fcvt.w." sfx, Kind::FCvtXF, 0, 0, false, d}, {"fcvt.wu." sfx, Kind::FCvtXF, 0, 0, false, d},         \
    {"fcvt.l." sfx, Kind::FCvtXF, 0, 0, false, d}, {"fcvt.lu." sfx, Kind::FCvtXF, 0, 0, false, d},         \
    {"fcvt." sfx ".w", Kind::FCvtFX, 0, 0, false, d}, {"fcvt." sfx ".wu", Kind::FCvtFX, 0, 0, false, d},   \
    {"fcvt." sfx ".l", Kind::FCvtFX, 0, 0, false, d}, {"fcvt." sfx ".lu", Kind::FCvtFX, 0, 0, false, d}
    FP_NATIVE("s", false), FP_NATIVE("d", true),
#undef FP_NATIVE
    {"fmv.x.w", Kind::FMvXF}, {"fmv.x.d", Kind::FMvXF, 0, 0, false, true},
    {"fmv.w.x", Kind::FMvFX}, {"fmv.d.x", Kind::FMvFX, 0, 0, false, true},
    {"fcvt.s.d", Kind::FCvtSD, 0, 0, false, true}, {"fcvt.d.s", Kind::FCvtDS, 0, 0, false, true},
};

// Extensions whose handlers only compute registers from registers.
bool pure_ext(Ext e) {
    return e == Ext::M || e == Ext::Zba || e == Ext::Zbb || e == Ext::Zbc || e == Ext::Zbs ||
           e == Ext::Zicond;
}

struct OpTable {
    std::vector<OpInfo> by_op[2];   // [0] RV32, [1] RV64
    OpTable() {
        auto ops = all_ops();
        for (auto &v : by_op) v.resize(ops.size());
        for (size_t i = 0; i < ops.size(); ++i) {
            const OpDesc &d = *ops[i];
            OpInfo base;
            std::string_view name = d.name;
            bool system = (d.match & 0x7f) == 0x73;
            bool cf = (d.match & 0x7f) == 0x63 || name == "jal" || name == "jalr";
            const bool goes_on = name.starts_with("csrr") || name == "fence.i" || name == "sfence.vma";
            base.ends = (system && !goes_on) || cf;
            base.leave = goes_on ? kLeaveIfChanged : system ? kLeaveAlways : kGoOn;
            if (pure_ext(d.ext) && !cf) base.kind = Kind::Pure;
            // RV32 decodes none of the RV64-only instructions: one table
            // serves both, the emitter minds XLEN.
            OpInfo o = base;
            for (const NativeLine &n : kNative) {
                if (name != n.name) continue;
                o.kind = n.kind;
                o.sub = n.sub;
                o.size = n.size;
                o.sign = n.sign;
                o.dbl = n.dbl;
            }
            by_op[0][i] = by_op[1][i] = o;
        }
    }
};

const OpInfo &op_info(const Insn &in, unsigned xlen) {
    static const OpTable t;
    static const OpInfo illegal{Kind::Fallback, 0, 0, false, true, true};
    if (in.op == kIllegalOp) return illegal;
    return t.by_op[xlen == 64][in.op];
}

// The integer registers an instruction's generated code reads from and
// fully defines in their host registers. Handler-run instructions read
// memory (written back first); afterwards a Fallback has reloaded every
// cached register and a Pure one its rd.
struct XOperands {
    uint32_t reads = 0, writes = 0;
};
// RV64's W forms: 32-bit operations whose results are sign-extended.
bool w_form(Kind k) { return k == Kind::AluRW || k == Kind::AluIW || k == Kind::MulW; }

XOperands x_operands(const Insn &in, const OpInfo &oi) {
    const uint32_t rs1 = 1u << in.rs1, rs2 = 1u << in.rs2, rd = 1u << in.rd;
    switch (oi.kind) {
    case Kind::Fallback: return {0, ~0u};
    case Kind::Pure: return {0, rd};
    case Kind::Lui: case Kind::Auipc: case Kind::Jal: return {0, rd};
    case Kind::Jalr: case Kind::Load: case Kind::AluI: case Kind::AluIW: case Kind::Lr: return {rs1, rd};
    case Kind::Branch: case Kind::Store: return {rs1 | rs2, 0};
    case Kind::AluR: case Kind::AluRW: case Kind::Mul: case Kind::MulW: case Kind::MulH: case Kind::MulHU:
    case Kind::Sc: case Kind::Amo: return {rs1 | rs2, rd};
    case Kind::Fence: return {};
    case Kind::CboZero: case Kind::FLoad: case Kind::FStore: case Kind::FMvFX: case Kind::FCvtFX: return {rs1, 0};
    case Kind::FMvXF: case Kind::FCvtXF: case Kind::FCmp: return {0, rd};
    default: return {};   // f registers only
    }
}

// ---- Helpers called from generated code. They never let an exception out:
// traps are entered here and reported as "leave the generated code" (1). ----

Jit &jit_of(Hart &h) { return *static_cast<Jit *>(h.engine_); }

// instret is exact inside a helper and the budget-derived base follows any
// change the helper makes (a CSR write to minstret, a trap's corrections).
struct RetireSync {
    Hart &h;
    Ctx &c;
    explicit RetireSync(Hart &hart) : h(hart), c(jit_of(hart).ctx_) {
        h.s.instret = c.base - static_cast<uint64_t>(c.left);
    }
    ~RetireSync() { c.base = h.s.instret + static_cast<uint64_t>(c.left); }
    RetireSync(const RetireSync &) = delete;
    RetireSync &operator=(const RetireSync &) = delete;
};

bool must_leave(Hart &h) {
    return h.check_.load(std::memory_order_relaxed) || jit_of(h).invalidated_;
}

int helper_fallback(Hart *hp, const Insn *in, uint64_t pc, uint64_t excess, uint64_t force) {
    Hart &h = *hp;
    RetireSync sync(h);
    const uint64_t mstatus0 = h.s.mstatus, gen0 = jit_of(h).jc_generation();
    const unsigned priv0 = h.s.priv;
    h.s.pc = h.pc_ = pc;
    h.npc_ = pc + in->len;
    h.cur_raw_ = in->raw;
    h.s.instret -= excess;   // as the interpreter: instret counts the retired ones
    try {
        in->fn(h, *in);
    } catch (const Trap &t) {
        h.take_trap(t.cause, t.tval, false);
        return 1;
    } catch (...) {
        jit_of(h).pending_ = std::current_exception();
        return 1;
    }
    if (force == kLeaveIfChanged) {
        constexpr uint64_t kIgnored = mstatus_bits::SUM | mstatus_bits::MXR | mstatus_bits::SIE | mstatus_bits::MIE;
        force = ((h.s.mstatus ^ mstatus0) & ~kIgnored) || h.s.priv != priv0 ||
                jit_of(h).jc_generation() != gen0;
    }
    if (force || h.npc_ != pc + in->len || must_leave(h)) {
        h.s.instret += 1;
        h.s.pc = h.npc_ & h.xmask();
        return 1;
    }
    h.s.instret += excess;
    return 0;
}

// packed: rd | size << 8 | sign << 16 | fp << 17 | len << 24 (fp: flw/fld into f[rd])
int helper_load(Hart *hp, uint64_t va, uint64_t packed, uint64_t pc, uint64_t excess) {
    Hart &h = *hp;
    RetireSync sync(h);
    const unsigned rd = packed & 31, size = (packed >> 8) & 15, len = (packed >> 24) & 7;
    const bool sign = (packed >> 16) & 1, fp = (packed >> 17) & 1;
    h.s.pc = h.pc_ = pc;
    uint64_t v;
    try {
        v = load_slow_n(h, va, size);
    } catch (const Trap &t) {
        h.s.instret -= excess;
        h.take_trap(t.cause, t.tval, false);
        return 1;
    } catch (...) {
        jit_of(h).pending_ = std::current_exception();
        return 1;
    }
    if (sign && size < 8) {
        unsigned sh = 64 - 8 * size;
        v = static_cast<uint64_t>(static_cast<int64_t>(v << sh) >> sh);
    }
    if (fp) {
        h.s.f[rd] = size == 4 ? (0xffffffff00000000ull | v) : v;   // NaN-boxed single
        h.fs_dirty();
    } else if (rd) {
        h.s.x[rd] = v & h.xmask();   // RV32 keeps registers zero-extended
    }
    if (must_leave(h)) {
        h.s.instret -= excess - 1;
        h.s.pc = pc + len;
        return 1;
    }
    return 0;
}

// packed: size | len << 8
int helper_store(Hart *hp, uint64_t va, uint64_t val, uint64_t packed, uint64_t pc, uint64_t excess) {
    Hart &h = *hp;
    RetireSync sync(h);
    const unsigned size = packed & 15, len = (packed >> 8) & 7;
    h.s.pc = h.pc_ = pc;
    if (size < 8) val &= (1ull << (8 * size)) - 1;   // as the interpreter's store<T>
    try {
        store_slow_n(h, va, size, val);
    } catch (const Trap &t) {
        h.s.instret -= excess;
        h.take_trap(t.cause, t.tval, false);
        return 1;
    } catch (...) {
        jit_of(h).pending_ = std::current_exception();
        return 1;
    }
    if (must_leave(h)) {   // e.g. the store hit translated code
        h.s.instret -= excess - 1;
        h.s.pc = pc + len;
        return 1;
    }
    return 0;
}

using namespace Xbyak::util;

}  // namespace

// ---- The emitter ------------------------------------------------------------

class Emitter : public Xbyak::CodeGenerator {
public:
    Emitter(Jit &j, uint8_t *at, size_t room) : Xbyak::CodeGenerator(room, at), j_(j), h_(j.h) {}
    ~Emitter() {
        for (const Cold &c : cold_) c.destroy(c.fn);
    }
    Emitter(const Emitter &) = delete;
    Emitter &operator=(const Emitter &) = delete;

    int32_t off(const void *p) const {
        return static_cast<int32_t>(reinterpret_cast<const char *>(p) - reinterpret_cast<const char *>(&h_));
    }
    Xbyak::Address xreg(unsigned r, int bits = 64) {
        const int32_t o = off(&h_.s.x[r]);
        return bits == 64 ? qword[rbx + o] : dword[rbx + o];
    }
    // A guest register as a source operand: its host register or memory.
    const Xbyak::Operand &src(unsigned r, int bits = 64) {
        if (int c = cache_[r]; c >= 0) return bits == 64 ? static_cast<const Xbyak::Operand &>(kHost64[c])
                                                         : static_cast<const Xbyak::Operand &>(kHost32[c]);
        return addrs_.emplace_back(xreg(r, bits));
    }
    // rd = value (a 64-bit host register); rd != 0.
    void set(unsigned rd, const Xbyak::Reg64 &value) {
        if (int c = cache_[rd]; c >= 0) {
            mov(kHost64[c], value);
            dirty_ |= 1u << rd;
        } else {
            mov(xreg(rd), value);
        }
    }
    void set_imm(unsigned rd, uint64_t v) {
        if (int c = cache_[rd]; c >= 0) {
            mov(kHost64[c], v);
            dirty_ |= 1u << rd;
        } else if (static_cast<int64_t>(v) == static_cast<int32_t>(v)) {
            mov(xreg(rd), v);   // fits a sign-extended imm32
        } else {
            mov(rax, v);
            mov(xreg(rd), rax);
        }
    }
    // Low half: x registers, high half: f registers.
    uint64_t dirty_all() const { return dirty_ | static_cast<uint64_t>(fdirty_) << 32; }
    // What a path leaving from here must write back: the dirty registers,
    // and which of them hold a W result not yet sign-extended (narrow_).
    struct Pending {
        uint64_t dirty;
        uint32_t narrow;
    };
    Pending pending() const { return {dirty_all(), narrow_ & dirty_}; }
    void writeback(Pending p) {
        canon(p.narrow);
        writeback(p.dirty);
    }
    // Sign-extends the W results held in the host registers of `mask`.
    void canon(uint32_t mask) {
        for (uint32_t m = mask; m; m &= m - 1) {
            const int c = cache_[std::countr_zero(m)];
            movsxd(kHost64[c], kHost32[c]);
        }
    }
    void materialize(uint32_t mask) {
        canon(mask & narrow_);
        narrow_ &= ~mask;
    }
    void writeback(uint64_t mask) {
        for (unsigned r = 1; r < 32; ++r)
            if ((mask >> r) & 1) mov(xreg(r), kHost64[cache_[r]]);
        for (unsigned r = 0; r < 32; ++r)
            if ((mask >> (32 + r)) & 1) movsd(fq(r), kXmm[fcache_[r]]);
    }
    void reload_f(uint32_t mask) {
        for (unsigned r = 0; r < 32; ++r)
            if ((mask >> r) & 1) movsd(kXmm[fcache_[r]], fq(r));
    }
    void sync() {   // before a call or an exit on the hot path
        materialize(narrow_);
        writeback(dirty_all());
        dirty_ = fdirty_ = 0;
        if (mx_live_) fold_flags();
        mx_live_ = false;   // a call may leave anything in MXCSR
    }
    // MXCSR exception flags -> fflags (and FS dirty when any). Uses rcx, rdx.
    void fold_flags() {
        Xbyak::Label skip;
        stmxcsr(dword[rip + &j_.ctx_.mxcsr_tmp]);
        mov(ecx, dword[rip + &j_.ctx_.mxcsr_tmp]);
        and_(ecx, 0x3d);
        jz(skip);
        lea(rdx, ptr[rip + j_.ctx_.flag_map]);
        movzx(ecx, byte[rdx + rcx]);
        or_(byte[rbx + off(&h_.s.fflags)], cl);
        or_(dword[rbx + off(&h_.s.mstatus)], static_cast<uint32_t>(mstatus_bits::FS));
        L(skip);
    }
    void clean_mxcsr() { ldmxcsr(dword[rip + &j_.ctx_.mxcsr_clean]); }
    void reload(uint32_t mask) {
        for (unsigned r = 1; r < 32; ++r)
            if (((mask >> r) & 1) && cache_[r] >= 0) mov(kHost64[cache_[r]], xreg(r));
    }

    // enter(Hart*, Ctx*, code); exit0; epilogue; lookup (rax = target pc).
    void prelude() {
        j_.enter_ = reinterpret_cast<Jit::EnterFn>(const_cast<uint8_t *>(getCurr()));
        push(rbx); push(rbp); push(r12); push(r13); push(r14); push(r15);
        sub(rsp, 8);
        mov(rbx, rdi);
        mov(r12, qword[rip + &j_.ctx_.left]);
        jmp(rdx);
        align(16);
        j_.exit0_ = getCurr();
        xor_(eax, eax);
        j_.epilogue_ = getCurr();
        mov(qword[rip + &j_.ctx_.left], r12);
        add(rsp, 8);
        pop(r15); pop(r14); pop(r13); pop(r12); pop(rbp); pop(rbx);
        ret();
        align(16);
        j_.lookup_ = getCurr();
        mov(qword[rbx + off(&h_.s.pc)], rax);
        if (j_.opt_.chain) {
            mov(rcx, rax);
            shr(rcx, 1);
            and_(ecx, (1u << Jit::kJcBits) - 1);
            shl(rcx, 5);
            static_assert(sizeof(JcEntry) == 32);
            mov(rdx, reinterpret_cast<uintptr_t>(j_.jc_.data()));
            add(rcx, rdx);
            cmp(qword[rcx], rax);
            jne(j_.exit0_);
            mov(rdx, qword[rip + &j_.ctx_.mode]);
            cmp(qword[rcx + 8], rdx);
            jne(j_.exit0_);
            jmp(qword[rcx + 16]);
        } else {
            jmp(j_.exit0_);
        }
        // Cold exits: `call leave32_/leave64_` followed by the pc to store
        // (4 bytes sign-extended, or 8): smaller than storing it inline.
        for (const bool wide : {false, true}) {
            align(16);
            (wide ? j_.leave64_ : j_.leave32_) = getCurr();
            pop(rcx);
            if (wide) mov(rax, qword[rcx]);
            else movsxd(rax, dword[rcx]);
            mov(qword[rbx + off(&h_.s.pc)], rax);
            jmp(j_.exit0_);
        }
        // An unchained exit (rax = its BlockExit): store the target pc and
        // return the exit to the dispatcher, which chains it.
        align(16);
        j_.exit_stub_ = getCurr();
        mov(rcx, qword[rax + offsetof(BlockExit, from)]);
        mov(rcx, qword[rcx + offsetof(Block, pc)]);
        and_(rcx, -4096);
        movzx(edx, word[rax + offsetof(BlockExit, target)]);
        or_(rcx, rdx);
        mov(qword[rbx + off(&h_.s.pc)], rcx);
        jmp(j_.epilogue_);
        // Helper thunks, shared by every block's slow paths: rdi = the hart,
        // the budget stored (RetireSync), the stack aligned for the call; a
        // non-zero answer leaves (dropping the thunk's return address), zero
        // returns to the block.
        auto thunk = [this](const void *fn) {
            align(16);
            const uint8_t *at = getCurr();
            Xbyak::Label leave;
            mov(rdi, rbx);
            mov(qword[rip + &j_.ctx_.left], r12);
            sub(rsp, 8);
            mov(rax, reinterpret_cast<uintptr_t>(fn));
            call(rax);
            add(rsp, 8);
            test(eax, eax);
            jnz(leave);
            ret();
            L(leave);
            add(rsp, 8);
            jmp(j_.exit0_, T_NEAR);
            return at;
        };
        j_.thunk_load_ = thunk(reinterpret_cast<const void *>(&helper_load));
        j_.thunk_store_ = thunk(reinterpret_cast<const void *>(&helper_store));
        j_.thunk_fallback_ = thunk(reinterpret_cast<const void *>(&helper_fallback));
    }

    // The code of a Block::interp: store the pc and return to the dispatcher.
    void interp_stub(Block &b) {
        b.code = getCurr();
        leave_at(b.pc);
        b.code_size = static_cast<uint32_t>(getSize());
    }

    void block(Block &b, std::span<const Insn> ins, std::span<const uint64_t> pcs) {
        b_ = &b;
        const unsigned n = static_cast<unsigned>(ins.size());
        b.code = getCurr();
        // A block that branches back to its own start loops inside: the back
        // edge neither writes the cached registers back nor reloads them
        // (every exit path writes all of them back instead), and MXCSR stays
        // loaded across iterations.
        const Insn &last = ins[n - 1];
        const OpInfo &lo = op_info(last, h_.cfg.xlen);
        self_loop_ = j_.opt_.chain && (lo.kind == Kind::Branch || lo.kind == Kind::Jal) &&
                     pcs[n - 1] + static_cast<int64_t>(last.imm) == pcs[0] && aligned_target(pcs[0]);
        bool uses_mxcsr = false;
        for (const Insn &in : ins) {
            const Kind k = op_info(in, h_.cfg.xlen).kind;
            uses_mxcsr |= k >= Kind::FArith && k != Kind::FSgnj && k != Kind::FMvXF && k != Kind::FMvFX;
        }
        mx_loop_ = self_loop_ && uses_mxcsr;
        // Without MXCSR to keep, the loop's back edge is the branch itself:
        // the entry checks sit after the register loads, at the loop head,
        // and leaving from there writes every cached register back.
        fast_loop_ = self_loop_ && !mx_loop_;
        no_entry_ = &label();
        n_ = n;
        choose_cached(ins);
        choose_fcached(ins);
        if (!fast_loop_) {
            // Prologue: leave if an event is pending or the budget is spent.
            b.skip = static_cast<uint8_t>(entry_checks());
            cold([this, pc = pcs[0]] {
                L(*no_entry_);
                leave_at(pc);
            });
        }
        // A register the block writes before reading it is not loaded: until
        // written it is not dirty, so nothing writes it back. (A loop's
        // registers count as dirty from its head on: all loaded.)
        reload(self_loop_ ? cached_mask_ : cached_mask_ & read_first_);
        reload_f(fcached_mask_);
        if (mx_loop_) {
            clean_mxcsr();
            mx_live_ = true;
        }
        choose_memos(ins);
        forget_memos();
        head_ = &label();   // a branch back to the block's start comes here
        L(*head_);
        if (fast_loop_) {
            entry_checks();
            cold([this, pc = pcs[0], all = cached_mask_ | uint64_t(fcached_mask_) << 32] {
                L(*no_entry_);
                writeback(all);
                leave_at(pc);
            });
        }
        choose_narrow(ins);
        if (self_loop_) {
            dirty_ = cached_mask_;
            fdirty_ = fcached_mask_;
        }
        bool open = true;   // falls through to the next instruction
        // A short loop closed by a branch runs its body two or four times per
        // round: each copy's branch but the last leaves when not taken, else
        // the next copy pays for itself and goes on (the checks are once per
        // round).
        const unsigned copies = !(fast_loop_ && lo.kind == Kind::Branch) ? 1 : n <= kUnroll4Max ? 4
                                : n <= kUnrollMax ? 2 : 1;
        for (unsigned copy = 0; copy < copies; ++copy) {
            if (copy) {
                sub(r12, n_);
                dirty_ = cached_mask_;
            }
            first_copy_ = copy + 1 < copies;   // its branch goes on to the next copy
            for (unsigned i = 0; i < n; ++i) {
                const Insn &in = ins[i];
                const OpInfo &oi = op_info(in, h_.cfg.xlen);
                cur_ = i;
                const XOperands x = x_operands(in, oi);
                if (narrow_) {
                    // W forms read 32 bits; everything else all 64. A round
                    // ends with none left: at the head a register may hold
                    // its value from before the loop, any 64 bits.
                    materialize(w_form(oi.kind) ? 0 : x.reads);
                    if (i + 1 == n && copy + 1 == copies) materialize(~0u);
                }
                just_narrowed_ = 0;
                open = insn(in, oi, pcs[i], n - i);
                narrow_ &= ~(x.writes & ~just_narrowed_);
            }
        }
        if (open) {
            sync();
            exit_to(pcs[n - 1] + ins[n - 1].len);
        }
        for (size_t i = 0; i < cold_.size(); ++i) {   // may append
            const Cold c = cold_[i];
            c.run(c.fn);
        }
        // Copies of the decoded instructions the helpers read.
        align(8);
        for (unsigned i = 0; i < insn_labels_.size(); ++i) {
            L(*insn_labels_[i].first);
            static_assert(sizeof(Insn) % 8 == 0);
            for (size_t k = 0; k < sizeof(Insn); k += 8) {
                uint64_t w;
                std::memcpy(&w, reinterpret_cast<const uint8_t *>(&insn_labels_[i].second) + k, 8);
                db(w, 8);
            }
        }
        b.code_size = static_cast<uint32_t>(getSize());
    }

private:
    // Callee-saved ones first; the caller-saved ones are reloaded after
    // every call. rdi, r8 and r9 are also call arguments: call sequences
    // take guest values from memory (written back first) or set the
    // argument that reads a cached register before the others. rsi stays
    // scratch (the AMO loop uses it).
    static constexpr int kSlots = 9, kFirstVolatile = 4;
    inline static const Xbyak::Reg64 kHost64[kSlots] = {
        Xbyak::util::r13, Xbyak::util::r14, Xbyak::util::r15, Xbyak::util::rbp, Xbyak::util::r10,
        Xbyak::util::r11, Xbyak::util::rdi, Xbyak::util::r8,  Xbyak::util::r9};
    inline static const Xbyak::Reg32 kHost32[kSlots] = {
        Xbyak::util::r13d, Xbyak::util::r14d, Xbyak::util::r15d, Xbyak::util::ebp, Xbyak::util::r10d,
        Xbyak::util::r11d, Xbyak::util::edi,  Xbyak::util::r8d,  Xbyak::util::r9d};

    // The block's most used registers (two uses or more; in a loop, every
    // use repeats) get host registers.
    void choose_cached(std::span<const Insn> ins) {
        std::array<unsigned, 32> uses{};
        // Liveness backwards: which registers code after each instruction
        // may read before writing them (the rest need no reload after a call).
        live_after_.resize(ins.size());
        uint32_t live = 0;
        for (size_t i = ins.size(); i-- > 0;) {
            const OpInfo &oi = op_info(ins[i], h_.cfg.xlen);
            const XOperands x = x_operands(ins[i], oi);
            live_after_[i] = live;
            live = (live & ~x.writes) | x.reads;
            if (oi.kind == Kind::Fallback || oi.kind == Kind::Pure) continue;   // through memory
            for (uint32_t m = x.reads; m; m &= m - 1) ++uses[std::countr_zero(m)];
            for (uint32_t m = x.writes; m; m &= m - 1) ++uses[std::countr_zero(m)];
        }
        read_first_ = live;
        uses[0] = 0;   // x0 is never cached
        cache_.fill(-1);
        cached_mask_ = volatile_mask_ = 0;
        for (int slot = 0; slot < kSlots; ++slot) {
            unsigned best = 0;
            for (unsigned r = 1; r < 32; ++r)
                if (cache_[r] < 0 && uses[r] > uses[best]) best = r;
            if (uses[best] < (self_loop_ ? 1u : 2u)) break;
            cache_[best] = static_cast<int8_t>(slot);
            cached_mask_ |= 1u << best;
            if (slot >= kFirstVolatile) volatile_mask_ |= 1u << best;
        }
    }

    // In a fast loop (RV64), the W results that need no sign extension
    // until something reads all 64 bits, a path writes them back or the
    // round ends (the copies of an unrolled body pass them on): registers
    // the body writes with W forms before reading them.
    void choose_narrow(std::span<const Insn> ins) {
        eligible_ = narrow_ = 0;
        if (!fast_loop_ || x32_) return;
        uint32_t w_written = 0;
        for (const Insn &in : ins) {
            const OpInfo &oi = op_info(in, h_.cfg.xlen);
            if (w_form(oi.kind)) w_written |= x_operands(in, oi).writes;
        }
        eligible_ = w_written & cached_mask_ & ~read_first_ & ~1u;
    }

    // A loop's loads and stores get one-entry TLBs of their own (memos)
    // while spare host registers last: a hit is a compare with the tag
    // instead of indexing the TLB. Any helper call forgets them.
    void choose_memos(std::span<const Insn> ins) {
        memo_of_.assign(ins.size(), -1);
        nmemos_ = 0;
        if (!self_loop_) return;
        int slot = std::popcount(cached_mask_);
        for (size_t i = 0; i < ins.size() && slot < kSlots && nmemos_ < Ctx::kMemos; ++i) {
            const Kind k = op_info(ins[i], h_.cfg.xlen).kind;
            if (k != Kind::Load && k != Kind::Store && k != Kind::FLoad && k != Kind::FStore) continue;
            memo_reg_[nmemos_] = static_cast<int8_t>(slot++);
            memo_of_[i] = static_cast<int8_t>(nmemos_++);
        }
    }

    inline static const Xbyak::Xmm kXmm[16] = {
        Xbyak::util::xmm0,  Xbyak::util::xmm1,  Xbyak::util::xmm2,  Xbyak::util::xmm3,
        Xbyak::util::xmm4,  Xbyak::util::xmm5,  Xbyak::util::xmm6,  Xbyak::util::xmm7,
        Xbyak::util::xmm8,  Xbyak::util::xmm9,  Xbyak::util::xmm10, Xbyak::util::xmm11,
        Xbyak::util::xmm12, Xbyak::util::xmm13, Xbyak::util::xmm14, Xbyak::util::xmm15};

    void choose_fcached(std::span<const Insn> ins) {
        std::array<unsigned, 32> uses{};
        uint32_t single = 0;   // touched by a single-precision op: stays in memory
        for (const Insn &in : ins) {
            const OpInfo &oi = op_info(in, h_.cfg.xlen);
            if (oi.kind < Kind::FLoad) continue;
            unsigned rs[3] = {99, 99, 99}, rd = 99;
            switch (oi.kind) {
            case Kind::FLoad: rd = in.rd; break;
            case Kind::FStore: rs[0] = in.rs2; break;
            case Kind::FMvXF: case Kind::FCvtXF: rs[0] = in.rs1; break;
            case Kind::FMvFX: case Kind::FCvtFX: rd = in.rd; break;
            case Kind::FCvtSD: rs[0] = in.rs1; single |= 1u << in.rd; break;   // D -> S
            case Kind::FCvtDS: rd = in.rd; single |= 1u << in.rs1; break;      // S -> D
            case Kind::FSqrt: rs[0] = in.rs1; rd = in.rd; break;
            case Kind::FFma: rs[0] = in.rs1; rs[1] = in.rs2; rs[2] = in.rs3; rd = in.rd; break;
            case Kind::FCmp: rs[0] = in.rs1; rs[1] = in.rs2; break;
            default: rs[0] = in.rs1; rs[1] = in.rs2; rd = in.rd; break;   // FArith, FSgnj
            }
            const bool d = oi.dbl && oi.kind != Kind::FCvtSD && oi.kind != Kind::FCvtDS;
            for (unsigned r : rs)
                if (r < 32) {
                    ++uses[r];
                    if (!d && oi.kind != Kind::FCvtSD) single |= 1u << r;
                }
            if (rd < 32) {
                ++uses[rd];
                if (!d && oi.kind != Kind::FCvtDS) single |= 1u << rd;
            }
        }
        fcache_.fill(-1);
        fcached_mask_ = fdirty_ = 0;
        for (int slot = 2; slot < 16; ++slot) {
            unsigned best = 32;
            for (unsigned r = 0; r < 32; ++r)
                if (fcache_[r] < 0 && !((single >> r) & 1) && uses[r] >= 2 && (best == 32 || uses[r] > uses[best]))
                    best = r;
            if (best == 32) break;
            fcache_[best] = static_cast<int8_t>(slot);
            fcached_mask_ |= 1u << best;
        }
    }
    // A double in an f register: its xmm or memory.
    const Xbyak::Operand &fsrc(unsigned r) {
        if (int c = fcache_[r]; c >= 0) return kXmm[c];
        return addrs_.emplace_back(fq(r));
    }
    void fbits_to(const Xbyak::Reg64 &dst, unsigned r) {   // dst = the raw bits of f[r]
        if (int c = fcache_[r]; c >= 0) movq(dst, kXmm[c]);
        else mov(dst, fq(r));
    }
    void fbits_from(unsigned r, const Xbyak::Reg64 &v) {   // f[r] = raw bits (not dirtying FS)
        if (int c = fcache_[r]; c >= 0) {
            movq(kXmm[c], v);
            fdirty_ |= 1u << r;
        } else {
            mov(fq(r), v);
        }
    }

    Xbyak::Label &label() { return labels_.emplace_back(); }
    // Code emitted after the block's straight line (slow paths, exits).
    // The callables live in a per-block arena: a std::function each was a
    // heap allocation, hundreds of thousands per Linux boot.
    template <class F> void cold(F f) {
        F *p = new (cold_arena_.allocate(sizeof(F), alignof(F))) F(std::move(f));
        cold_.push_back(Cold{[](void *o) { (*static_cast<F *>(o))(); }, [](void *o) { static_cast<F *>(o)->~F(); }, p});
    }
    bool has_c() const { return (h_.s.misa >> 2) & 1; }
    bool same_page(uint64_t pc) const { return (pc >> 12) == (b_->pc >> 12); }

    // rsi = &copy of `in` (emitted after the code).
    void insn_addr(const Insn &in) {
        Xbyak::Label &l = label();
        insn_labels_.emplace_back(&l, in);
        lea(rsi, ptr[rip + l]);
    }
    // After a sync and a call on the hot path (nothing dirty): the cached
    // registers the rest of the block may read before writing them. (A
    // loop's are all dirty from its head on: all of them.)
    uint32_t live_after() const { return self_loop_ ? cached_mask_ : cached_mask_ & live_after_[cur_]; }
    void call_fn(const void *fn, uint32_t reload_mask) {
        mov(qword[rip + &j_.ctx_.left], r12);   // for RetireSync
        mov(rax, reinterpret_cast<uintptr_t>(fn));
        call(rax);
        reload(reload_mask);      // keeps eax and the flags
        reload_f(fcached_mask_);  // every xmm is caller-saved
        forget_memos();
    }
    // After a helper: the TLB may have changed (and the spare registers).
    void forget_memos() {
        for (unsigned m = 0; m < nmemos_; ++m) mov(qword[rip + &j_.ctx_.memo_tag[m]], -1);
    }
    // Hot path: sync first. `reload_after`: the code continues after it.
    // force: a Leave (helper_fallback's).
    void fallback(const Insn &in, uint64_t pc, unsigned excess, unsigned force, bool reload_after = true) {
        frm_rne_ok_ = frm_valid_ok_ = false;   // a CSR write may change frm
        sync();
        emit_fallback_call(in, pc, excess, force, reload_after ? live_after() : 0);
    }
    // helper_fallback(hart, insn, pc, excess, force); leaves the block when
    // it says so (trap, force). The caller has written the registers back.
    void emit_fallback_call(const Insn &in, uint64_t pc, unsigned excess, unsigned force, uint32_t reload_mask) {
        insn_addr(in);
        mov(rdx, pc);
        mov(ecx, excess);
        mov(r8d, force);
        call_thunk(j_.thunk_fallback_, reload_mask);
    }
    // Calls a prelude thunk (arguments from rsi on are set): it passes the
    // hart, stores the budget and leaves the block itself when the helper
    // answers non-zero; back here, `reload_mask` is reloaded (at least the
    // caller-saved registers still needed).
    void call_thunk(const uint8_t *thunk, uint32_t reload_mask) {
        call(thunk);
        reload(reload_mask);
        reload_f(fcached_mask_);
        forget_memos();
    }

    // Leave if an event is pending or the budget is spent; else pay for the
    // block. (After a fence.i no block runs before its page was re-checked:
    // fence.i sets check_, so code leaves at the next entry; the dispatcher's
    // lookup re-checks the page; the jump cache's generation moves; and
    // chained exits stay within one page, re-checked as a whole.)
    // Returns the offset of the payment (see Block::skip).
    size_t entry_checks() {
        cmp(byte[rbx + off(&h_.check_)], 0);
        jne(*no_entry_, T_NEAR);
        test(r12, r12);
        jle(*no_entry_, T_NEAR);
        const size_t pay = getSize();
        sub(r12, n_);   // retires the block (instret = base - left)
        return pay;
    }

    // The self loop's back edge: registers stay in host registers (dirty)
    // and MXCSR stays loaded; leaving writes them back.
    void back_edge() {
        if (fast_loop_) {   // the checks are at the head
            jmp(*head_, T_NEAR);
            return;
        }
        Xbyak::Label &leave = label();
        if (mx_loop_) {
            if (!mx_live_) clean_mxcsr();   // a call in the body: flags folded already
        } else if (mx_live_) {
            fold_flags();
        }
        cmp(byte[rbx + off(&h_.check_)], 0);
        jne(leave, T_NEAR);
        test(r12, r12);
        jle(leave, T_NEAR);
        sub(r12, n_);
        jmp(*head_, T_NEAR);
        const uint64_t dirty = dirty_all();
        const bool live = mx_loop_;
        cold([this, &leave, dirty, live] {
            L(leave);
            writeback(dirty);
            if (live) fold_flags();
            leave_at(b_->pc);
        });
    }

    // Store pc and return to the dispatcher (through a prelude thunk that
    // reads the pc after the call).
    void leave_at(uint64_t pc) {
        if (static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(pc))) == pc) {
            call(j_.leave32_);
            dd(static_cast<uint32_t>(pc));
        } else {
            call(j_.leave64_);
            dq(pc);
        }
    }

    // rax = target pc. The jump-cache probe inline, so that each indirect
    // jump has its own branch-predictor entry; a miss goes through the
    // prelude's lookup (which stores the pc and leaves).
    void jc_probe(bool indirect, uint64_t target) {
        if (!j_.opt_.chain) {
            jmp(j_.lookup_, T_NEAR);
            return;
        }
        static_assert(sizeof(JcEntry) == 32);
        const uint32_t mask = (1u << Jit::kJcBits) - 1;
        if (indirect) {
            mov(ecx, eax);
            and_(ecx, mask << 1);
            shl(ecx, 4);   // ((pc >> 1) & mask) * 32
            mov(rdx, reinterpret_cast<uintptr_t>(j_.jc_.data()));
            add(rdx, rcx);
        } else {
            mov(rdx, reinterpret_cast<uintptr_t>(&j_.jc_[(target >> 1) & mask]));
        }
        cmp(qword[rdx + offsetof(JcEntry, pc)], rax);
        jne(j_.lookup_);
        mov(rcx, qword[rip + &j_.ctx_.mode]);
        cmp(qword[rdx + offsetof(JcEntry, mode)], rcx);
        jne(j_.lookup_);
        jmp(qword[rdx + offsetof(JcEntry, code)]);
    }

    bool chainable(uint64_t target) const {
        return j_.opt_.chain && target != b_->pc && same_page(target) && b_->nexits < 2;
    }
    // After a cmp of rs1 with rs2: jump to `to` when the branch condition
    // (a Cond) holds, or when it does not. T_NEAR: always the rel32 forms.
    void jump_if(uint8_t cond, bool holds, const Xbyak::Label &to) {
        static constexpr uint8_t kNot[] = {NE, EQ, GE, LT, GEU, LTU};
        switch (holds ? cond : kNot[cond]) {
        case EQ: je(to, T_NEAR); break;
        case NE: jne(to, T_NEAR); break;
        case LT: jl(to, T_NEAR); break;
        case GE: jge(to, T_NEAR); break;
        case LTU: jb(to, T_NEAR); break;
        default: jae(to, T_NEAR); break;
        }
    }
    static constexpr int kAlways = -1;
    // A chainable exit to `target`: a jump (jmp, or the branch's jcc when
    // cond is a Cond) with a rel32 to a stub that asks the dispatcher to
    // chain it; chaining patches the rel32 to the target block.
    void chained_exit(uint64_t target, int cond) {
        BlockExit &e = b_->exits[b_->nexits++];
        e = BlockExit{};
        e.from = b_;
        e.target = static_cast<uint16_t>(target & 0xfff);
        Xbyak::Label &stub = label();
        if (cond == kAlways) jmp(stub, T_NEAR);
        else jump_if(static_cast<uint8_t>(cond), true, stub);
        e.site = static_cast<uint32_t>(getSize() - 4);   // the rel32 (b_->code is where this emitter began)
        cold([this, &stub, &e, target] {
            L(stub);
            e.stub = static_cast<uint32_t>(getSize());
            mov(rax, reinterpret_cast<uintptr_t>(&e));
            jmp(j_.exit_stub_, T_NEAR);
        });
    }

    // Leave the block for `target` (a direct, statically known pc).
    void exit_to(uint64_t target) {
        if (j_.opt_.chain && target == b_->pc) {
            // A loop onto itself: the entry checks again, then straight to
            // the body; the cached registers are current (all written back).
            if (!fast_loop_) entry_checks();
            jmp(*head_, T_NEAR);
            return;
        }
        if (chainable(target)) {
            chained_exit(target, kAlways);
            return;
        }
        mov(rax, target);
        jc_probe(false, target);
    }
    bool aligned_target(uint64_t t) const { return has_c() || (t & 2) == 0; }

    // Returns whether execution falls through to the next instruction.
    bool insn(const Insn &in, const OpInfo &oi, uint64_t pc, unsigned excess) {
        const uint64_t next = (pc + in.len) & xmask_;
        const unsigned rd = in.rd;
        switch (oi.kind) {
        case Kind::Fallback:
            fallback(in, pc, excess, oi.leave);
            return true;
        case Kind::Pure:
            if (rd == 0) return true;   // no architectural effect
            sync();
            mov(rdi, rbx);
            insn_addr(in);
            call_fn(reinterpret_cast<const void *>(in.fn), (volatile_mask_ | 1u << rd) & live_after());
            return true;
        case Kind::Lui:
            if (rd) set_imm(rd, static_cast<uint64_t>(static_cast<int64_t>(in.imm)) & xmask_);
            return true;
        case Kind::Auipc:
            if (rd) set_imm(rd, (pc + static_cast<int64_t>(in.imm)) & xmask_);
            return true;
        case Kind::Jal: {
            uint64_t t = (pc + static_cast<int64_t>(in.imm)) & xmask_;
            if (!aligned_target(t)) {
                fallback(in, pc, excess, kLeaveAlways, false);
                return true;
            }
            if (rd) set_imm(rd, next);
            if (self_loop_ && t == b_->pc) {
                back_edge();
                return false;
            }
            sync();
            exit_to(t);
            return false;
        }
        case Kind::Jalr: {
            // RV32: 32-bit arithmetic, which zero-extends, wraps the target.
            const Xbyak::Reg &t = x32_ ? static_cast<const Xbyak::Reg &>(eax) : rax;
            mov(t, src(in.rs1, x32_ ? 32 : 64));
            if (in.imm) add(t, in.imm);
            and_(t, -2);
            sync();
            if (!has_c()) {
                Xbyak::Label &bad = label();
                test(al, 2);
                jnz(bad, T_NEAR);
                cold([this, &bad, in, pc, excess] {
                    L(bad);
                    fallback(in, pc, excess, kLeaveAlways, false);   // all written back already
                    jmp(j_.exit0_, T_NEAR);
                });
            }
            if (rd) {
                mov(rcx, next);
                mov(xreg(rd), rcx);
            }
            jc_probe(true, 0);
            return false;
        }
        case Kind::Branch: {
            uint64_t t = (pc + static_cast<int64_t>(in.imm)) & xmask_;
            Xbyak::Label &taken = label();
            const bool loop = self_loop_ && t == b_->pc;
            if (!loop) sync();
            const int bits = x32_ ? 32 : 64;   // RV32: signed compares of the low halves
            if (cache_[in.rs1] >= 0 || cache_[in.rs2] >= 0) {
                cmp(src(in.rs1, bits), src(in.rs2, bits));   // one of them a register
            } else {
                const Xbyak::Reg &a = x32_ ? static_cast<const Xbyak::Reg &>(eax) : rax;
                mov(a, xreg(in.rs1, bits));
                cmp(a, xreg(in.rs2, bits));
            }
            if (loop && first_copy_) {   // not taken: leave; taken: on to the next copy
                Xbyak::Label &out = label();
                jump_if(oi.sub, false, out);
                cold([this, &out, next, dirty = pending()] {
                    L(out);
                    writeback(dirty);
                    exit_to(next);
                });
                return true;
            }
            if (loop && fast_loop_) {   // taken: round again (checks at the head)
                jump_if(oi.sub, true, *head_);
                sync();
                exit_to(next);
                return false;
            }
            if (loop) {   // not taken: leave; taken: round again
                Xbyak::Label &out = label();
                jump_if(oi.sub, false, out);
                const uint64_t dirty = dirty_all();
                const bool live = mx_live_;
                back_edge();
                L(out);
                dirty_ = static_cast<uint32_t>(dirty);
                fdirty_ = static_cast<uint32_t>(dirty >> 32);
                mx_live_ = live;
                sync();
                exit_to(next);
                return false;
            }
            if (chainable(t) && aligned_target(t)) {
                // The branch itself is the taken exit's patchable jump.
                chained_exit(t, oi.sub);
                exit_to(next);
                return false;
            }
            jump_if(oi.sub, true, taken);
            exit_to(next);
            L(taken);
            if (aligned_target(t)) {
                exit_to(t);
            } else {
                fallback(in, pc, excess, kLeaveAlways, false);   // raises the misaligned-target trap
                jmp(j_.exit0_, T_NEAR);
            }
            return false;
        }
        case Kind::Load: return load(in, oi, pc, excess);
        case Kind::Store: return store(in, oi, pc, excess);
        case Kind::Lr: case Kind::Sc: case Kind::Amo: return atomic(in, oi, pc, excess);
        case Kind::Fence:
            // x86 keeps every order but a store before a later load: only a
            // fence ordering writes (W, O: raw bits 24, 26) before reads (R,
            // I: bits 21, 23) needs one (the interpreter's is always seq_cst).
            if (((in.raw >> 24) & 0b0101) && ((in.raw >> 20) & 0b1010)) mfence();
            return true;
        case Kind::CboZero: return cbo_zero(in, pc, excess);
        default: break;
        }
        if (oi.kind >= Kind::FLoad) return fp(in, oi, pc, excess);
        // Register-register / register-immediate arithmetic, straight into
        // rd's host register when it has one (unless that clobbers rs2).
        if (rd == 0) return true;
        const int32_t imm = in.imm;
        const bool rtype = oi.kind == Kind::AluR || oi.kind == Kind::AluRW || oi.kind == Kind::Mul ||
                           oi.kind == Kind::MulW;
        const bool direct = cache_[rd] >= 0 && !(rtype && rd == in.rs2 && in.rs1 != in.rs2) &&
                            oi.kind != Kind::MulH && oi.kind != Kind::MulHU;
        const Xbyak::Reg64 &D = direct ? kHost64[cache_[rd]] : rax;
        const Xbyak::Reg32 &D32 = direct ? kHost32[cache_[rd]] : eax;
        const bool in_place = direct && in.rs1 == rd;   // D already holds rs1
        // RV64 computes in 64 bits, its W forms and RV32 in 32: the host
        // zero-extends 32-bit results, as RV32 keeps registers; W forms then
        // sign-extend.
        const bool narrow = x32_ || w_form(oi.kind);
        const Xbyak::Reg &R = narrow ? static_cast<const Xbyak::Reg &>(D32) : D;
        const int bits = narrow ? 32 : 64;
        if (!in_place && lea_form(in, oi, R)) {
            if (narrow && !x32_) sign_extend_w(rd, direct, D, D32);
            if (direct) dirty_ |= 1u << rd;
            else set(rd, rax);
            return true;
        }
        switch (oi.kind) {
        case Kind::AluR: case Kind::AluRW:
            if (!in_place) mov(R, src(in.rs1, bits));
            switch (oi.sub) {
            case ADD: add(R, src(in.rs2, bits)); break;
            case SUB: sub(R, src(in.rs2, bits)); break;
            case XOR: xor_(R, src(in.rs2, bits)); break;
            case OR: or_(R, src(in.rs2, bits)); break;
            case AND: and_(R, src(in.rs2, bits)); break;
            case SLL: mov(ecx, src(in.rs2, 32)); shl(R, cl); break;   // x86 masks the count as RISC-V does
            case SRL: mov(ecx, src(in.rs2, 32)); shr(R, cl); break;
            case SRA: mov(ecx, src(in.rs2, 32)); sar(R, cl); break;
            case SLT: cmp(R, src(in.rs2, bits)); setl(al); movzx(D32, al); break;
            case SLTU: cmp(R, src(in.rs2, bits)); setb(al); movzx(D32, al); break;
            }
            break;
        case Kind::AluI: case Kind::AluIW:
            if (!in_place) mov(R, src(in.rs1, bits));
            switch (oi.sub) {
            case ADD: if (imm) add(R, imm); break;
            case XOR: xor_(R, imm); break;
            case OR: or_(R, imm); break;
            case AND: and_(R, imm); break;
            case SLL: shl(R, imm & (bits - 1)); break;
            case SRL: shr(R, imm & (bits - 1)); break;
            case SRA: sar(R, imm & (bits - 1)); break;
            case SLT: cmp(R, imm); setl(al); movzx(D32, al); break;
            case SLTU: cmp(R, imm); setb(al); movzx(D32, al); break;
            }
            break;
        case Kind::Mul: case Kind::MulW:
            if (!in_place) mov(R, src(in.rs1, bits));
            imul(R, src(in.rs2, bits));
            break;
        case Kind::MulH: case Kind::MulHU:
            if (x32_) {   // the high half of the 64-bit product
                if (oi.kind == Kind::MulH) {
                    movsxd(rax, src(in.rs1, 32));
                    movsxd(rcx, src(in.rs2, 32));
                } else {
                    mov(eax, src(in.rs1, 32));
                    mov(ecx, src(in.rs2, 32));
                }
                imul(rax, rcx);
                shr(rax, 32);
            } else {
                mov(rax, src(in.rs1));
                if (oi.kind == Kind::MulH) imul(src(in.rs2));
                else mul(src(in.rs2));
                mov(rax, rdx);
            }
            break;
        default: break;
        }
        if (narrow && !x32_) sign_extend_w(rd, direct, D, D32);
        if (direct) dirty_ |= 1u << rd;
        else set(rd, rax);
        return true;
    }

    // An RV64 W result: sign-extended now, or left narrow in a fast loop
    // where rd may be (the readers that need all 64 bits, and every path
    // that writes it back, sign-extend it first).
    void sign_extend_w(unsigned rd, bool direct, const Xbyak::Reg64 &D, const Xbyak::Reg32 &D32) {
        if (direct && ((eligible_ >> rd) & 1)) {
            narrow_ |= 1u << rd;
            just_narrowed_ |= 1u << rd;
        } else {
            movsxd(D, D32);
        }
    }

    // rd = rs1 + rs2, rs1 + imm or rs1 << 1..3 as one lea when the sources
    // are in host registers (R: rd's register, or eax/rax, of the width).
    bool lea_form(const Insn &in, const OpInfo &oi, const Xbyak::Reg &R) {
        const int c1 = cache_[in.rs1];
        if (c1 < 0) return false;
        const Xbyak::Reg64 &A = kHost64[c1];
        switch (oi.kind) {
        case Kind::AluR: case Kind::AluRW:
            if (oi.sub != ADD || cache_[in.rs2] < 0) return false;
            lea(R, ptr[A + kHost64[cache_[in.rs2]]]);
            return true;
        case Kind::AluI: case Kind::AluIW:
            if (oi.sub == ADD && in.imm) {
                lea(R, ptr[A + in.imm]);
                return true;
            }
            if (oi.sub == SLL && (in.imm & 63) >= 1 && (in.imm & 63) <= 3) {
                lea(R, ptr[A * (1 << (in.imm & 63))]);
                return true;
            }
            return false;
        default: return false;
        }
    }

    // The TLB probe of the instruction being translated: rcx = the key; the
    // returned register holds the addend (va + it = host address).
    Xbyak::Reg64 probe(unsigned size, size_t tag_field, Xbyak::Label &slow, const Xbyak::Reg64 &va) {
        const int m = cur_ < memo_of_.size() ? memo_of_[cur_] : -1;
        if (m < 0) {
            tlb_probe(size, tag_field, slow, va);
            return rdx;
        }
        // A loop's own one-entry TLB for this access: the tag in the Ctx,
        // the addend in a spare host register; refilled from the TLB.
        const Xbyak::Reg64 H = kHost64[memo_reg_[m]];
        Xbyak::Label &refill = label(), &back = label();
        tlb_key(va, size);
        cmp(rcx, qword[rip + &j_.ctx_.memo_tag[m]]);
        jne(refill, T_NEAR);
        L(back);
        cold([this, &refill, &back, &slow, tag_field, va, H, m] {
            L(refill);
            tlb_index(va);
            cmp(qword[rbx + rdx + (tlb_base() + static_cast<int32_t>(tag_field))], rcx);
            jne(slow, T_NEAR);
            mov(H, qword[rbx + rdx + (tlb_base() + static_cast<int32_t>(offsetof(Hart::TlbEntry, addend)))]);
            mov(qword[rip + &j_.ctx_.memo_tag[m]], rcx);
            jmp(back, T_NEAR);
        });
        return H;
    }
    // rcx = Hart::tlb_key(va, size): the tag compare checks alignment too.
    void tlb_key(const Xbyak::Reg64 &va, unsigned size) {
        mov(rcx, va);
        and_(rcx, static_cast<int32_t>(~0xfffu | (size - 1)));
    }
    // rdx = the TLB index of va << 5 (entries are 32 bytes).
    void tlb_index(const Xbyak::Reg64 &va) {
        if (have_bmi2()) {
            rorx(edx, va.cvt32(), 12 - 5);
        } else {
            mov(edx, va.cvt32());
            shr(edx, 12 - 5);
        }
        and_(edx, (Hart::kTlbSize - 1) << 5);
    }
    void tlb_probe(unsigned size, size_t tag_field, Xbyak::Label &slow, const Xbyak::Reg64 &va) {
        // va in a register; leaves rdx = the entry's addend (host - va) on a
        // hit. The TLB set is the data privilege's of this mode.
        static_assert(sizeof(Hart::TlbEntry) == 32);   // rdx = index << 5
        tlb_key(va, size);
        tlb_index(va);
        cmp(qword[rbx + rdx + (tlb_base() + static_cast<int32_t>(tag_field))], rcx);
        jne(slow, T_NEAR);
        mov(rdx, qword[rbx + rdx + (tlb_base() + static_cast<int32_t>(offsetof(Hart::TlbEntry, addend)))]);
    }
    // The register holding rs1 + imm: rs1's host register itself when the
    // offset is 0, else rax.
    Xbyak::Reg64 address(const Insn &in) {
        const int c = cache_[in.rs1];
        if (c >= 0 && !in.imm) return kHost64[c];
        if (x32_) {   // wraps at 4 GiB: 32-bit arithmetic (zero-extends)
            if (c >= 0) {
                lea(eax, ptr[kHost64[c] + in.imm]);
            } else {
                mov(eax, src(in.rs1, 32));
                add(eax, in.imm);
            }
            return rax;
        }
        if (c >= 0) {
            lea(rax, ptr[kHost64[c] + in.imm]);
        } else {
            mov(rax, src(in.rs1));
            if (in.imm) add(rax, in.imm);
        }
        return rax;
    }
    int32_t tlb_base() const { return off(&h_.tlb_[h_.data_priv()][0]); }

    bool load(const Insn &in, const OpInfo &oi, uint64_t pc, unsigned excess) {
        const bool fpl = oi.kind == Kind::FLoad;   // flw/fld: into f[rd]
        if (fpl) fs_gate(in, pc, excess);
        Xbyak::Label &slow = label(), &done = label();
        const Pending dirty = pending();   // what the slow path must write back
        const bool live = mx_live_;
        const Xbyak::Reg64 A = address(in);
        const Xbyak::Reg64 H = probe(oi.size, offsetof(Hart::TlbEntry, tag_r), slow, A);
        // Straight into rd's host register when it has one.
        const bool direct = !fpl && in.rd && cache_[in.rd] >= 0;
        const Xbyak::Reg64 &V = direct ? kHost64[cache_[in.rd]] : rcx;
        const Xbyak::Reg32 &V32 = direct ? kHost32[cache_[in.rd]] : ecx;
        // RV32 sign-extends to 32 bits (the host zero-extends those).
        const Xbyak::Reg &S = x32_ ? static_cast<const Xbyak::Reg &>(V32) : V;
        switch (oi.size) {
        case 1: oi.sign ? movsx(S, byte[H + A]) : movzx(V32, byte[H + A]); break;
        case 2: oi.sign ? movsx(S, word[H + A]) : movzx(V32, word[H + A]); break;
        case 4: oi.sign && !x32_ ? movsxd(V, dword[H + A]) : mov(V32, dword[H + A]); break;
        default: mov(V, qword[H + A]); break;
        }
        if (fpl) {
            if (oi.size == 8) {
                fbits_from(in.rd, rcx);
            } else {
                mov(fd(in.rd), ecx);
                mov(fd(in.rd, 1), -1);   // NaN-boxed
            }
            fs_dirty();   // the slow path's helper dirties it itself
        } else if (direct) {
            dirty_ |= 1u << in.rd;
        } else if (in.rd) {
            set(in.rd, rcx);
        }
        L(done);
        const uint32_t packed = in.rd | oi.size << 8 | (oi.sign ? 1u : 0u) << 16 | (fpl ? 1u : 0u) << 17 |
                                unsigned(in.len) << 24;
        const unsigned rd = fpl ? 0 : in.rd;
        cold([this, &slow, &done, packed, pc, excess, dirty, rd, live, A] {
            L(slow);
            writeback(dirty);
            if (live) fold_flags();
            mov(rsi, A);   // before the thunk sets rdi, which may be A
            mov(edx, packed);
            mov(rcx, pc);
            mov(r8d, excess);
            call_thunk(j_.thunk_load_, volatile_mask_);
            if (live) clean_mxcsr();
            if (rd) reload(1u << rd);   // the helper wrote it to memory
            jmp(done, T_NEAR);
        });
        return true;
    }

    bool store(const Insn &in, const OpInfo &oi, uint64_t pc, unsigned excess) {
        const bool fps = oi.kind == Kind::FStore;   // fsw/fsd: from f[rs2]
        if (fps) fs_gate(in, pc, excess);
        Xbyak::Label &slow = label(), &done = label();
        const Pending dirty = pending();
        const bool live = mx_live_;
        const Xbyak::Reg64 A = address(in);
        const Xbyak::Reg64 H = probe(oi.size, offsetof(Hart::TlbEntry, tag_w), slow, A);
        const int c2 = fps ? -1 : cache_[in.rs2];
        const Xbyak::Reg64 &V = c2 >= 0 ? kHost64[c2] : rcx;
        if (fps) fbits_to(rcx, in.rs2);
        else if (c2 < 0) mov(rcx, src(in.rs2));
        switch (oi.size) {
        case 1: mov(byte[H + A], V.cvt8()); break;
        case 2: mov(word[H + A], V.cvt16()); break;
        case 4: mov(dword[H + A], V.cvt32()); break;
        default: mov(qword[H + A], V); break;
        }
        L(done);
        const uint32_t packed = oi.size | unsigned(in.len) << 8;
        const unsigned rs2 = in.rs2;
        cold([this, &slow, &done, packed, pc, excess, rs2, dirty, fps, live, A] {
            L(slow);
            writeback(dirty);
            if (live) fold_flags();
            mov(rsi, A);   // before the thunk sets rdi, which may be A
            if (fps) mov(rdx, fq(rs2));
            else mov(rdx, xreg(rs2));   // written back; its host register may be an argument
            mov(ecx, packed);
            mov(r8, pc);
            mov(r9d, excess);
            call_thunk(j_.thunk_store_, volatile_mask_);
            if (live) clean_mxcsr();
            jmp(done, T_NEAR);
        });
        return true;
    }

    // ---- A ----
    // The same reservation rules as the interpreter's handlers: lr records
    // (va, value); sc succeeds when the reservation matches and memory still
    // holds the value (cmpxchg); either way the reservation is dropped.
    bool atomic(const Insn &in, const OpInfo &oi, uint64_t pc, unsigned excess) {
        const bool w = oi.size == 4;
        Xbyak::Label &done = label();
        Xbyak::Label &slow = fp_generic(in, pc, excess, done);   // the handler, then on
        const int32_t o_valid = off(&h_.s.lr_valid), o_addr = off(&h_.s.lr_addr), o_val = off(&h_.s.lr_val);
        mov(rax, src(in.rs1));
        if (oi.kind == Kind::Sc) {
            Xbyak::Label &fail = label();
            cmp(byte[rbx + o_valid], 0);
            je(fail, T_NEAR);
            cmp(rax, qword[rbx + o_addr]);
            jne(fail, T_NEAR);
            tlb_probe(oi.size, offsetof(Hart::TlbEntry, tag_w), slow, rax);
            add(rdx, rax);
            mov(rcx, src(in.rs2));
            mov(rax, qword[rbx + o_val]);
            lock();
            if (w) cmpxchg(dword[rdx], ecx);
            else cmpxchg(qword[rdx], rcx);
            setne(al);
            movzx(eax, al);   // 0: stored
            Xbyak::Label &res = label();
            jmp(res, T_NEAR);
            L(fail);
            mov(eax, 1);
            L(res);
            mov(byte[rbx + o_valid], 0);
            if (in.rd) set(in.rd, rax);
            L(done);
            return true;
        }
        tlb_probe(oi.size, oi.kind == Kind::Lr ? offsetof(Hart::TlbEntry, tag_r) : offsetof(Hart::TlbEntry, tag_w),
                  slow, rax);
        if (oi.kind == Kind::Lr) {
            mov(qword[rbx + o_addr], rax);
            if (w) mov(ecx, dword[rdx + rax]);   // zero-extended, as lr_val
            else mov(rcx, qword[rdx + rax]);
            mov(qword[rbx + o_val], rcx);
            mov(byte[rbx + o_valid], 1);
        } else {
            add(rdx, rax);
            mov(rcx, src(in.rs2));
            const Xbyak::Reg &v = w ? static_cast<const Xbyak::Reg &>(ecx) : rcx;
            const Xbyak::Address m = w ? dword[rdx] : qword[rdx];
            switch (oi.sub) {
            case ASWAP: xchg(m, v); break;
            case AADD: lock(); xadd(m, v); break;
            default: {   // read, combine, compare-and-swap until it sticks
                Xbyak::Label again;
                const Xbyak::Reg &a = w ? static_cast<const Xbyak::Reg &>(eax) : rax;
                const Xbyak::Reg &t = w ? static_cast<const Xbyak::Reg &>(esi) : rsi;
                mov(a, m);
                L(again);
                mov(t, a);
                switch (oi.sub) {
                case AXOR: xor_(t, v); break;
                case AAND: and_(t, v); break;
                case AOR: or_(t, v); break;
                default:   // min/max: take rs2 where it wins (compares of the operand width)
                    cmp(t, v);
                    if (oi.sub == AMIN) cmovg(t, v);
                    else if (oi.sub == AMAX) cmovl(t, v);
                    else if (oi.sub == AMINU) cmova(t, v);
                    else cmovb(t, v);
                    break;
                }
                lock(); cmpxchg(m, t);
                jne(again);
                mov(v, a);
                break;
            }
            }
        }
        if (in.rd) {
            if (w && !x32_) movsxd(rcx, ecx);   // RV64 sign-extends; RV32 keeps it zero-extended
            set(in.rd, rcx);
        }
        L(done);
        return true;
    }

    // cbo.zero where it is enabled (menvcfg/senvcfg.CBZE, read at run time:
    // blocks outlive envcfg writes) and the block's page is in the TLB for
    // writing (not code, not watched, not MMIO); else the handler.
    bool cbo_zero(const Insn &in, uint64_t pc, unsigned excess) {
        Xbyak::Label &done = label();
        Xbyak::Label &slow = fp_generic(in, pc, excess, done);
        static_assert(menvcfg_bits::CBZE == 0x80);
        const unsigned priv = b_->mode & 3;
        if (priv != PRV_M) {
            test(byte[rbx + off(&h_.s.menvcfg)], 0x80);
            jz(slow, T_NEAR);
            if (priv == PRV_U) {
                test(byte[rbx + off(&h_.s.senvcfg)], 0x80);
                jz(slow, T_NEAR);
            }
        }
        mov(rax, src(in.rs1));
        and_(rax, -64);
        tlb_probe(1, offsetof(Hart::TlbEntry, tag_w), slow, rax);
        add(rdx, rax);
        xorps(xmm0, xmm0);
        for (int i = 0; i < 64; i += 16) movups(ptr[rdx + i], xmm0);
        L(done);
        return true;
    }

    // ---- F/D ----
    Xbyak::Address fq(unsigned r) { return qword[rbx + off(&h_.s.f[r])]; }
    Xbyak::Address fd(unsigned r, int hi = 0) { return dword[rbx + (off(&h_.s.f[r]) + 4 * hi)]; }

    static bool have_bmi2() {
        static const bool has = Xbyak::util::Cpu().has(Xbyak::util::Cpu::tBMI2);
        return has;
    }
    static bool have_sse41() {
        static const bool has = Xbyak::util::Cpu().has(Xbyak::util::Cpu::tSSE41);
        return has;
    }
    static bool have_fma() {
        static const bool has = Xbyak::util::Cpu().has(Xbyak::util::Cpu::tFMA);
        return has;
    }

    // Calls the instruction's interpreter handler from a cold path; leaves
    // the block when it says so (trap, force).
    void call_fallback(const Insn &in, uint64_t pc, unsigned excess, unsigned force, Pending dirty, bool live,
                       uint32_t reload_mask) {
        writeback(dirty);
        if (live) fold_flags();
        emit_fallback_call(in, pc, excess, force, reload_mask);
    }
    // FS == Off: the handler raises the illegal-instruction trap. Checked
    // once per block: only instructions that end the block, or CSR accesses
    // that leave it when they change mstatus, can change FS.
    void fs_gate(const Insn &in, uint64_t pc, unsigned excess) {
        if (fs_ok_) return;
        fs_ok_ = true;
        Xbyak::Label &off_path = label();
        test(dword[rbx + off(&h_.s.mstatus)], static_cast<uint32_t>(mstatus_bits::FS));
        jz(off_path, T_NEAR);
        const Pending dirty = pending();
        const bool live = mx_live_;
        cold([this, &off_path, in, pc, excess, dirty, live] {
            L(off_path);
            call_fallback(in, pc, excess, kLeaveAlways, dirty, live, 0);
            jmp(j_.exit0_, T_NEAR);
        });
    }
    // An f register was written: FS = Dirty (once per block: nothing in a
    // block makes it clean again).
    void fs_dirty() {
        if (fs_dirtied_) return;
        fs_dirtied_ = true;
        or_(dword[rbx + off(&h_.s.mstatus)], static_cast<uint32_t>(mstatus_bits::FS));
    }
    // The instruction again through its handler (exact NaNs, flags, odd
    // cases), then back to `done`.
    Xbyak::Label &fp_generic(const Insn &in, uint64_t pc, unsigned excess, Xbyak::Label &done) {
        Xbyak::Label &l = label();
        const Pending dirty = pending();
        const bool live = mx_live_;
        cold([this, &l, &done, in, pc, excess, dirty, live] {
            L(l);
            call_fallback(in, pc, excess, kGoOn, dirty, live, cached_mask_);
            if (live) clean_mxcsr();
            jmp(done, T_NEAR);
        });
        return l;
    }

    bool fp(const Insn &in, const OpInfo &oi, uint64_t pc, unsigned excess) {
        const Kind k = oi.kind;
        if (k == Kind::FLoad) return load(in, oi, pc, excess);
        if (k == Kind::FStore) return store(in, oi, pc, excess);
        const unsigned rm = (in.raw >> 12) & 7, rs1 = in.rs1, rs2 = in.rs2, rd = in.rd;
        const bool has_rm = k == Kind::FArith || k == Kind::FSqrt || k == Kind::FFma || k == Kind::FCvtXF ||
                            k == Kind::FCvtFX || k == Kind::FCvtSD || k == Kind::FCvtDS;
        // Exact results: any valid rounding mode gives the same.
        const bool exact = k == Kind::FCvtDS || (k == Kind::FCvtFX && oi.dbl && rs2 < 2);
        // float -> int: RTZ (cvtt*), RDN and RUP (round*, SSE4.1) natively too.
        const bool to_int_rm = k == Kind::FCvtXF && (rm == 1 || ((rm == 2 || rm == 3) && have_sse41()));
        if (has_rm && !(rm == 0 || rm == 7 || to_int_rm || (exact && rm <= 4))) {
            fallback(in, pc, excess, kGoOn);   // RTZ/RDN/RUP/RMM arithmetic, invalid rm
            return true;
        }
        if (k == Kind::FFma && !have_fma()) {
            fallback(in, pc, excess, kGoOn);
            return true;
        }
        fs_gate(in, pc, excess);
        const bool mx = k != Kind::FSgnj && k != Kind::FMvXF && k != Kind::FMvFX;
        if (mx && !mx_live_) {
            clean_mxcsr();
            mx_live_ = true;
        }
        Xbyak::Label &done = label();
        Xbyak::Label &gen = fp_generic(in, pc, excess, done);
        // Dynamic rounding: frm must be RNE (or valid, for exact ones).
        // Checked once per block (again after an instruction run by its
        // handler, which may write frm); when it is not, the instruction
        // runs through the handler and the block leaves, so the code after
        // it may assume the check passed.
        if (has_rm && rm == 7 && !(frm_rne_ok_ || (exact && frm_valid_ok_))) {
            Xbyak::Label &bad = label();
            cmp(byte[rbx + off(&h_.s.frm)], exact ? 4 : 0);
            if (exact) ja(bad, T_NEAR);
            else jne(bad, T_NEAR);
            cold([this, &bad, in, pc, excess, dirty = pending(), live = mx_live_] {
                L(bad);
                call_fallback(in, pc, excess, kLeaveAlways, dirty, live, 0);
                jmp(j_.exit0_, T_NEAR);
            });
            (exact ? frm_valid_ok_ : frm_rne_ok_) = true;
        }
        const bool d = oi.dbl;
        auto boxed = [&](unsigned r) {   // an unboxed single reads as the canonical NaN
            cmp(fd(r, 1), -1);
            jne(gen, T_NEAR);
        };
        auto box_srcs = [&](std::initializer_list<unsigned> rs) {
            if (!d)
                for (unsigned r : rs) boxed(r);
        };
        auto nan_to_generic = [&](bool dd) {   // RISC-V returns the canonical NaN
            if (dd) ucomisd(xmm0, xmm0);
            else ucomiss(xmm0, xmm0);
            jp(gen, T_NEAR);
        };
        auto put = [&](bool dd) {
            if (dd && fcache_[rd] >= 0) {
                movaps(kXmm[fcache_[rd]], xmm0);
                fdirty_ |= 1u << rd;
            } else if (dd) {
                movsd(fq(rd), xmm0);
            } else {
                movss(fd(rd), xmm0);
                mov(fd(rd, 1), -1);
            }
            fs_dirty();
        };
        auto load_to = [&](const Xbyak::Xmm &x, unsigned r) {   // x = f[r]
            if (d && fcache_[r] >= 0) movaps(x, kXmm[fcache_[r]]);
            else if (d) movsd(x, fq(r));
            else movss(x, fd(r));
        };
        auto load_x0 = [&](unsigned r) { load_to(xmm0, r); };
        switch (k) {
        case Kind::FArith: {
            box_srcs({rs1, rs2});
            load_x0(rs1);
            const Xbyak::Operand &b = d ? fsrc(rs2) : addrs_.emplace_back(fd(rs2));
            switch (oi.sub) {
            case FADD: d ? addsd(xmm0, b) : addss(xmm0, b); break;
            case FSUB: d ? subsd(xmm0, b) : subss(xmm0, b); break;
            case FMUL: d ? mulsd(xmm0, b) : mulss(xmm0, b); break;
            default: d ? divsd(xmm0, b) : divss(xmm0, b); break;
            }
            nan_to_generic(d);
            put(d);
            break;
        }
        case Kind::FSqrt:
            box_srcs({rs1});
            if (d) sqrtsd(xmm0, fsrc(rs1));
            else sqrtss(xmm0, fd(rs1));
            nan_to_generic(d);
            put(d);
            break;
        case Kind::FFma: {
            box_srcs({rs1, rs2, in.rs3});
            load_x0(rs1);
            load_to(xmm1, rs2);
            const Xbyak::Operand &c = d ? fsrc(in.rs3) : addrs_.emplace_back(fd(in.rs3));
            // RISC-V fnmsub = -(a*b)+c is x86 fnmadd; fnmadd = -(a*b)-c is fnmsub.
            switch (oi.sub) {
            case 0: d ? vfmadd213sd(xmm0, xmm1, c) : vfmadd213ss(xmm0, xmm1, c); break;
            case 1: d ? vfmsub213sd(xmm0, xmm1, c) : vfmsub213ss(xmm0, xmm1, c); break;
            case 2: d ? vfnmadd213sd(xmm0, xmm1, c) : vfnmadd213ss(xmm0, xmm1, c); break;
            default: d ? vfnmsub213sd(xmm0, xmm1, c) : vfnmsub213ss(xmm0, xmm1, c); break;
            }
            nan_to_generic(d);
            put(d);
            break;
        }
        case Kind::FMinMax: {   // minimumNumber/maximumNumber; a NaN goes to the handler
            box_srcs({rs1, rs2});
            load_x0(rs1);
            load_to(xmm1, rs2);
            if (d) ucomisd(xmm0, xmm1);
            else ucomiss(xmm0, xmm1);
            jp(gen, T_NEAR);
            Xbyak::Label &ne = label(), &out = label();
            jne(ne, T_NEAR);
            // Equal, zeros of either sign included: -0 is the smaller, so
            // the OR of the bits for min, the AND for max.
            if (oi.sub == 0) orps(xmm0, xmm1);
            else andps(xmm0, xmm1);
            jmp(out, T_NEAR);
            L(ne);
            if (oi.sub == 0) d ? minsd(xmm0, xmm1) : minss(xmm0, xmm1);
            else d ? maxsd(xmm0, xmm1) : maxss(xmm0, xmm1);
            L(out);
            put(d);
            break;
        }
        case Kind::FSgnj: {   // bit operations; no flags
            box_srcs({rs1, rs2});
            const int top = d ? 63 : 31;
            const Xbyak::Reg &a = d ? static_cast<const Xbyak::Reg &>(rax) : eax;
            const Xbyak::Reg &b = d ? static_cast<const Xbyak::Reg &>(rcx) : ecx;
            if (d) {
                fbits_to(rax, rs1);
                fbits_to(rcx, rs2);
            } else {
                mov(a, fd(rs1));
                mov(b, fd(rs2));
            }
            if (oi.sub == 1) not_(b);
            shr(b, top);
            shl(b, top);   // the sign bit of rs2 (inverted for sgnjn)
            if (oi.sub == 2) {
                xor_(a, b);
            } else {
                btr(a, top);
                or_(a, b);
            }
            if (d) {
                fbits_from(rd, rax);
            } else {
                mov(fd(rd), eax);
                mov(fd(rd, 1), -1);
            }
            fs_dirty();
            break;
        }
        case Kind::FCmp:
            box_srcs({rs1, rs2});
            if (oi.sub == FEQ) {   // quiet: NV only for signalling NaNs, as ucomis*
                load_x0(rs1);
                if (d) ucomisd(xmm0, fsrc(rs2));
                else ucomiss(xmm0, fd(rs2));
                setnp(al);
                sete(cl);
                and_(al, cl);
            } else {   // signalling: NV for any NaN, as comis*; rs2 > rs1 / rs2 >= rs1
                load_x0(rs2);
                if (d) comisd(xmm0, fsrc(rs1));
                else comiss(xmm0, fd(rs1));
                if (oi.sub == FLT) seta(al);
                else setae(al);
            }
            movzx(eax, al);
            if (rd) set(rd, rax);
            break;
        case Kind::FMvXF:
            if (d) fbits_to(rax, rs1);
            else if (x32_) mov(eax, fd(rs1));
            else movsxd(rax, fd(rs1));
            if (rd) set(rd, rax);
            break;
        case Kind::FMvFX:
            if (d) {
                mov(rax, src(rs1));
                fbits_from(rd, rax);
            } else {
                mov(eax, src(rs1, 32));
                mov(fd(rd), eax);
                mov(fd(rd, 1), -1);
            }
            fs_dirty();
            break;
        case Kind::FCvtXF: {
            // In range (checked on the bits, so no flag is raised first): the
            // host conversion is exact; else the handler saturates.
            const unsigned t = rs2;   // 0 w, 1 wu, 2 l, 3 lu
            const bool sgn = t == 0 || t == 2;
            // RDN/RUP: round to an integer first (inexact raises PE: NX),
            // then the exact truncating conversion.
            const bool rtz = rm == 1 || rm == 2 || rm == 3;
            const uint8_t round_mode = rm == 2 ? 1 : rm == 3 ? 2 : 0;   // roundsd: 01 down, 10 up
            if (d) {
                static constexpr uint64_t bound[] = {0x41dfffffffc00000ull /* 2^31-1 */,
                                                     0x41efffffffe00000ull /* 2^32-1 */,
                                                     0x43e0000000000000ull /* 2^63 */, 0x43e0000000000000ull};
                fbits_to(rax, rs1);
                if (sgn) {
                    mov(rcx, rax);
                    btr(rcx, 63);
                } else {
                    mov(rcx, rax);
                }
                mov(rdx, bound[t]);
                cmp(rcx, rdx);
                jae(gen, T_NEAR);
                if (round_mode) roundsd(xmm0, fsrc(rs1), round_mode);
                const Xbyak::Operand &x = round_mode ? static_cast<const Xbyak::Operand &>(xmm0) : fsrc(rs1);
                if (t == 0) rtz ? cvttsd2si(eax, x) : cvtsd2si(eax, x);
                else rtz ? cvttsd2si(rax, x) : cvtsd2si(rax, x);
            } else {
                static constexpr uint32_t bound[] = {0x4f000000u /* 2^31 */, 0x4f800000u /* 2^32 */,
                                                     0x5f000000u /* 2^63 */, 0x5f000000u};
                boxed(rs1);
                mov(ecx, fd(rs1));
                if (sgn) btr(ecx, 31);
                cmp(ecx, bound[t]);
                jae(gen, T_NEAR);
                const Xbyak::Address f = fd(rs1);
                if (round_mode) roundss(xmm0, f, round_mode);
                const Xbyak::Operand &x = round_mode ? static_cast<const Xbyak::Operand &>(xmm0) : f;
                if (t == 0) rtz ? cvttss2si(eax, x) : cvtss2si(eax, x);
                else rtz ? cvttss2si(rax, x) : cvtss2si(rax, x);
            }
            if (t < 2 && !x32_) movsxd(rax, eax);   // RV64 sign-extends 32-bit results
            if (rd) set(rd, rax);
            break;
        }
        case Kind::FCvtFX: {
            const unsigned t = rs2;
            switch (t) {
            case 0: movsxd(rax, src(rs1, 32)); break;
            case 1: mov(eax, src(rs1, 32)); break;
            default:
                mov(rax, src(rs1));
                if (t == 3) {   // >= 2^63: no unsigned conversion before AVX-512
                    test(rax, rax);
                    js(gen, T_NEAR);
                }
                break;
            }
            xorps(xmm0, xmm0);   // no false dependency on the old xmm0
            if (d) cvtsi2sd(xmm0, rax);
            else cvtsi2ss(xmm0, rax);
            put(d);
            break;
        }
        case Kind::FCvtSD:
            cvtsd2ss(xmm0, fsrc(rs1));
            nan_to_generic(false);
            put(false);
            break;
        case Kind::FCvtDS:
            boxed(rs1);
            cvtss2sd(xmm0, fd(rs1));
            nan_to_generic(true);
            put(true);
            break;
        default: break;
        }
        L(done);
        return true;
    }

    Jit &j_;
    Hart &h_;
    Block *b_ = nullptr;
    unsigned n_ = 0;                      // instructions in the block
    bool self_loop_ = false;              // ends with a direct branch/jump to its start
    bool mx_loop_ = false;                // ... and MXCSR is loaded before the loop head
    bool fast_loop_ = false;              // ... or not: the entry checks are at the loop head
    Xbyak::Label *no_entry_ = nullptr;    // leave before the block (pc = its start)
    Xbyak::Label *head_ = nullptr;        // after the prologue and register loads
    std::array<int8_t, 32> cache_{};   // guest register -> host slot, or -1
    uint32_t cached_mask_ = 0, volatile_mask_ = 0, dirty_ = 0;
    uint32_t read_first_ = 0;   // x registers the block may read before it writes them
    // Fast loops: cached registers holding a W result not yet sign-extended
    // (narrow_), those allowed to (eligible_), those the current
    // instruction left so.
    uint32_t narrow_ = 0, eligible_ = 0, just_narrowed_ = 0;
    const bool x32_ = h_.cfg.xlen == 32;   // RV32: registers hold zero-extended 32-bit values
    const uint64_t xmask_ = h_.xmask();
    std::vector<uint32_t> live_after_;   // per instruction: x registers read later before written
    std::vector<int8_t> memo_of_;        // per instruction: its memo in a loop, or -1
    // Longest loop bodies emitted twice, and four times.
    static constexpr unsigned kUnrollMax = 16, kUnroll4Max = 8;
    bool first_copy_ = false;   // not the last copy of an unrolled loop body
    std::array<int8_t, Ctx::kMemos> memo_reg_{};   // each memo's kHost64 slot (the addend)
    unsigned nmemos_ = 0;
    unsigned cur_ = 0;                   // the instruction being translated
    // f registers in xmm2..xmm15: only those no single-precision op of the
    // block touches (so NaN-boxing checks can read memory); reloaded after
    // every call.
    std::array<int8_t, 32> fcache_{};
    uint32_t fcached_mask_ = 0, fdirty_ = 0;
    std::deque<Xbyak::Address> addrs_;
    std::deque<Xbyak::Label> labels_;
    struct Cold {
        void (*run)(void *);
        void (*destroy)(void *);
        void *fn;
    };
    alignas(std::max_align_t) std::array<std::byte, 16384> cold_buf_;
    std::pmr::monotonic_buffer_resource cold_arena_{cold_buf_.data(), cold_buf_.size()};
    std::deque<Cold> cold_;
    bool mx_live_ = false;       // MXCSR loaded clean (flags accumulate since)
    bool fs_ok_ = false;         // FS != Off checked in this block
    bool frm_rne_ok_ = false;    // frm == RNE checked (since the last handler-run instruction)
    bool frm_valid_ok_ = false;  // frm <= 4 checked
    bool fs_dirtied_ = false;    // FS set to Dirty on this block's straight line
    std::deque<std::pair<Xbyak::Label *, Insn>> insn_labels_;
};

void Jit::emit_prelude() {
    Emitter e(*this, cache_.base() + kCtxPage, cache_.size() - kCtxPage);
    e.prelude();
    prelude_end_ = used_ = kCtxPage + ((e.getSize() + 63) & ~size_t(63));
}

Block *Jit::translate(uint64_t pc, uint64_t pa, uint32_t mode) {
    // Decode first (fetch may evict decoded pages, which flushes us), then emit.
    std::vector<Insn> ins;
    std::vector<uint64_t> pcs;
    const unsigned max = std::max(1u, opt_.max_insns);
    uint64_t vpc = pc;
    bool crossing = false;   // the first instruction straddles two pages
    while (ins.size() < max && (vpc >> 12) == (pc >> 12)) {
        const Insn *in;
        Insn tmp;
        try {
            in = &h.peek(vpc, tmp);
        } catch (const Trap &) {
            break;   // the dispatcher meets the fault when it gets there
        }
        if (in == &h.scratch_) {   // page-crossing or not RAM: interpreted
            crossing = ins.empty() && (vpc & 0xfff) == 0xffe;
            break;
        }
        ins.push_back(*in);
        pcs.push_back(vpc);
        vpc += in->len;
        if (op_info(*in, h.cfg.xlen).ends) break;
    }
    // An instruction straddling two pages gets a block whose code returns to
    // the dispatcher, which interprets it (Linux runs some often: each
    // attempt to translate them cost page walks); it is chained to and found
    // in the jump cache like any block, and goes with its page.
    const bool interp = ins.empty();
    if (interp && !crossing) return nullptr;
    maybe_flush_for_space();
    Block tmpl;
    tmpl.pc = pc;
    tmpl.pa = pa;
    tmpl.mode = static_cast<uint8_t>(mode);
    tmpl.interp = interp;
    tmpl.bytes = static_cast<uint16_t>(interp ? 2 : vpc - pc);
    tmpl.epoch = ctx_.epoch;
    if (!h.code_page(pa & ~0xfffull)) return nullptr;   // no longer RAM
    Block *blk = pool_.get();
    for (int attempt = 0;; ++attempt) {
        try {
            Emitter e(*this, cache_.base() + used_, cache_.size() - used_);
            *blk = tmpl;
            if (interp) e.interp_stub(*blk);
            else e.block(*blk, ins, pcs);
            used_ += (e.getSize() + 15) & ~size_t(15);
            break;
        } catch (const Xbyak::Error &) {
            if (attempt) {
                pool_.put(blk);
                throw;
            }
            flush();   // out of room: start over with an empty cache
        }
    }
    if (opt_.out_asm) {
        char head[96];
        std::snprintf(head, sizeof head, "OUT: [size=%u] guest pc 0x%016llx\n", blk->code_size,
                      static_cast<unsigned long long>(pc));
        opt_.out_asm(std::string(head) + disas_host(blk->code, blk->code_size) + "\n");
    }
    if (opt_.perfmap) perfmap_add(blk->code, blk->code_size, pc);
    if (opt_.jitdump) jitdump_add(blk->code, blk->code_size, pc);
    ++stats_.blocks;
    by_page_[pa >> 12].push_back(blk);
    insert_block(blk);
    return blk;
}

}  // namespace rv::jit
