// RV32I/RV64I, M, Zicsr, Zifencei and the privileged instructions.
#include "exec_util.hpp"

#include <limits>

namespace rv {
namespace {
using namespace exec;

// ---- Upper immediates and jumps ----
template <int X> void lui(Hart &h, const Insn &in) { set_rd<X>(h, in, imm<X>(in)); }
template <int X> void auipc(Hart &h, const Insn &in) {
    set_rd<X>(h, in, static_cast<ux<X>>(h.pc_) + imm<X>(in));
}
template <int X> void jal(Hart &h, const Insn &in) {
    jump(h, h.pc_ + in.imm);
    set_rd<X>(h, in, static_cast<ux<X>>(h.pc_ + in.len));
}
template <int X> void jalr(Hart &h, const Insn &in) {
    ux<X> t = (rs1<X>(h, in) + imm<X>(in)) & ~ux<X>(1);
    jump(h, t);
    set_rd<X>(h, in, static_cast<ux<X>>(h.pc_ + in.len));
}

// ---- Branches ----
template <int X, class Cmp> inline void branch(Hart &h, const Insn &in, Cmp cmp) {
    if (cmp(rs1<X>(h, in), rs2<X>(h, in))) jump(h, h.pc_ + in.imm);
}
template <int X> void beq(Hart &h, const Insn &in) { branch<X>(h, in, [](ux<X> a, ux<X> b) { return a == b; }); }
template <int X> void bne(Hart &h, const Insn &in) { branch<X>(h, in, [](ux<X> a, ux<X> b) { return a != b; }); }
template <int X> void blt(Hart &h, const Insn &in) {
    branch<X>(h, in, [](ux<X> a, ux<X> b) { return sx<X>(a) < sx<X>(b); });
}
template <int X> void bge(Hart &h, const Insn &in) {
    branch<X>(h, in, [](ux<X> a, ux<X> b) { return sx<X>(a) >= sx<X>(b); });
}
template <int X> void bltu(Hart &h, const Insn &in) { branch<X>(h, in, [](ux<X> a, ux<X> b) { return a < b; }); }
template <int X> void bgeu(Hart &h, const Insn &in) { branch<X>(h, in, [](ux<X> a, ux<X> b) { return a >= b; }); }

// ---- Loads and stores ----
template <int X, class T> inline void load(Hart &h, const Insn &in) {
    ux<X> addr = rs1<X>(h, in) + imm<X>(in);
    T v = h.load<T>(addr);
    if constexpr (std::is_signed_v<T>) set_rd<X>(h, in, static_cast<ux<X>>(static_cast<sx<X>>(v)));
    else set_rd<X>(h, in, static_cast<ux<X>>(v));
}
template <int X> void lb(Hart &h, const Insn &in) { load<X, int8_t>(h, in); }
template <int X> void lh(Hart &h, const Insn &in) { load<X, int16_t>(h, in); }
template <int X> void lw(Hart &h, const Insn &in) { load<X, int32_t>(h, in); }
template <int X> void ld(Hart &h, const Insn &in) { load<X, int64_t>(h, in); }
template <int X> void lbu(Hart &h, const Insn &in) { load<X, uint8_t>(h, in); }
template <int X> void lhu(Hart &h, const Insn &in) { load<X, uint16_t>(h, in); }
template <int X> void lwu(Hart &h, const Insn &in) { load<X, uint32_t>(h, in); }

template <int X, class T> inline void store(Hart &h, const Insn &in) {
    ux<X> addr = rs1<X>(h, in) + imm<X>(in);
    h.store<T>(addr, static_cast<T>(rs2<X>(h, in)));
}
template <int X> void sb(Hart &h, const Insn &in) { store<X, uint8_t>(h, in); }
template <int X> void sh(Hart &h, const Insn &in) { store<X, uint16_t>(h, in); }
template <int X> void sw(Hart &h, const Insn &in) { store<X, uint32_t>(h, in); }
template <int X> void sd(Hart &h, const Insn &in) { store<X, uint64_t>(h, in); }

// ---- Integer computation ----
#define ALU_I(name, expr)                                                 \
    template <int X> void name(Hart &h, const Insn &in) {                 \
        ux<X> a = rs1<X>(h, in), b = imm<X>(in);                          \
        (void)a; (void)b;                                                 \
        set_rd<X>(h, in, static_cast<ux<X>>(expr));                       \
    }
#define ALU_R(name, expr)                                                 \
    template <int X> void name(Hart &h, const Insn &in) {                 \
        ux<X> a = rs1<X>(h, in), b = rs2<X>(h, in);                       \
        set_rd<X>(h, in, static_cast<ux<X>>(expr));                       \
    }
constexpr unsigned kShMask(int X) { return X - 1; }

ALU_I(addi, a + b)
ALU_I(slti, sx<X>(a) < sx<X>(b))
ALU_I(sltiu, a < b)
ALU_I(xori, a ^ b)
ALU_I(ori, a | b)
ALU_I(andi, a & b)
ALU_I(slli, a << (in.imm & kShMask(X)))
ALU_I(srli, a >> (in.imm & kShMask(X)))
ALU_I(srai, sx<X>(a) >> (in.imm & kShMask(X)))
ALU_R(add, a + b)
ALU_R(sub, a - b)
ALU_R(sll, a << (b & kShMask(X)))
ALU_R(slt, sx<X>(a) < sx<X>(b))
ALU_R(sltu, a < b)
ALU_R(xor_, a ^ b)
ALU_R(srl, a >> (b & kShMask(X)))
ALU_R(sra, sx<X>(a) >> (b & kShMask(X)))
ALU_R(or_, a | b)
ALU_R(and_, a & b)

// RV64 word operations
ALU_I(addiw, sext32<X>(uint32_t(a + b)))
ALU_I(slliw, sext32<X>(uint32_t(a) << (in.imm & 31)))
ALU_I(srliw, sext32<X>(uint32_t(a) >> (in.imm & 31)))
ALU_I(sraiw, sext32<X>(uint32_t(int32_t(a) >> (in.imm & 31))))
ALU_R(addw, sext32<X>(uint32_t(a + b)))
ALU_R(subw, sext32<X>(uint32_t(a - b)))
ALU_R(sllw, sext32<X>(uint32_t(a) << (b & 31)))
ALU_R(srlw, sext32<X>(uint32_t(a) >> (b & 31)))
ALU_R(sraw, sext32<X>(uint32_t(int32_t(a) >> (b & 31))))

// ---- M ----
template <int X> ux<X> mulh_ss(ux<X> a, ux<X> b) {
    if constexpr (X == 64) return static_cast<uint64_t>((__int128(int64_t(a)) * int64_t(b)) >> 64);
    else return static_cast<uint32_t>((int64_t(int32_t(a)) * int32_t(b)) >> 32);
}
template <int X> ux<X> mulh_su(ux<X> a, ux<X> b) {
    if constexpr (X == 64) return static_cast<uint64_t>((__int128(int64_t(a)) * (unsigned __int128)b) >> 64);
    else return static_cast<uint32_t>((int64_t(int32_t(a)) * int64_t(b)) >> 32);
}
template <int X> ux<X> mulh_uu(ux<X> a, ux<X> b) {
    if constexpr (X == 64) return static_cast<uint64_t>(((unsigned __int128)a * b) >> 64);
    else return static_cast<uint32_t>((uint64_t(a) * b) >> 32);
}
template <class U> U div_s(U a, U b) {
    using S = std::make_signed_t<U>;
    if (b == 0) return ~U(0);
    if (S(a) == std::numeric_limits<S>::min() && S(b) == -1) return a;
    return U(S(a) / S(b));
}
template <class U> U div_u(U a, U b) { return b == 0 ? ~U(0) : a / b; }
template <class U> U rem_s(U a, U b) {
    using S = std::make_signed_t<U>;
    if (b == 0) return a;
    if (S(a) == std::numeric_limits<S>::min() && S(b) == -1) return 0;
    return U(S(a) % S(b));
}
template <class U> U rem_u(U a, U b) { return b == 0 ? a : a % b; }

ALU_R(mul, a * b)
ALU_R(mulh, mulh_ss<X>(a, b))
ALU_R(mulhsu, mulh_su<X>(a, b))
ALU_R(mulhu, mulh_uu<X>(a, b))
ALU_R(div, div_s<ux<X>>(a, b))
ALU_R(divu, div_u<ux<X>>(a, b))
ALU_R(rem, rem_s<ux<X>>(a, b))
ALU_R(remu, rem_u<ux<X>>(a, b))
ALU_R(mulw, sext32<X>(uint32_t(a) * uint32_t(b)))
ALU_R(divw, sext32<X>(div_s<uint32_t>(uint32_t(a), uint32_t(b))))
ALU_R(divuw, sext32<X>(div_u<uint32_t>(uint32_t(a), uint32_t(b))))
ALU_R(remw, sext32<X>(rem_s<uint32_t>(uint32_t(a), uint32_t(b))))
ALU_R(remuw, sext32<X>(rem_u<uint32_t>(uint32_t(a), uint32_t(b))))

// ---- Fences and system ----
template <int X> void fence(Hart &, const Insn &) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
template <int X> void fence_i(Hart &h, const Insn &) { h.fence_i(); }
template <int X> void ecall(Hart &h, const Insn &) { h.raise(EXC_ECALL_U + h.s.priv); }
template <int X> void ebreak(Hart &h, const Insn &) { h.raise(EXC_BREAKPOINT, h.pc_); }
template <int X> void mret(Hart &h, const Insn &) { h.do_mret(); }
template <int X> void sret(Hart &h, const Insn &) { h.do_sret(); }
template <int X> void wfi(Hart &h, const Insn &) { h.do_wfi(); }
template <int X> void sfence_vma(Hart &h, const Insn &in) {
    if (h.s.priv == PRV_U || (h.s.priv == PRV_S && (h.s.mstatus & mstatus_bits::TVM))) h.illegal();
    h.sfence_vma(rs1<X>(h, in), in.rs1 == 0);
}

// ---- Zicsr ----
template <int X> inline void csr_op(Hart &h, const Insn &in, unsigned op, uint64_t src, bool write) {
    uint64_t old = h.csr_rw(static_cast<unsigned>(in.imm), op, src, write);
    set_rd<X>(h, in, static_cast<ux<X>>(old));
}
template <int X> void csrrw(Hart &h, const Insn &in) { csr_op<X>(h, in, 1, rs1<X>(h, in), true); }
template <int X> void csrrs(Hart &h, const Insn &in) { csr_op<X>(h, in, 2, rs1<X>(h, in), in.rs1 != 0); }
template <int X> void csrrc(Hart &h, const Insn &in) { csr_op<X>(h, in, 3, rs1<X>(h, in), in.rs1 != 0); }
template <int X> void csrrwi(Hart &h, const Insn &in) { csr_op<X>(h, in, 1, in.rs1, true); }
template <int X> void csrrsi(Hart &h, const Insn &in) { csr_op<X>(h, in, 2, in.rs1, in.rs1 != 0); }
template <int X> void csrrci(Hart &h, const Insn &in) { csr_op<X>(h, in, 3, in.rs1, in.rs1 != 0); }

const OpDesc kOps[] = {
    RV_OP("lui", ".........................  0110111", U, "d,u", I, RV_H(lui)),
    RV_OP("auipc", "......................... 0010111", U, "d,u", I, RV_H(auipc)),
    RV_OP("jal", "......................... 1101111", J, "d,b", I, RV_H(jal)),
    RV_OP("jalr", "............ ..... 000 ..... 1100111", I, "d,o", I, RV_H(jalr)),
    RV_OP("beq", "....... ..... ..... 000 ..... 1100011", B, "s,t,b", I, RV_H(beq)),
    RV_OP("bne", "....... ..... ..... 001 ..... 1100011", B, "s,t,b", I, RV_H(bne)),
    RV_OP("blt", "....... ..... ..... 100 ..... 1100011", B, "s,t,b", I, RV_H(blt)),
    RV_OP("bge", "....... ..... ..... 101 ..... 1100011", B, "s,t,b", I, RV_H(bge)),
    RV_OP("bltu", "....... ..... ..... 110 ..... 1100011", B, "s,t,b", I, RV_H(bltu)),
    RV_OP("bgeu", "....... ..... ..... 111 ..... 1100011", B, "s,t,b", I, RV_H(bgeu)),
    RV_OP("lb", "............ ..... 000 ..... 0000011", I, "d,o", I, RV_H(lb)),
    RV_OP("lh", "............ ..... 001 ..... 0000011", I, "d,o", I, RV_H(lh)),
    RV_OP("lw", "............ ..... 010 ..... 0000011", I, "d,o", I, RV_H(lw)),
    RV_OP("ld", "............ ..... 011 ..... 0000011", I, "d,o", I, RV_H64(ld)),
    RV_OP("lbu", "............ ..... 100 ..... 0000011", I, "d,o", I, RV_H(lbu)),
    RV_OP("lhu", "............ ..... 101 ..... 0000011", I, "d,o", I, RV_H(lhu)),
    RV_OP("lwu", "............ ..... 110 ..... 0000011", I, "d,o", I, RV_H64(lwu)),
    RV_OP("sb", "....... ..... ..... 000 ..... 0100011", S, "t,o", I, RV_H(sb)),
    RV_OP("sh", "....... ..... ..... 001 ..... 0100011", S, "t,o", I, RV_H(sh)),
    RV_OP("sw", "....... ..... ..... 010 ..... 0100011", S, "t,o", I, RV_H(sw)),
    RV_OP("sd", "....... ..... ..... 011 ..... 0100011", S, "t,o", I, RV_H64(sd)),
    RV_OP("addi", "............ ..... 000 ..... 0010011", I, "d,s,i", I, RV_H(addi)),
    RV_OP("slti", "............ ..... 010 ..... 0010011", I, "d,s,i", I, RV_H(slti)),
    RV_OP("sltiu", "............ ..... 011 ..... 0010011", I, "d,s,i", I, RV_H(sltiu)),
    RV_OP("xori", "............ ..... 100 ..... 0010011", I, "d,s,i", I, RV_H(xori)),
    RV_OP("ori", "............ ..... 110 ..... 0010011", I, "d,s,i", I, RV_H(ori)),
    RV_OP("andi", "............ ..... 111 ..... 0010011", I, "d,s,i", I, RV_H(andi)),
    RV_OP("slli", "0000000 ..... ..... 001 ..... 0010011", Shift, "d,s,>", I, RV_H32(slli)),
    RV_OP("srli", "0000000 ..... ..... 101 ..... 0010011", Shift, "d,s,>", I, RV_H32(srli)),
    RV_OP("srai", "0100000 ..... ..... 101 ..... 0010011", Shift, "d,s,>", I, RV_H32(srai)),
    RV_OP("slli", "000000 ...... ..... 001 ..... 0010011", Shift, "d,s,>", I, RV_H64(slli)),
    RV_OP("srli", "000000 ...... ..... 101 ..... 0010011", Shift, "d,s,>", I, RV_H64(srli)),
    RV_OP("srai", "010000 ...... ..... 101 ..... 0010011", Shift, "d,s,>", I, RV_H64(srai)),
    RV_OP("add", "0000000 ..... ..... 000 ..... 0110011", R, "d,s,t", I, RV_H(add)),
    RV_OP("sub", "0100000 ..... ..... 000 ..... 0110011", R, "d,s,t", I, RV_H(sub)),
    RV_OP("sll", "0000000 ..... ..... 001 ..... 0110011", R, "d,s,t", I, RV_H(sll)),
    RV_OP("slt", "0000000 ..... ..... 010 ..... 0110011", R, "d,s,t", I, RV_H(slt)),
    RV_OP("sltu", "0000000 ..... ..... 011 ..... 0110011", R, "d,s,t", I, RV_H(sltu)),
    RV_OP("xor", "0000000 ..... ..... 100 ..... 0110011", R, "d,s,t", I, RV_H(xor_)),
    RV_OP("srl", "0000000 ..... ..... 101 ..... 0110011", R, "d,s,t", I, RV_H(srl)),
    RV_OP("sra", "0100000 ..... ..... 101 ..... 0110011", R, "d,s,t", I, RV_H(sra)),
    RV_OP("or", "0000000 ..... ..... 110 ..... 0110011", R, "d,s,t", I, RV_H(or_)),
    RV_OP("and", "0000000 ..... ..... 111 ..... 0110011", R, "d,s,t", I, RV_H(and_)),
    RV_OP("addiw", "............ ..... 000 ..... 0011011", I, "d,s,i", I, RV_H64(addiw)),
    RV_OP("slliw", "0000000 ..... ..... 001 ..... 0011011", Shift, "d,s,>", I, RV_H64(slliw)),
    RV_OP("srliw", "0000000 ..... ..... 101 ..... 0011011", Shift, "d,s,>", I, RV_H64(srliw)),
    RV_OP("sraiw", "0100000 ..... ..... 101 ..... 0011011", Shift, "d,s,>", I, RV_H64(sraiw)),
    RV_OP("addw", "0000000 ..... ..... 000 ..... 0111011", R, "d,s,t", I, RV_H64(addw)),
    RV_OP("subw", "0100000 ..... ..... 000 ..... 0111011", R, "d,s,t", I, RV_H64(subw)),
    RV_OP("sllw", "0000000 ..... ..... 001 ..... 0111011", R, "d,s,t", I, RV_H64(sllw)),
    RV_OP("srlw", "0000000 ..... ..... 101 ..... 0111011", R, "d,s,t", I, RV_H64(srlw)),
    RV_OP("sraw", "0100000 ..... ..... 101 ..... 0111011", R, "d,s,t", I, RV_H64(sraw)),
    RV_OP("mul", "0000001 ..... ..... 000 ..... 0110011", R, "d,s,t", M, RV_H(mul)),
    RV_OP("mulh", "0000001 ..... ..... 001 ..... 0110011", R, "d,s,t", M, RV_H(mulh)),
    RV_OP("mulhsu", "0000001 ..... ..... 010 ..... 0110011", R, "d,s,t", M, RV_H(mulhsu)),
    RV_OP("mulhu", "0000001 ..... ..... 011 ..... 0110011", R, "d,s,t", M, RV_H(mulhu)),
    RV_OP("div", "0000001 ..... ..... 100 ..... 0110011", R, "d,s,t", M, RV_H(div)),
    RV_OP("divu", "0000001 ..... ..... 101 ..... 0110011", R, "d,s,t", M, RV_H(divu)),
    RV_OP("rem", "0000001 ..... ..... 110 ..... 0110011", R, "d,s,t", M, RV_H(rem)),
    RV_OP("remu", "0000001 ..... ..... 111 ..... 0110011", R, "d,s,t", M, RV_H(remu)),
    RV_OP("mulw", "0000001 ..... ..... 000 ..... 0111011", R, "d,s,t", M, RV_H64(mulw)),
    RV_OP("divw", "0000001 ..... ..... 100 ..... 0111011", R, "d,s,t", M, RV_H64(divw)),
    RV_OP("divuw", "0000001 ..... ..... 101 ..... 0111011", R, "d,s,t", M, RV_H64(divuw)),
    RV_OP("remw", "0000001 ..... ..... 110 ..... 0111011", R, "d,s,t", M, RV_H64(remw)),
    RV_OP("remuw", "0000001 ..... ..... 111 ..... 0111011", R, "d,s,t", M, RV_H64(remuw)),
    RV_OP("fence", "............ ..... 000 ..... 0001111", None, "f", I, RV_H(fence)),
    RV_OP("fence.i", "............ ..... 001 ..... 0001111", None, "", Zifencei, RV_H(fence_i)),
    RV_OP("ecall", "000000000000 00000 000 00000 1110011", None, "", I, RV_H(ecall)),
    RV_OP("ebreak", "000000000001 00000 000 00000 1110011", None, "", I, RV_H(ebreak)),
    RV_OP("sret", "0001000 00010 00000 000 00000 1110011", None, "", S, RV_H(sret)),
    RV_OP("mret", "0011000 00010 00000 000 00000 1110011", None, "", I, RV_H(mret)),
    RV_OP("wfi", "0001000 00101 00000 000 00000 1110011", None, "", I, RV_H(wfi)),
    RV_OP("sfence.vma", "0001001 ..... ..... 000 00000 1110011", R, "s,t", S, RV_H(sfence_vma)),
    RV_OP("csrrw", "............ ..... 001 ..... 1110011", Csr, "d,c,s", Zicsr, RV_H(csrrw)),
    RV_OP("csrrs", "............ ..... 010 ..... 1110011", Csr, "d,c,s", Zicsr, RV_H(csrrs)),
    RV_OP("csrrc", "............ ..... 011 ..... 1110011", Csr, "d,c,s", Zicsr, RV_H(csrrc)),
    RV_OP("csrrwi", "............ ..... 101 ..... 1110011", Csr, "d,c,Z", Zicsr, RV_H(csrrwi)),
    RV_OP("csrrsi", "............ ..... 110 ..... 1110011", Csr, "d,c,Z", Zicsr, RV_H(csrrsi)),
    RV_OP("csrrci", "............ ..... 111 ..... 1110011", Csr, "d,c,Z", Zicsr, RV_H(csrrci)),
};

}  // namespace

std::span<const OpDesc> ops_base() { return kOps; }

}  // namespace rv
