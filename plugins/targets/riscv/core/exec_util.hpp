// Helpers shared by the instruction handlers: XLEN-typed register access.
// Handlers are templates on XLEN (32 or 64); RV32 registers are kept
// zero-extended in the 64-bit slots.
#pragma once

#include "hart.hpp"
#include "isa/isa.hpp"

#include <type_traits>

namespace rv::exec {

template <int X> using ux = std::conditional_t<X == 64, uint64_t, uint32_t>;
template <int X> using sx = std::make_signed_t<ux<X>>;

template <int X> inline ux<X> rs1(const Hart &h, const Insn &in) { return static_cast<ux<X>>(h.s.x[in.rs1]); }
template <int X> inline ux<X> rs2(const Hart &h, const Insn &in) { return static_cast<ux<X>>(h.s.x[in.rs2]); }
template <int X> inline void set_rd(Hart &h, const Insn &in, ux<X> v) {
    if (in.rd) h.s.x[in.rd] = v;
}
// Sign-extend a 32-bit result to XLEN (the *W instructions).
template <int X> inline ux<X> sext32(uint32_t v) {
    return static_cast<ux<X>>(static_cast<sx<X>>(static_cast<int32_t>(v)));
}
template <int X> inline ux<X> imm(const Insn &in) {
    return static_cast<ux<X>>(static_cast<sx<X>>(in.imm));
}

inline bool has_c(const Hart &h) { return (h.s.misa >> 2) & 1; }

// Control transfer with the alignment check IALIGN demands.
inline void jump(Hart &h, uint64_t target) {
    target &= h.xmask();
    if ((target & 2) && !has_c(h)) h.raise(EXC_INSN_MISALIGNED, target);
    h.npc_ = target;
}

}  // namespace rv::exec
