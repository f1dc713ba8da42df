// Shared by the host-differential tests: operand generators biased toward
// hard cases, the host FPU as an oracle (rounding mode and flags through
// <cfenv>), and a mismatch reporter.
#pragma once

#include "fpu/softfloat.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cfenv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <limits>
#include <random>
#include <string>

namespace rv_fpu_test {

using namespace rv::fpu;

// Case counts are multiplied by $RV_FPU_SOAK (default 1) for long runs.
inline int scaled(int cases) {
    static const int factor = [] {
        const char *s = std::getenv("RV_FPU_SOAK");
        return s ? std::max(1, std::atoi(s)) : 1;
    }();
    return cases * factor;
}

inline int host_round(Rm rm) {
    switch (rm) {
    case Rm::RTZ: return FE_TOWARDZERO;
    case Rm::RDN: return FE_DOWNWARD;
    case Rm::RUP: return FE_UPWARD;
    default: return FE_TONEAREST;
    }
}

inline uint8_t host_flags() {
    const int e = std::fetestexcept(FE_ALL_EXCEPT);
    return uint8_t(((e & FE_INEXACT) ? NX : 0) | ((e & FE_UNDERFLOW) ? UF : 0) |
                   ((e & FE_OVERFLOW) ? OF : 0) | ((e & FE_DIVBYZERO) ? DZ : 0) |
                   ((e & FE_INVALID) ? NV : 0));
}

// Runs fn under the host rounding mode with cleared flags; returns its
// result and the flags it raised, with the host back in round-to-nearest.
template <class Fn>
auto on_host(Rm rm, uint8_t &flags, Fn fn) {
    std::fesetround(host_round(rm));
    std::feclearexcept(FE_ALL_EXCEPT);
    auto r = fn();
    flags = host_flags();
    std::fesetround(FE_TONEAREST);
    return r;
}

template <class T>
struct Traits;
template <>
struct Traits<float> {
    using Bits = uint32_t;
    static constexpr int frac_bits = 23, max_exp = 255, bias = 127;
    static constexpr Bits canonical_nan = f32::canonical_nan;
};
template <>
struct Traits<double> {
    using Bits = uint64_t;
    static constexpr int frac_bits = 52, max_exp = 2047, bias = 1023;
    static constexpr Bits canonical_nan = f64::canonical_nan;
};

template <class T>
typename Traits<T>::Bits host_bits(T v) {
    return std::isnan(v) ? Traits<T>::canonical_nan : std::bit_cast<typename Traits<T>::Bits>(v);
}

// Operands concentrated where rounding is hard: exponent extremes, equal
// or nearby exponents, long runs of ones or zeros, specials and NaNs.
template <class T>
class Gen {
public:
    using Bits = typename Traits<T>::Bits;
    using Tr = Traits<T>;
    explicit Gen(uint64_t seed) : rng_(seed) {}

    uint64_t u64() { return rng_(); }
    int range(int lo, int hi) { return lo + int(rng_() % uint64_t(hi - lo + 1)); }

    Bits frac() {
        const Bits mask = (Bits(1) << Tr::frac_bits) - 1;
        switch (rng_() % 6) {
        case 0: return 0;
        case 1: return mask;
        case 2: return mask >> range(0, Tr::frac_bits); // low ones
        case 3: return mask & ~(mask >> range(0, Tr::frac_bits)); // high ones
        case 4: return Bits(rng_()) & mask & (Bits(rng_()) | Bits(rng_())); // dense
        default: return Bits(rng_()) & mask;
        }
    }

    int exponent() {
        switch (rng_() % 8) {
        case 0: return range(0, 2);
        case 1: return range(0, Tr::frac_bits + 3);
        case 2: return range(Tr::max_exp - 3, Tr::max_exp - 1);
        case 3: return range(Tr::bias - 4, Tr::bias + 4);
        case 4: return Tr::max_exp; // inf / NaN
        default: return range(0, Tr::max_exp);
        }
    }

    Bits make(bool sign, int exp, Bits frac) const {
        return (Bits(sign) << (sizeof(Bits) * 8 - 1)) | (Bits(exp) << Tr::frac_bits) | frac;
    }

    Bits any() { return make(rng_() & 1, exponent(), frac()); }
    // An operand whose exponent is near `exp` (clamped into the finite range).
    Bits near(int exp, int spread) {
        const int e = std::clamp(exp + range(-spread, spread), 0, Tr::max_exp - 1);
        return make(rng_() & 1, e, frac());
    }
    Bits finite() { return make(rng_() & 1, range(0, Tr::max_exp - 1), frac()); }
    // b with its exponent field replaced (clamped into the finite range).
    Bits with_exp(Bits b, int exp) const {
        const Bits field = Bits(Tr::max_exp) << Tr::frac_bits;
        return (b & ~field) | (Bits(std::clamp(exp, 0, Tr::max_exp - 1)) << Tr::frac_bits);
    }
    static constexpr Bits sign = Bits(1) << (sizeof(Bits) * 8 - 1);

private:
    std::mt19937_64 rng_;
};

template <class T>
T val(typename Traits<T>::Bits b) {
    return std::bit_cast<T>(b);
}

template <class T>
int exp_of(typename Traits<T>::Bits b) {
    return int((b >> Traits<T>::frac_bits) & Traits<T>::max_exp);
}

inline std::string hex(uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}

// Compares one case; reports the operands on mismatch. Returns false on a
// failure so that a broken operation stops after a few reports.
template <class R>
bool same(const char *op, Rm rm, std::initializer_list<uint64_t> in, R want, uint8_t want_fl,
          R got, uint8_t got_fl) {
    if (want == got && want_fl == got_fl) return true;
    std::string args;
    for (auto v : in) args += hex(v) + " ";
    ADD_FAILURE() << op << " rm=" << int(rm) << " (" << args << "): want " << hex(uint64_t(want))
                  << " flags " << int(want_fl) << ", got " << hex(uint64_t(got)) << " flags "
                  << int(got_fl);
    return false;
}

template <class T>
struct Ops;
template <>
struct Ops<float> {
    static constexpr auto add = f32::add, sub = f32::sub, mul = f32::mul, div = f32::div;
    static constexpr auto sqrt = f32::sqrt;
    static constexpr auto fma = f32::fma;
    static constexpr auto eq = f32::eq, lt = f32::lt, le = f32::le;
    static constexpr auto to_i32 = f32::to_i32;
    static constexpr auto to_u32 = f32::to_u32;
    static constexpr auto to_i64 = f32::to_i64;
    static constexpr auto to_u64 = f32::to_u64;
    static constexpr auto from_i32 = f32::from_i32;
    static constexpr auto from_u32 = f32::from_u32;
    static constexpr auto from_i64 = f32::from_i64;
    static constexpr auto from_u64 = f32::from_u64;
};
template <>
struct Ops<double> {
    static constexpr auto add = f64::add, sub = f64::sub, mul = f64::mul, div = f64::div;
    static constexpr auto sqrt = f64::sqrt;
    static constexpr auto fma = f64::fma;
    static constexpr auto eq = f64::eq, lt = f64::lt, le = f64::le;
    static constexpr auto to_i32 = f64::to_i32;
    static constexpr auto to_u32 = f64::to_u32;
    static constexpr auto to_i64 = f64::to_i64;
    static constexpr auto to_u64 = f64::to_u64;
    static constexpr auto from_i32 = f64::from_i32;
    static constexpr auto from_u32 = f64::from_u32;
    static constexpr auto from_i64 = f64::from_i64;
    static constexpr auto from_u64 = f64::from_u64;
};

// Host oracle for fcvt.*.{s,d}: rint under the mode (round for RMM), then the RISC-V range
// rules (NaN -> max; out of range -> NV and the bound; else NX if inexact).
template <class I, class T>
I host_to_int(T v, Rm rm, uint8_t &flags) {
    flags = 0;
    constexpr I lo = std::numeric_limits<I>::min(), hi = std::numeric_limits<I>::max();
    if (std::isnan(v)) {
        flags = NV;
        return hi;
    }
    std::fesetround(host_round(rm));
    volatile double x = double(v);
    // std::round is the host's only ties-away rounding.
    const double r = rm == Rm::RMM ? std::round(double(x)) : std::rint(double(x));
    std::fesetround(FE_TONEAREST);
    // hi + 1 and lo are powers of two (or 0), exact in double.
    if (r >= std::ldexp(1.0, std::numeric_limits<I>::digits) || r < double(lo)) {
        flags = NV;
        return v < 0 ? lo : hi;
    }
    if (r != double(x)) flags = NX;
    return I(r);
}

} // namespace rv_fpu_test
