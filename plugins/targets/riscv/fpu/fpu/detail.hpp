// Internal building blocks shared by the operation files: format traits,
// sticky shifts, and the single rounding routine every operation ends in.
// Not part of the public interface.
#pragma once

#include "fpu/softfloat.hpp"

#include <bit>
#include <cstdint>
#include <type_traits>

namespace rv::fpu::detail {

__extension__ typedef unsigned __int128 u128; // GCC/Clang extension

// Bits: storage type. Wide: twice its width, used for exact products and
// for fma alignment.
template <class B, class W, int EXP_BITS, int FRAC_BITS>
struct Format {
    using Bits = B;
    using Wide = W;
    static constexpr int N = sizeof(B) * 8;
    static constexpr int NW = sizeof(W) * 8;
    static constexpr int frac_bits = FRAC_BITS;
    static constexpr int P = FRAC_BITS + 1; // precision incl. implicit bit
    static constexpr int bias = (1 << (EXP_BITS - 1)) - 1;
    static constexpr int max_exp = (1 << EXP_BITS) - 1;
    static constexpr B sign_mask = B(1) << (N - 1);
    static constexpr B implicit = B(1) << FRAC_BITS;
    static constexpr B frac_mask = implicit - 1;
    static constexpr B quiet_bit = B(1) << (FRAC_BITS - 1);
    static constexpr B inf = B(max_exp) << FRAC_BITS;
    static constexpr B canonical_nan = inf | quiet_bit;
    // When a significand is normalised with its MSB at bit N-2 (one bit of
    // headroom for the rounding carry), this many bits lie below its LSB.
    static constexpr int round_bits = N - 1 - P;
    static constexpr B round_mask = (B(1) << round_bits) - 1;
    static constexpr B round_half = B(1) << (round_bits - 1);

    static constexpr bool sign(B a) { return a >> (N - 1); }
    static constexpr int exp(B a) { return int((a >> FRAC_BITS) & B(max_exp)); }
    static constexpr B frac(B a) { return a & frac_mask; }
    static constexpr bool is_nan(B a) { return B(a & ~sign_mask) > inf; }
    static constexpr bool is_snan(B a) { return is_nan(a) && !(a & quiet_bit); }
    static constexpr bool is_inf(B a) { return B(a & ~sign_mask) == inf; }
    static constexpr bool is_zero(B a) { return B(a << 1) == 0; }
    static constexpr B sign_bit(bool s) { return s ? sign_mask : B(0); }
    static constexpr B inf_of(bool s) { return sign_bit(s) | inf; }
};

using F32 = Format<uint32_t, uint64_t, 8, 23>;
using F64 = Format<uint64_t, u128, 11, 52>;

template <class T>
constexpr int width = sizeof(T) * 8;

template <class T>
constexpr int clz(T x) {
    if constexpr (std::is_same_v<T, u128>) {
        const auto hi = uint64_t(x >> 64);
        return hi ? std::countl_zero(hi) : 64 + std::countl_zero(uint64_t(x));
    } else {
        return std::countl_zero(x);
    }
}

// x >> n, with any 1 bits shifted out ORed into bit 0 ("sticky"), so later
// rounding still sees that the value was inexact. Any n >= 0.
template <class T>
constexpr T shift_right_jam(T x, int n) {
    if (n == 0) return x;
    if (n >= width<T>) return T(x != 0);
    return T(x >> n) | T(T(x << (width<T> - n)) != 0);
}

// The result of a NaN-producing operation: RISC-V always returns the
// canonical NaN; a signalling input raises NV.
template <class F>
typename F::Bits nan_result(typename F::Bits a, typename F::Bits b, uint8_t &flags) {
    if (F::is_snan(a) || F::is_snan(b)) flags |= NV;
    return F::canonical_nan;
}

template <class F>
typename F::Bits invalid(uint8_t &flags) {
    flags |= NV;
    return F::canonical_nan;
}

// A finite operand as significand and biased exponent: value =
// sig * 2^(exp - bias - frac_bits).
template <class F>
struct Unpacked {
    typename F::Bits sig;
    int exp;
};

// For a nonzero operand: the implicit bit at frac_bits, also for subnormals,
// which get an exponent below 1.
template <class F>
constexpr Unpacked<F> unpack_normalised(typename F::Bits a) {
    using B = typename F::Bits;
    const int e = F::exp(a);
    if (e != 0) return {B(F::frac(a) | F::implicit), e};
    const int shift = clz(F::frac(a)) - (F::N - 1 - F::frac_bits);
    return {B(F::frac(a) << shift), 1 - shift};
}

// Whether to add one unit in the last place, given the discarded part of
// the magnitude as its top (half) bit and whether anything below is set.
constexpr bool round_increment(Rm rm, bool sign, bool lsb_odd, bool half, bool sticky) {
    switch (rm) {
    case Rm::RNE: return half && (sticky || lsb_odd);
    case Rm::RMM: return half;
    case Rm::RTZ: return false;
    case Rm::RDN: return sign && (half || sticky);
    case Rm::RUP: return !sign && (half || sticky);
    }
    return false;
}

// What round_pack adds below the kept bits before truncating, indexed by
// [rm][sign]: half a unit for the nearest modes, all ones when rounding away
// from zero, else 0. The reserved encodings 5..7 truncate.
template <class F>
inline constexpr typename F::Bits round_addend_table[8][2] = {
    {F::round_half, F::round_half}, {0, 0}, {0, F::round_mask}, {F::round_mask, 0},
    {F::round_half, F::round_half}};

template <class F>
constexpr typename F::Bits round_addend(Rm rm, bool sign) {
    return round_addend_table<F>[unsigned(rm) & 7][sign];
}

// The final step shared by both paths: round off the low bits of a
// significand whose exponent field is e-1 (e >= 1) and pack.
template <class F>
[[gnu::always_inline]] inline typename F::Bits round_finish(bool sign, int e, typename F::Bits sig,
                                                            typename F::Bits inc, Rm rm,
                                                            uint8_t &flags) {
    using B = typename F::Bits;
    constexpr B round_mask = (B(1) << F::round_bits) - 1;
    constexpr B half = B(1) << (F::round_bits - 1);
    const B rest = sig & round_mask;
    if (rest) flags |= NX;
    sig = B(sig + inc) >> F::round_bits;
    if (rm == Rm::RNE && rest == half) sig &= ~B(1); // tie: to even
    // The implicit bit (or a rounding carry) adds into the exponent field.
    return F::sign_bit(sign) + (B(e - 1) << F::frac_bits) + sig;
}

// round_pack for results outside the normal exponent range: gradual
// underflow with tininess detected after rounding, and overflow.
template <class F>
[[gnu::noinline, gnu::cold]] typename F::Bits round_pack_edge(bool sign, int e, typename F::Bits sig,
                                                              typename F::Bits inc, Rm rm,
                                                              uint8_t &flags) {
    using B = typename F::Bits;
    constexpr B round_mask = (B(1) << F::round_bits) - 1;
    constexpr B carry = B(1) << (F::N - 1);
    if (e <= 0) {
        // Tiny unless rounding to full precision with an unbounded
        // exponent would carry up to the smallest normal.
        const bool tiny = e < 0 || B(sig + inc) < carry;
        sig = shift_right_jam(sig, 1 - e);
        if (tiny && (sig & round_mask)) flags |= UF;
        return round_finish<F>(sign, 1, sig, inc, rm, flags); // exponent field 0; a carry makes it 1
    }
    if (e > F::max_exp - 1 || B(sig + inc) >= carry) {
        flags |= OF | NX;
        // Modes that never round away from zero (inc == 0 for this sign)
        // give the largest finite value instead of infinity.
        return F::sign_bit(sign) | (inc != 0 ? F::inf : B(F::inf - 1));
    }
    return round_finish<F>(sign, e, sig, inc, rm, flags);
}

// Rounds and packs sign * sig * 2^(e - bias - (N-2)), where sig has its MSB
// exactly at bit N-2 and a sticky bit jammed into its low bits. Handles
// overflow, gradual underflow, and tininess detected after rounding.
template <class F>
[[gnu::always_inline]] inline typename F::Bits round_pack(bool sign, int e, typename F::Bits sig,
                                                          Rm rm, uint8_t &flags) {
    const auto inc = round_addend<F>(rm, sign);
    // Only e <= 0 (subnormal or zero result) and e >= max_exp-1 (possible
    // overflow) leave the fast path.
    if (unsigned(e - 1) >= unsigned(F::max_exp - 2)) [[unlikely]]
        return round_pack_edge<F>(sign, e, sig, inc, rm, flags);
    return round_finish<F>(sign, e, sig, inc, rm, flags);
}

// As round_pack, for any nonzero sig below 2^N (normalised here).
template <class F>
typename F::Bits norm_round_pack(bool sign, int e, typename F::Bits sig, Rm rm, uint8_t &flags) {
    const int shift = clz(sig) - 1;
    if (shift < 0) {
        sig = shift_right_jam(sig, 1);
        e += 1;
    } else {
        sig <<= shift;
        e -= shift;
    }
    return round_pack<F>(sign, e, sig, rm, flags);
}

// Rounds and packs sign * wsig * 2^(e - bias - (NW-2)) for a nonzero
// double-width significand in any position.
template <class F>
typename F::Bits norm_round_pack_wide(bool sign, int e, typename F::Wide wsig, Rm rm,
                                      uint8_t &flags) {
    using B = typename F::Bits;
    using W = typename F::Wide;
    const int shift = clz(wsig) - 1;
    if (shift < 0) {
        wsig = shift_right_jam(wsig, 1);
        e += 1;
    } else {
        wsig <<= shift;
        e -= shift;
    }
    constexpr int drop = F::NW - F::N;
    const B sig = B(wsig >> drop) | B(W(wsig << (F::NW - drop)) != 0);
    return round_pack<F>(sign, e, sig, rm, flags);
}

} // namespace rv::fpu::detail
