// add, sub, mul, div, sqrt and fma for both formats, written once over the
// format traits. Each operation first peels off NaN/infinity/zero operands,
// then computes the result's significand exactly or truncated with a sticky
// bit for anything lost, and hands it to round_pack.
#include "fpu/detail.hpp"

#include <cmath>
#include <utility>

namespace rv::fpu {
namespace {

using namespace detail;

// num / den for a quotient known to fit in B, and the remainder.
template <class F>
typename F::Bits div_rem(typename F::Wide num, typename F::Bits den, typename F::Bits &rem) {
    using B = typename F::Bits;
#if defined(__x86_64__)
    if constexpr (std::is_same_v<B, uint64_t>) {
        // One divq instead of a generic 128/128 library division.
        uint64_t q;
        asm("divq %4" : "=a"(q), "=d"(rem) : "a"(uint64_t(num)), "d"(uint64_t(num >> 64)), "rm"(den));
        return q;
    }
#endif
    rem = B(num % den);
    return B(num / den);
}

// The quotient with a sticky bit for a nonzero remainder.
template <class F>
typename F::Bits div_sticky(typename F::Wide num, typename F::Bits den) {
    typename F::Bits rem;
    const auto q = div_rem<F>(num, den, rem);
    return q | (rem != 0);
}

// A finite operand's significand and exponent as stored: subnormals share
// the exponent of the smallest normal, without the implicit bit.
template <class F>
Unpacked<F> unpack_raw(typename F::Bits a) {
    const int e = F::exp(a);
    if (e == 0) return {F::frac(a), 1};
    return {typename F::Bits(F::frac(a) | F::implicit), e};
}

// Significands are placed with the implicit bit at N-3: a carry fits below
// the top bit, and the bits below the LSB keep guard/round/sticky for the
// operand shifted into alignment.
template <class F>
constexpr int add_guard_bits = F::N - 3 - F::frac_bits;

// |a| + |b| with the given sign; both finite.
template <class F>
typename F::Bits add_mags(typename F::Bits a, typename F::Bits b, bool sign, Rm rm,
                          uint8_t &flags) {
    using B = typename F::Bits;
    auto x = unpack_raw<F>(a), y = unpack_raw<F>(b);
    if ((x.sig | y.sig) == 0) return F::sign_bit(sign); // same-signed zeros
    if (x.exp < y.exp) std::swap(x, y);
    constexpr int G = add_guard_bits<F>;
    const B sum = B(x.sig << G) + shift_right_jam(B(y.sig << G), x.exp - y.exp);
    return norm_round_pack<F>(sign, x.exp + 1, sum, rm, flags);
}

// |a| - |b|, with a's sign; both finite.
template <class F>
typename F::Bits sub_mags(typename F::Bits a, typename F::Bits b, bool sign, Rm rm,
                          uint8_t &flags) {
    using B = typename F::Bits;
    auto x = unpack_raw<F>(a), y = unpack_raw<F>(b);
    if (x.exp < y.exp || (x.exp == y.exp && x.sig < y.sig)) {
        std::swap(x, y);
        sign = !sign;
    }
    if (x.exp == y.exp && x.sig == y.sig) return F::sign_bit(rm == Rm::RDN); // exact zero
    constexpr int G = add_guard_bits<F>;
    const B diff = B(x.sig << G) - shift_right_jam(B(y.sig << G), x.exp - y.exp);
    return norm_round_pack<F>(sign, x.exp + 1, diff, rm, flags);
}

template <class F>
typename F::Bits add(typename F::Bits a, typename F::Bits b, Rm rm, uint8_t &flags) {
    if (F::exp(a) == F::max_exp || F::exp(b) == F::max_exp) [[unlikely]] {
        if (F::is_nan(a) || F::is_nan(b)) return nan_result<F>(a, b, flags);
        if (F::is_inf(a) && F::is_inf(b) && F::sign(a) != F::sign(b)) return invalid<F>(flags);
        return F::is_inf(a) ? a : b;
    }
    return F::sign(a) == F::sign(b) ? add_mags<F>(a, b, F::sign(a), rm, flags)
                                    : sub_mags<F>(a, b, F::sign(a), rm, flags);
}

template <class F>
typename F::Bits mul(typename F::Bits a, typename F::Bits b, Rm rm, uint8_t &flags) {
    using W = typename F::Wide;
    const bool sign = F::sign(a) != F::sign(b);
    if (F::exp(a) == F::max_exp || F::exp(b) == F::max_exp) [[unlikely]] {
        if (F::is_nan(a) || F::is_nan(b)) return nan_result<F>(a, b, flags);
        if (F::is_zero(a) || F::is_zero(b)) return invalid<F>(flags); // inf * 0
        return F::inf_of(sign);
    }
    if (F::is_zero(a) || F::is_zero(b)) return F::sign_bit(sign);
    const auto ua = unpack_normalised<F>(a), ub = unpack_normalised<F>(b);
    // The exact product has its MSB at bit 2P-2 or 2P-1; move it to NW-3/NW-2.
    constexpr int shift = F::NW - 2 - (2 * F::P - 1);
    const W prod = (W(ua.sig) * ub.sig) << shift;
    return norm_round_pack_wide<F>(sign, ua.exp + ub.exp - F::bias + 1, prod, rm, flags);
}

template <class F>
typename F::Bits div(typename F::Bits a, typename F::Bits b, Rm rm, uint8_t &flags) {
    using W = typename F::Wide;
    const bool sign = F::sign(a) != F::sign(b);
    if (F::exp(a) == F::max_exp || F::exp(b) == F::max_exp) [[unlikely]] {
        if (F::is_nan(a) || F::is_nan(b)) return nan_result<F>(a, b, flags);
        if (F::is_inf(a)) return F::is_inf(b) ? invalid<F>(flags) : F::inf_of(sign);
        return F::sign_bit(sign); // finite / inf
    }
    if (F::is_zero(b)) {
        if (F::is_zero(a)) return invalid<F>(flags);
        flags |= DZ;
        return F::inf_of(sign);
    }
    if (F::is_zero(a)) return F::sign_bit(sign);
    const auto ua = unpack_normalised<F>(a), ub = unpack_normalised<F>(b);
    // (sig_a << k) / sig_b lies in (2^(k-1), 2^(k+1)): with k = N-1 it fills B.
    constexpr int k = F::N - 1;
    const auto q = div_sticky<F>(W(ua.sig) << k, ub.sig);
    return norm_round_pack<F>(sign, ua.exp - ub.exp + F::bias + (F::N - 2) - k, q, rm, flags);
}

// floor(sqrt(m)) with a sticky bit for a nonzero remainder, for
// 2^(NW-4) <= m < 2^(NW-2).
template <class F>
typename F::Bits isqrt_sticky(typename F::Wide m) {
    using B = typename F::Bits;
    using W = typename F::Wide;
    // A double estimate (good to ~2^-52, in any host rounding mode), then
    // exact integer corrections: the result never depends on host FP state.
    B r;
    if constexpr (std::is_same_v<W, u128>) {
        r = B(std::sqrt(double(uint64_t(m >> 62))) * 0x1p31);
        // One Newton step brings the error below one unit; m / r < 2^64
        // because r is within 2^-50 of sqrt(m) < 2^63.
        B rem;
        r = B((W(r) + div_rem<F>(m, r, rem)) >> 1);
    } else {
        r = B(std::sqrt(double(m)));
    }
    while (W(r) * r > m) --r;
    while (W(r + 1) * (r + 1) <= m) ++r;
    return r | B(W(r) * r != m);
}

template <class F>
typename F::Bits sqrt(typename F::Bits a, Rm rm, uint8_t &flags) {
    using B = typename F::Bits;
    using W = typename F::Wide;
    if (F::is_nan(a)) return nan_result<F>(a, a, flags);
    if (F::is_zero(a)) return a; // sqrt(-0) = -0
    if (F::sign(a)) return invalid<F>(flags);
    if (F::is_inf(a)) return a;
    auto [sig, e] = unpack_normalised<F>(a);
    int t = e - F::bias - F::frac_bits; // a = sig * 2^t; make t even
    B s = sig;
    if (t & 1) {
        s <<= 1;
        t -= 1;
    }
    // Scale by an even power so the root has N-1 or N-2 significant bits.
    constexpr int k = (2 * F::N - 3 - F::P) & ~1;
    const B r = isqrt_sticky<F>(W(s) << k);
    return norm_round_pack<F>(false, (t - k) / 2 + F::bias + (F::N - 2), r, rm, flags);
}

template <class F>
typename F::Bits fma(typename F::Bits a, typename F::Bits b, typename F::Bits c, Rm rm,
                     uint8_t &flags, bool negate_product, bool negate_addend) {
    using B = typename F::Bits;
    using W = typename F::Wide;
    const bool sp = (F::sign(a) != F::sign(b)) != negate_product;
    const bool sc = F::sign(c) != negate_addend;
    const bool inf_times_zero =
        (F::is_inf(a) && F::is_zero(b)) || (F::is_zero(a) && F::is_inf(b));
    if (F::exp(a) == F::max_exp || F::exp(b) == F::max_exp || F::exp(c) == F::max_exp)
        [[unlikely]] {
        if (F::is_nan(a) || F::is_nan(b) || F::is_nan(c)) {
            // RISC-V (and SoftFloat/QEMU): inf * 0 is invalid even when c is a quiet NaN.
            if (inf_times_zero) flags |= NV;
            if (F::is_snan(c)) flags |= NV;
            return nan_result<F>(a, b, flags);
        }
        if (inf_times_zero) return invalid<F>(flags);
        if (F::is_inf(a) || F::is_inf(b)) {
            if (F::is_inf(c) && sc != sp) return invalid<F>(flags); // inf - inf
            return F::inf_of(sp);
        }
        return F::inf_of(sc);
    }
    if (F::is_zero(a) || F::is_zero(b)) {
        if (!F::is_zero(c)) return F::sign_bit(sc) | B(c & ~F::sign_mask);
        return F::sign_bit(sp == sc ? sp : rm == Rm::RDN);
    }
    const auto ua = unpack_normalised<F>(a), ub = unpack_normalised<F>(b);
    // Both terms live in the wide type as S * 2^(x - bias - (NW-2)); the
    // product is exact, c's significand is put at the same top position.
    constexpr int prod_shift = F::NW - 2 - (2 * F::P - 1);
    W prod = (W(ua.sig) * ub.sig) << prod_shift;
    int xp = ua.exp + ub.exp - F::bias + 1;
    if (F::is_zero(c)) return norm_round_pack_wide<F>(sp, xp, prod, rm, flags);

    const auto uc = unpack_normalised<F>(c);
    W addend = W(uc.sig) << (F::NW - 2 - F::frac_bits);
    int xc = uc.exp;
    // Align to the larger exponent; a term shifted far down only leaves a
    // sticky bit, which is all rounding needs.
    int x;
    if (xp >= xc) {
        addend = shift_right_jam(addend, xp - xc);
        x = xp;
    } else {
        prod = shift_right_jam(prod, xc - xp);
        x = xc;
    }
    if (sp == sc) return norm_round_pack_wide<F>(sp, x, prod + addend, rm, flags);
    if (prod == addend) return F::sign_bit(rm == Rm::RDN); // exact cancellation
    if (prod > addend) return norm_round_pack_wide<F>(sp, x, prod - addend, rm, flags);
    return norm_round_pack_wide<F>(sc, x, addend - prod, rm, flags);
}

} // namespace

#define RV_FPU_ARITH(ns, F)                                                                  \
    namespace ns {                                                                          \
    using B = F::Bits;                                                                      \
    B add(B a, B b, Rm rm, uint8_t &fl) { return fpu::add<F>(a, b, rm, fl); }               \
    B sub(B a, B b, Rm rm, uint8_t &fl) { return fpu::add<F>(a, b ^ F::sign_mask, rm, fl); } \
    B mul(B a, B b, Rm rm, uint8_t &fl) { return fpu::mul<F>(a, b, rm, fl); }               \
    B div(B a, B b, Rm rm, uint8_t &fl) { return fpu::div<F>(a, b, rm, fl); }               \
    B sqrt(B a, Rm rm, uint8_t &fl) { return fpu::sqrt<F>(a, rm, fl); }                     \
    B fma(B a, B b, B c, Rm rm, uint8_t &fl, bool np, bool na) {                            \
        return fpu::fma<F>(a, b, c, rm, fl, np, na);                                        \
    }                                                                                       \
    }

RV_FPU_ARITH(f32, detail::F32)
RV_FPU_ARITH(f64, detail::F64)

} // namespace rv::fpu
