// fcvt between the two formats and to/from 32/64-bit integers.
#include "fpu/detail.hpp"

#include <limits>
#include <type_traits>

namespace rv::fpu {
namespace {

using namespace detail;

// RISC-V fcvt.{w,wu,l,lu}: round to an integer with rm, then saturate.
// NaN gives the largest positive value; out of range (after rounding) gives
// the bound on that side and raises only NV; otherwise NX if inexact.
template <class F, class I>
I to_int(typename F::Bits a, Rm rm, uint8_t &flags) {
    using UI = std::make_unsigned_t<I>;
    constexpr I imax = std::numeric_limits<I>::max();
    constexpr I imin = std::numeric_limits<I>::min(); // 0 when unsigned
    const bool sign = F::sign(a);
    if (F::is_nan(a)) {
        flags |= NV;
        return imax;
    }
    const auto saturate = [&] {
        flags |= NV;
        return sign ? imin : imax;
    };
    if (F::is_inf(a)) return saturate();
    if (F::is_zero(a)) return 0;

    const auto [sig, e] = unpack_normalised<F>(a); // a = sig * 2^(e - bias - frac_bits)
    if (e - F::bias >= 64) return saturate();
    const int shift = e - F::bias - F::frac_bits;
    uint64_t mag;
    bool inexact = false;
    if (shift >= 0) {
        mag = uint64_t(sig) << shift; // < 2^64: exponent checked above
    } else {
        const int r = -shift;
        uint64_t ip = 0;
        bool half = false, sticky = true; // r >= 64: below one half
        if (r < 64) {
            const uint64_t rest = uint64_t(sig) & ((uint64_t(1) << r) - 1);
            ip = uint64_t(sig) >> r;
            half = (rest >> (r - 1)) & 1;
            sticky = (rest & ((uint64_t(1) << (r - 1)) - 1)) != 0;
        }
        inexact = half || sticky;
        mag = ip + round_increment(rm, sign, ip & 1, half, sticky);
    }

    if constexpr (std::is_signed_v<I>) {
        const uint64_t limit = sign ? uint64_t(UI(imax)) + 1 : uint64_t(UI(imax));
        if (mag > limit) return saturate();
    } else {
        if (sign && mag != 0) return saturate(); // rounds to a negative integer
        if (mag > uint64_t(imax)) return saturate();
    }
    if (inexact) flags |= NX;
    return sign ? I(UI(0) - UI(mag)) : I(mag);
}

template <class F, class I>
typename F::Bits from_int(I v, Rm rm, uint8_t &flags) {
    using W = typename F::Wide;
    const bool sign = v < 0;
    const uint64_t mag = sign ? uint64_t(0) - uint64_t(v) : uint64_t(v);
    if (mag == 0) return 0;
    return norm_round_pack_wide<F>(sign, F::bias + F::NW - 2, W(mag), rm, flags);
}

} // namespace

#define RV_FPU_CONVERT(ns, F)                                                                \
    namespace ns {                                                                          \
    using B = F::Bits;                                                                      \
    int32_t to_i32(B a, Rm rm, uint8_t &fl) { return to_int<F, int32_t>(a, rm, fl); }      \
    uint32_t to_u32(B a, Rm rm, uint8_t &fl) { return to_int<F, uint32_t>(a, rm, fl); }     \
    int64_t to_i64(B a, Rm rm, uint8_t &fl) { return to_int<F, int64_t>(a, rm, fl); }       \
    uint64_t to_u64(B a, Rm rm, uint8_t &fl) { return to_int<F, uint64_t>(a, rm, fl); }     \
    B from_i32(int32_t v, Rm rm, uint8_t &fl) { return from_int<F>(v, rm, fl); }            \
    B from_u32(uint32_t v, Rm rm, uint8_t &fl) { return from_int<F>(v, rm, fl); }           \
    B from_i64(int64_t v, Rm rm, uint8_t &fl) { return from_int<F>(v, rm, fl); }            \
    B from_u64(uint64_t v, Rm rm, uint8_t &fl) { return from_int<F>(v, rm, fl); }           \
    }

RV_FPU_CONVERT(f32, detail::F32)
RV_FPU_CONVERT(f64, detail::F64)

namespace f32 {
uint64_t to_f64(uint32_t a, uint8_t &flags) {
    using detail::F32, detail::F64;
    if (F32::is_nan(a)) {
        if (F32::is_snan(a)) flags |= NV;
        return F64::canonical_nan;
    }
    const bool sign = F32::sign(a);
    if (F32::is_inf(a)) return F64::inf_of(sign);
    if (F32::is_zero(a)) return F64::sign_bit(sign);
    // Every f32 (subnormals included) is a normal f64: just re-bias.
    const auto [sig, e] = detail::unpack_normalised<F32>(a);
    return F64::sign_bit(sign) | (uint64_t(e - F32::bias + F64::bias) << F64::frac_bits) |
           (uint64_t(sig & F32::frac_mask) << (F64::frac_bits - F32::frac_bits));
}
} // namespace f32

namespace f64 {
uint32_t to_f32(uint64_t a, Rm rm, uint8_t &flags) {
    using detail::F32, detail::F64;
    if (F64::is_nan(a)) {
        if (F64::is_snan(a)) flags |= NV;
        return F32::canonical_nan;
    }
    const bool sign = F64::sign(a);
    if (F64::is_inf(a)) return F32::inf_of(sign);
    if (F64::is_zero(a)) return F32::sign_bit(sign);
    const auto [sig, e] = detail::unpack_normalised<F64>(a); // a = sig * 2^(e - bias - 52)
    const int e32 = e - F64::bias - F64::frac_bits + F32::bias + (F32::NW - 2);
    return detail::norm_round_pack_wide<F32>(sign, e32, sig, rm, flags);
}
} // namespace f64

} // namespace rv::fpu
