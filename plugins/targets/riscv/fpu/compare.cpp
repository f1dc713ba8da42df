// fmin/fmax, feq/flt/fle and fclass for both formats.
#include "fpu/detail.hpp"

namespace rv::fpu {
namespace {

using namespace detail;

// Maps a non-NaN bit pattern to an unsigned key with the same total order
// as the values, with -0 just below +0.
template <class F>
constexpr typename F::Bits order_key(typename F::Bits a) {
    return F::sign(a) ? typename F::Bits(~a) : typename F::Bits(a | F::sign_mask);
}

// RISC-V 2.2 fmin/fmax (minimumNumber/maximumNumber): a NaN operand is
// ignored, two NaNs give the canonical NaN, any sNaN raises NV.
template <class F>
typename F::Bits min_max(typename F::Bits a, typename F::Bits b, bool want_max, uint8_t &flags) {
    const bool na = F::is_nan(a), nb = F::is_nan(b);
    if (na || nb) {
        if (F::is_snan(a) || F::is_snan(b)) flags |= NV;
        if (na && nb) return F::canonical_nan;
        return na ? b : a;
    }
    const bool a_less = order_key<F>(a) < order_key<F>(b);
    return a_less != want_max ? a : b;
}

template <class F>
bool eq(typename F::Bits a, typename F::Bits b, uint8_t &flags) {
    if (F::is_nan(a) || F::is_nan(b)) {
        if (F::is_snan(a) || F::is_snan(b)) flags |= NV;
        return false;
    }
    return a == b || (F::is_zero(a) && F::is_zero(b));
}

template <class F>
bool less(typename F::Bits a, typename F::Bits b, bool or_equal, uint8_t &flags) {
    if (F::is_nan(a) || F::is_nan(b)) {
        flags |= NV;
        return false;
    }
    if (F::is_zero(a) && F::is_zero(b)) return or_equal;
    return or_equal ? order_key<F>(a) <= order_key<F>(b) : order_key<F>(a) < order_key<F>(b);
}

template <class F>
uint16_t classify(typename F::Bits a) {
    const bool s = F::sign(a);
    if (F::is_nan(a)) return F::is_snan(a) ? SNAN : QNAN;
    if (F::is_inf(a)) return s ? NEG_INF : POS_INF;
    if (F::is_zero(a)) return s ? NEG_ZERO : POS_ZERO;
    if (F::exp(a) == 0) return s ? NEG_SUBNORMAL : POS_SUBNORMAL;
    return s ? NEG_NORMAL : POS_NORMAL;
}

} // namespace

#define RV_FPU_COMPARE(ns, F)                                                                \
    namespace ns {                                                                          \
    using B = F::Bits;                                                                      \
    B min(B a, B b, uint8_t &fl) { return min_max<F>(a, b, false, fl); }                    \
    B max(B a, B b, uint8_t &fl) { return min_max<F>(a, b, true, fl); }                     \
    bool eq(B a, B b, uint8_t &fl) { return fpu::eq<F>(a, b, fl); }                         \
    bool lt(B a, B b, uint8_t &fl) { return less<F>(a, b, false, fl); }                     \
    bool le(B a, B b, uint8_t &fl) { return less<F>(a, b, true, fl); }                      \
    uint16_t classify(B a) { return fpu::classify<F>(a); }                                  \
    }

RV_FPU_COMPARE(f32, detail::F32)
RV_FPU_COMPARE(f64, detail::F64)

} // namespace rv::fpu
