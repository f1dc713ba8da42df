// Code generation: guest instructions -> x86-64 with xbyak.
//
// Register use inside generated code:
//   rbx = Hart*  (guest registers, pc, instret, TLB and check_ are rbx-relative)
//   r12 = Ctx*   (budget, mode key)
//   r13 r14 r15 rbp: up to four guest registers cached for the block
//   rax rcx rdx rsi rdi r8-r11 scratch; rsp is 16-byte aligned at helper calls.
// Guest registers live in Hart::s.x (x0 is always 0 there), so any
// instruction may be left to its interpreter handler. The block's most used
// registers are loaded into host registers after the prologue; modified ones
// are written back before any helper call and before every exit, and all are
// reloaded after a call that may have changed them.
//
// Instruction counting: a block adds its length to instret (and subtracts it
// from the budget) on entry; helpers that may trap or leave early get the
// not-yet-retired count ("excess") and correct instret themselves.
#include "jit.hpp"

#include "../core/isa/isa.hpp"

#include <xbyak/xbyak.h>

#include <cstdio>
#include <cstring>
#include <array>
#include <deque>

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
};
enum Alu : uint8_t { ADD, SUB, SLL, SLT, SLTU, XOR, SRL, SRA, OR, AND };
enum Cond : uint8_t { EQ, NE, LT, GE, LTU, GEU };

struct OpInfo {
    Kind kind = Kind::Fallback;
    uint8_t sub = 0;      // Alu / Cond
    uint8_t size = 0;     // load/store bytes
    bool sign = false;    // sign-extending load
    bool ends = false;    // block ends after it (control flow, SYSTEM, fence.i)
    bool force_exit = false;   // always return to the dispatcher after it
};

struct NativeLine {
    const char *name;
    Kind kind;
    uint8_t sub = 0, size = 0;
    bool sign = false;
};

constexpr NativeLine kNative[] = {
    {"lui", Kind::Lui}, {"auipc", Kind::Auipc}, {"jal", Kind::Jal}, {"jalr", Kind::Jalr},
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
};

// Extensions whose handlers only compute registers from registers.
bool pure_ext(Ext e) {
    return e == Ext::M || e == Ext::Zba || e == Ext::Zbb || e == Ext::Zbc || e == Ext::Zbs ||
           e == Ext::Zicond;
}

struct OpTable {
    std::vector<OpInfo> by_op[2];   // [0] RV32 (no native code yet), [1] RV64
    OpTable() {
        auto ops = all_ops();
        for (auto &v : by_op) v.resize(ops.size());
        for (size_t i = 0; i < ops.size(); ++i) {
            const OpDesc &d = *ops[i];
            OpInfo base;
            std::string_view name = d.name;
            bool system = (d.match & 0x7f) == 0x73;
            bool cf = (d.match & 0x7f) == 0x63 || name == "jal" || name == "jalr";
            base.ends = system || cf || name == "fence.i";
            base.force_exit = system || name == "fence.i";
            if (pure_ext(d.ext) && !cf) base.kind = Kind::Pure;
            by_op[0][i] = base;
            OpInfo o64 = base;
            for (const NativeLine &n : kNative) {
                if (name != n.name) continue;
                o64.kind = n.kind;
                o64.sub = n.sub;
                o64.size = n.size;
                o64.sign = n.sign;
            }
            by_op[1][i] = o64;
        }
    }
};

const OpInfo &op_info(const Insn &in, unsigned xlen) {
    static const OpTable t;
    static const OpInfo illegal{Kind::Fallback, 0, 0, false, true, true};
    if (in.op == 0xffff) return illegal;
    return t.by_op[xlen == 64][in.op];
}

// ---- Helpers called from generated code. They never let an exception out:
// traps are entered here and reported as "leave the generated code" (1). ----

Jit &jit_of(Hart &h) { return *static_cast<Jit *>(h.engine_); }

bool must_leave(Hart &h) {
    return h.check_.load(std::memory_order_relaxed) || jit_of(h).invalidated_;
}

int helper_fallback(Hart *hp, const Insn *in, uint64_t pc, uint64_t excess, uint64_t force) {
    Hart &h = *hp;
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
    if (force || h.npc_ != pc + in->len || must_leave(h)) {
        h.s.instret += 1;
        h.s.pc = h.npc_ & h.xmask();
        return 1;
    }
    h.s.instret += excess;
    return 0;
}

// packed: rd | size << 8 | sign << 16 | len << 24
int helper_load(Hart *hp, uint64_t va, uint64_t packed, uint64_t pc, uint64_t excess) {
    Hart &h = *hp;
    const unsigned rd = packed & 31, size = (packed >> 8) & 15, len = (packed >> 24) & 7;
    const bool sign = (packed >> 16) & 1;
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
    if (rd) h.s.x[rd] = v;
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
    void writeback(uint32_t mask) {
        for (unsigned r = 1; r < 32; ++r)
            if ((mask >> r) & 1) mov(xreg(r), kHost64[cache_[r]]);
    }
    void sync() {   // before a call or an exit on the hot path
        writeback(dirty_);
        dirty_ = 0;
    }
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
        mov(r12, rsi);
        jmp(rdx);
        align(16);
        j_.exit0_ = getCurr();
        xor_(eax, eax);
        j_.epilogue_ = getCurr();
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
            mov(rdx, qword[r12 + offsetof(Ctx, mode)]);
            cmp(qword[rcx + 8], rdx);
            jne(j_.exit0_);
            jmp(qword[rcx + 16]);
        } else {
            jmp(j_.exit0_);
        }
    }

    void block(Block &b, std::span<const Insn> ins, std::span<const uint64_t> pcs) {
        b_ = &b;
        const unsigned n = static_cast<unsigned>(ins.size());
        b.code = getCurr();
        // Prologue: leave if an event is pending or the budget is spent.
        Xbyak::Label &no_entry = label();
        cmp(byte[rbx + off(&h_.check_)], 0);
        jne(no_entry, T_NEAR);
        cmp(qword[r12 + offsetof(Ctx, left)], 0);
        jle(no_entry, T_NEAR);
        mov(rax, reinterpret_cast<uintptr_t>(&b.epoch));
        mov(rax, qword[rax]);
        cmp(rax, qword[r12 + offsetof(Ctx, epoch)]);
        jne(no_entry, T_NEAR);   // its bytes must be checked again
        sub(qword[r12 + offsetof(Ctx, left)], n);
        add(qword[rbx + off(&h_.s.instret)], n);
        cold([this, &no_entry, pc = pcs[0]] {
            L(no_entry);
            mov(rax, pc);
            mov(qword[rbx + off(&h_.s.pc)], rax);
            jmp(j_.exit0_);
        });
        choose_cached(ins);
        reload(cached_mask_);
        bool open = true;   // falls through to the next instruction
        for (unsigned i = 0; i < n; ++i) {
            const Insn &in = ins[i];
            open = insn(in, op_info(in, h_.cfg.xlen), pcs[i], n - i);
        }
        if (open) {
            sync();
            exit_to(pcs[n - 1] + ins[n - 1].len);
        }
        for (auto &c : cold_) c();
        // Copies of the decoded instructions the helpers read.
        align(8);
        for (unsigned i = 0; i < insn_labels_.size(); ++i) {
            L(*insn_labels_[i].first);
            const auto *p = reinterpret_cast<const uint8_t *>(&insn_labels_[i].second);
            for (size_t k = 0; k < sizeof(Insn); ++k) db(p[k]);
        }
        b.code_size = getSize();
    }

private:
    inline static const Xbyak::Reg64 kHost64[4] = {Xbyak::util::r13, Xbyak::util::r14, Xbyak::util::r15,
                                                    Xbyak::util::rbp};
    inline static const Xbyak::Reg32 kHost32[4] = {Xbyak::util::r13d, Xbyak::util::r14d, Xbyak::util::r15d,
                                                   Xbyak::util::ebp};

    // The block's most used registers (two uses or more) get host registers.
    void choose_cached(std::span<const Insn> ins) {
        std::array<unsigned, 32> uses{};
        for (const Insn &in : ins) {
            const OpInfo &oi = op_info(in, h_.cfg.xlen);
            if (oi.kind == Kind::Fallback || oi.kind == Kind::Pure) continue;
            ++uses[in.rs1];
            ++uses[in.rs2];   // counted for all kinds: harmless over-estimate
            ++uses[in.rd];
        }
        uses[0] = 0;
        cache_.fill(-1);
        cached_mask_ = 0;
        for (int slot = 0; slot < 4; ++slot) {
            unsigned best = 0;
            for (unsigned r = 1; r < 32; ++r)
                if (cache_[r] < 0 && uses[r] > uses[best]) best = r;
            if (uses[best] < 2) break;
            cache_[best] = slot;
            cached_mask_ |= 1u << best;
        }
    }

    Xbyak::Label &label() { return labels_.emplace_back(); }
    void cold(std::function<void()> f) { cold_.push_back(std::move(f)); }
    bool has_c() const { return (h_.s.misa >> 2) & 1; }
    bool same_page(uint64_t pc) const { return (pc >> 12) == (b_->pc >> 12); }

    // rsi = &copy of `in` (emitted after the code).
    void insn_addr(const Insn &in) {
        Xbyak::Label &l = label();
        insn_labels_.emplace_back(&l, in);
        lea(rsi, ptr[rip + l]);
    }
    void call_fn(const void *fn) {
        mov(rax, reinterpret_cast<uintptr_t>(fn));
        call(rax);
    }
    // Hot path: sync first. `reload_after`: the code continues after it.
    void fallback(const Insn &in, uint64_t pc, unsigned excess, bool force, bool reload_after = true) {
        sync();
        mov(rdi, rbx);
        insn_addr(in);
        mov(rdx, pc);
        mov(ecx, excess);
        mov(r8d, force ? 1 : 0);
        call_fn(reinterpret_cast<const void *>(&helper_fallback));
        test(eax, eax);
        jnz(j_.exit0_);
        if (reload_after) reload(cached_mask_);
    }

    // Leave the block for `target` (a direct, statically known pc).
    void exit_to(uint64_t target) {
        if (j_.opt_.chain && same_page(target) && b_->nexits < 2) {
            BlockExit &e = b_->exits[b_->nexits++];
            e.from = b_;
            e.target_pc = target;
            Xbyak::Label &stub = label();
            e.site = const_cast<uint8_t *>(getCurr());
            jmp(stub, T_NEAR);   // E9 rel32: patched when chained
            cold([this, &stub, &e, target] {
                L(stub);
                e.stub = const_cast<uint8_t *>(getCurr());
                mov(rax, target);
                mov(qword[rbx + off(&h_.s.pc)], rax);
                mov(rax, reinterpret_cast<uintptr_t>(&e));
                jmp(j_.epilogue_, T_NEAR);
            });
            return;
        }
        mov(rax, target);
        jmp(j_.lookup_, T_NEAR);
    }
    bool aligned_target(uint64_t t) const { return has_c() || (t & 2) == 0; }

    // Returns whether execution falls through to the next instruction.
    bool insn(const Insn &in, const OpInfo &oi, uint64_t pc, unsigned excess) {
        const uint64_t next = pc + in.len;
        const unsigned rd = in.rd;
        switch (oi.kind) {
        case Kind::Fallback:
            fallback(in, pc, excess, oi.force_exit);
            return true;
        case Kind::Pure:
            if (rd == 0) return true;   // no architectural effect
            sync();
            mov(rdi, rbx);
            insn_addr(in);
            call_fn(reinterpret_cast<const void *>(in.fn));
            reload(1u << rd);
            return true;
        case Kind::Lui:
            if (rd) {
                mov(rax, static_cast<uint64_t>(static_cast<int64_t>(in.imm)));
                set(rd, rax);
            }
            return true;
        case Kind::Auipc:
            if (rd) {
                mov(rax, pc + static_cast<int64_t>(in.imm));
                set(rd, rax);
            }
            return true;
        case Kind::Jal: {
            uint64_t t = pc + static_cast<int64_t>(in.imm);
            if (!aligned_target(t)) {
                fallback(in, pc, excess, true, false);
                return true;
            }
            if (rd) {
                mov(rax, next);
                set(rd, rax);
            }
            sync();
            exit_to(t);
            return false;
        }
        case Kind::Jalr: {
            mov(rax, src(in.rs1));
            if (in.imm) add(rax, in.imm);
            and_(rax, -2);
            sync();
            if (!has_c()) {
                Xbyak::Label &bad = label();
                test(al, 2);
                jnz(bad, T_NEAR);
                cold([this, &bad, in, pc, excess] {
                    L(bad);
                    fallback(in, pc, excess, true, false);   // all written back already
                    jmp(j_.exit0_, T_NEAR);
                });
            }
            if (rd) {
                mov(rcx, next);
                mov(xreg(rd), rcx);
            }
            jmp(j_.lookup_, T_NEAR);
            return false;
        }
        case Kind::Branch: {
            uint64_t t = pc + static_cast<int64_t>(in.imm);
            Xbyak::Label &taken = label();
            sync();
            mov(rax, src(in.rs1));
            cmp(rax, src(in.rs2));
            switch (oi.sub) {
            case EQ: je(taken, T_NEAR); break;
            case NE: jne(taken, T_NEAR); break;
            case LT: jl(taken, T_NEAR); break;
            case GE: jge(taken, T_NEAR); break;
            case LTU: jb(taken, T_NEAR); break;
            default: jae(taken, T_NEAR); break;
            }
            exit_to(next);
            L(taken);
            if (aligned_target(t)) {
                exit_to(t);
            } else {
                fallback(in, pc, excess, true, false);   // raises the misaligned-target trap
                jmp(j_.exit0_, T_NEAR);
            }
            return false;
        }
        case Kind::Load: return load(in, oi, pc, excess);
        case Kind::Store: return store(in, oi, pc, excess);
        default: break;
        }
        // Register-register / register-immediate arithmetic.
        if (rd == 0) return true;
        const int32_t imm = in.imm;
        switch (oi.kind) {
        case Kind::AluR:
            mov(rax, src(in.rs1));
            switch (oi.sub) {
            case ADD: add(rax, src(in.rs2)); break;
            case SUB: sub(rax, src(in.rs2)); break;
            case XOR: xor_(rax, src(in.rs2)); break;
            case OR: or_(rax, src(in.rs2)); break;
            case AND: and_(rax, src(in.rs2)); break;
            case SLL: mov(rcx, src(in.rs2)); shl(rax, cl); break;
            case SRL: mov(rcx, src(in.rs2)); shr(rax, cl); break;
            case SRA: mov(rcx, src(in.rs2)); sar(rax, cl); break;
            case SLT: cmp(rax, src(in.rs2)); setl(al); movzx(eax, al); break;
            case SLTU: cmp(rax, src(in.rs2)); setb(al); movzx(eax, al); break;
            }
            break;
        case Kind::AluI:
            mov(rax, src(in.rs1));
            switch (oi.sub) {
            case ADD: if (imm) add(rax, imm); break;
            case XOR: xor_(rax, imm); break;
            case OR: or_(rax, imm); break;
            case AND: and_(rax, imm); break;
            case SLL: shl(rax, imm & 63); break;
            case SRL: shr(rax, imm & 63); break;
            case SRA: sar(rax, imm & 63); break;
            case SLT: cmp(rax, imm); setl(al); movzx(eax, al); break;
            case SLTU: cmp(rax, imm); setb(al); movzx(eax, al); break;
            }
            break;
        case Kind::AluRW:
            mov(eax, src(in.rs1, 32));
            switch (oi.sub) {
            case ADD: add(eax, src(in.rs2, 32)); break;
            case SUB: sub(eax, src(in.rs2, 32)); break;
            case SLL: mov(ecx, src(in.rs2, 32)); shl(eax, cl); break;
            case SRL: mov(ecx, src(in.rs2, 32)); shr(eax, cl); break;
            default: mov(ecx, src(in.rs2, 32)); sar(eax, cl); break;
            }
            movsxd(rax, eax);
            break;
        case Kind::AluIW:
            mov(eax, src(in.rs1, 32));
            switch (oi.sub) {
            case ADD: if (imm) add(eax, imm); break;
            case SLL: shl(eax, imm & 31); break;
            case SRL: shr(eax, imm & 31); break;
            default: sar(eax, imm & 31); break;
            }
            movsxd(rax, eax);
            break;
        case Kind::Mul:
            mov(rax, src(in.rs1));
            imul(rax, src(in.rs2));
            break;
        case Kind::MulW:
            mov(eax, src(in.rs1, 32));
            imul(eax, src(in.rs2, 32));
            movsxd(rax, eax);
            break;
        case Kind::MulH:
            mov(rax, src(in.rs1));
            imul(src(in.rs2));
            mov(rax, rdx);
            break;
        case Kind::MulHU:
            mov(rax, src(in.rs1));
            mul(src(in.rs2));
            mov(rax, rdx);
            break;
        default: break;
        }
        set(rd, rax);
        return true;
    }

    // rax = va; rdx = index into the TLB set (entries of this mode's data privilege).
    void tlb_probe(unsigned size, size_t tag_field, Xbyak::Label &slow) {
        mov(rcx, rax);
        shr(rcx, 12);
        mov(edx, ecx);
        and_(edx, Hart::kTlbSize - 1);
        imul(edx, edx, static_cast<int>(sizeof(Hart::TlbEntry)));
        cmp(qword[rbx + rdx + (tlb_base() + static_cast<int32_t>(tag_field))], rcx);
        jne(slow, T_NEAR);
        if (size > 1) {
            test(al, size - 1);
            jnz(slow, T_NEAR);
        }
        mov(rdx, qword[rbx + rdx + (tlb_base() + static_cast<int32_t>(offsetof(Hart::TlbEntry, addend)))]);
    }
    int32_t tlb_base() const { return off(&h_.tlb_[h_.data_priv()][0]); }

    bool load(const Insn &in, const OpInfo &oi, uint64_t pc, unsigned excess) {
        Xbyak::Label &slow = label(), &done = label();
        const uint32_t dirty = dirty_;   // what the slow path must write back
        mov(rax, src(in.rs1));
        if (in.imm) add(rax, in.imm);
        tlb_probe(oi.size, offsetof(Hart::TlbEntry, tag_r), slow);
        switch (oi.size) {
        case 1: oi.sign ? movsx(rcx, byte[rdx + rax]) : movzx(ecx, byte[rdx + rax]); break;
        case 2: oi.sign ? movsx(rcx, word[rdx + rax]) : movzx(ecx, word[rdx + rax]); break;
        case 4: oi.sign ? movsxd(rcx, dword[rdx + rax]) : mov(ecx, dword[rdx + rax]); break;
        default: mov(rcx, qword[rdx + rax]); break;
        }
        if (in.rd) set(in.rd, rcx);
        L(done);
        const uint32_t packed = in.rd | oi.size << 8 | (oi.sign ? 1u : 0u) << 16 | unsigned(in.len) << 24;
        const unsigned rd = in.rd;
        cold([this, &slow, &done, packed, pc, excess, dirty, rd] {
            L(slow);
            writeback(dirty);
            mov(rdi, rbx);
            mov(rsi, rax);
            mov(edx, packed);
            mov(rcx, pc);
            mov(r8d, excess);
            call_fn(reinterpret_cast<const void *>(&helper_load));
            test(eax, eax);
            jnz(j_.exit0_);
            if (rd) reload(1u << rd);   // the helper wrote it to memory
            jmp(done, T_NEAR);
        });
        return true;
    }

    bool store(const Insn &in, const OpInfo &oi, uint64_t pc, unsigned excess) {
        Xbyak::Label &slow = label(), &done = label();
        const uint32_t dirty = dirty_;
        mov(rax, src(in.rs1));
        if (in.imm) add(rax, in.imm);
        tlb_probe(oi.size, offsetof(Hart::TlbEntry, tag_w), slow);
        mov(rcx, src(in.rs2));
        switch (oi.size) {
        case 1: mov(byte[rdx + rax], cl); break;
        case 2: mov(word[rdx + rax], cx); break;
        case 4: mov(dword[rdx + rax], ecx); break;
        default: mov(qword[rdx + rax], rcx); break;
        }
        L(done);
        const uint32_t packed = oi.size | unsigned(in.len) << 8;
        const unsigned rs2 = in.rs2;
        cold([this, &slow, &done, packed, pc, excess, rs2, dirty] {
            L(slow);
            writeback(dirty);
            mov(rdi, rbx);
            mov(rsi, rax);
            mov(rdx, src(rs2));
            mov(ecx, packed);
            mov(r8, pc);
            mov(r9d, excess);
            call_fn(reinterpret_cast<const void *>(&helper_store));
            test(eax, eax);
            jnz(j_.exit0_);
            jmp(done, T_NEAR);
        });
        return true;
    }

    Jit &j_;
    Hart &h_;
    Block *b_ = nullptr;
    std::array<int8_t, 32> cache_{};   // guest register -> host slot, or -1
    uint32_t cached_mask_ = 0, dirty_ = 0;
    std::deque<Xbyak::Address> addrs_;
    std::deque<Xbyak::Label> labels_;
    std::vector<std::function<void()>> cold_;
    std::deque<std::pair<Xbyak::Label *, Insn>> insn_labels_;
};

void Jit::emit_prelude() {
    Emitter e(*this, cache_.base(), cache_.size());
    e.prelude();
    prelude_end_ = used_ = (e.getSize() + 63) & ~size_t(63);
}

Block *Jit::translate(uint64_t pc, uint64_t pa, uint32_t mode) {
    // Decode first (fetch may evict decoded pages, which flushes us), then emit.
    std::vector<Insn> ins;
    std::vector<uint64_t> pcs;
    const unsigned max = std::max(1u, opt_.max_insns);
    uint64_t vpc = pc;
    while (ins.size() < max && (vpc >> 12) == (pc >> 12)) {
        const Insn *in;
        try {
            in = &h.fetch(vpc);
        } catch (const Trap &) {
            break;   // the dispatcher meets the fault when it gets there
        }
        if (in == &h.scratch_) break;   // page-crossing or not RAM: interpreted
        ins.push_back(*in);
        pcs.push_back(vpc);
        vpc += in->len;
        if (op_info(*in, h.cfg.xlen).ends) break;
    }
    if (ins.empty()) return nullptr;
    maybe_flush_for_space();
    auto blk = std::make_unique<Block>();
    blk->pc = pc;
    blk->pa = pa;
    blk->mode = mode;
    blk->ninsns = static_cast<uint32_t>(ins.size());
    blk->bytes = static_cast<uint32_t>(vpc - pc);
    blk->epoch = ctx_.epoch;
    if (CodePage *page = h.code_page(pa & ~0xfffull)) {
        const uint8_t *from = page->host + (pa & 0xfff);
        blk->guest.assign(from, from + blk->bytes);
    } else {
        return nullptr;   // no longer RAM
    }
    for (int attempt = 0;; ++attempt) {
        try {
            Emitter e(*this, cache_.base() + used_, cache_.size() - used_);
            blk->nexits = 0;
            e.block(*blk, ins, pcs);
            used_ += (e.getSize() + 15) & ~size_t(15);
            break;
        } catch (const Xbyak::Error &) {
            if (attempt) throw;
            flush();   // out of room: start over with an empty cache
        }
    }
    if (opt_.out_asm) {
        char head[96];
        std::snprintf(head, sizeof head, "OUT: [size=%zu] guest pc 0x%016llx\n", blk->code_size,
                      static_cast<unsigned long long>(pc));
        opt_.out_asm(std::string(head) + disas_host(blk->code, blk->code_size) + "\n");
    }
    if (opt_.perfmap) perfmap_add(blk->code, blk->code_size, pc);
    ++stats_.blocks;
    Block *b = blk.get();
    by_page_[pa >> 12].push_back(b);
    blocks_[key_of(pa, mode, pc)] = std::move(blk);
    return b;
}

}  // namespace rv::jit
