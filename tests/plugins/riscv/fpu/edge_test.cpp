// Hand-computed cases for what the host cannot check: RMM, RISC-V NaN and
// saturation rules, fmin/fmax, fclass, plus the classic thresholds.
#include "fpu/softfloat.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <tuple>
#include <type_traits>
#include <utility>

namespace {

using namespace rv::fpu;

// Result and flags of one call, compared as a pair.
template <class T>
struct R {
    T v;
    uint8_t fl;
    bool operator==(const R &) const = default;
};
template <class T>
std::ostream &operator<<(std::ostream &os, const R<T> &r) {
    return os << std::hex << "{0x" << uint64_t(r.v) << ", flags " << std::dec << int(r.fl) << "}";
}

template <class Fn, class... A>
auto run(Fn fn, A... args) {
    uint8_t fl = 0;
    const auto v = fn(args..., fl);
    return R<std::remove_const_t<decltype(v)>>{v, fl};
}
template <class Fn, class... A>
auto run_rm(Fn fn, Rm rm, A... args) {
    uint8_t fl = 0;
    const auto v = fn(args..., rm, fl);
    return R<std::remove_const_t<decltype(v)>>{v, fl};
}
template <class T>
R<T> run_fma(T (*fn)(T, T, T, Rm, uint8_t &, bool, bool), Rm rm, std::type_identity_t<T> a,
             std::type_identity_t<T> b, std::type_identity_t<T> c,
             bool negate_product = false, bool negate_addend = false) {
    uint8_t fl = 0;
    const T v = fn(a, b, c, rm, fl, negate_product, negate_addend);
    return {v, fl};
}

// f32 constants
constexpr uint32_t S_ONE = 0x3f800000, S_TWO = 0x40000000, S_MAX = 0x7f7fffff;
constexpr uint32_t S_MIN_NORMAL = 0x00800000, S_MIN_SUB = 0x00000001, S_MAX_SUB = 0x007fffff;
constexpr uint32_t S_INF = 0x7f800000, S_NINF = 0xff800000, S_QNAN = 0x7fc00000;
constexpr uint32_t S_SNAN = 0x7f800001, S_NEG = 0x80000000, S_ZERO = 0;
// f64 constants
constexpr uint64_t D_ONE = 0x3ff0000000000000, D_MAX = 0x7fefffffffffffff;
constexpr uint64_t D_INF = 0x7ff0000000000000, D_QNAN = 0x7ff8000000000000;
constexpr uint64_t D_SNAN = 0x7ff0000000000001, D_NEG = 0x8000000000000000;

// 1 + 2^-24 is exactly halfway between 1 and 1 + 2^-23.
TEST(FpuRounding, AddHalfwayEachMode) {
    const uint32_t half_ulp = 0x33800000; // 2^-24
    EXPECT_EQ(run_rm(f32::add, Rm::RNE, S_ONE, half_ulp), (R<uint32_t>{S_ONE, NX}));
    EXPECT_EQ(run_rm(f32::add, Rm::RMM, S_ONE, half_ulp), (R<uint32_t>{0x3f800001, NX}));
    EXPECT_EQ(run_rm(f32::add, Rm::RTZ, S_ONE, half_ulp), (R<uint32_t>{S_ONE, NX}));
    EXPECT_EQ(run_rm(f32::add, Rm::RUP, S_ONE, half_ulp), (R<uint32_t>{0x3f800001, NX}));
    EXPECT_EQ(run_rm(f32::add, Rm::RDN, S_ONE, half_ulp), (R<uint32_t>{S_ONE, NX}));
    // Odd significand: RNE rounds up to even, RMM away, both the same way.
    EXPECT_EQ(run_rm(f32::add, Rm::RNE, 0x3f800001u, half_ulp), (R<uint32_t>{0x3f800002, NX}));
    EXPECT_EQ(run_rm(f32::add, Rm::RMM, 0x3f800001u, half_ulp), (R<uint32_t>{0x3f800002, NX}));
    // Negative ties go away from zero under RMM.
    EXPECT_EQ(run_rm(f32::sub, Rm::RMM, S_ONE | S_NEG, half_ulp), (R<uint32_t>{0xbf800001, NX}));
    EXPECT_EQ(run_rm(f32::sub, Rm::RDN, S_ONE | S_NEG, half_ulp), (R<uint32_t>{0xbf800001, NX}));
    EXPECT_EQ(run_rm(f32::sub, Rm::RUP, S_ONE | S_NEG, half_ulp), (R<uint32_t>{0xbf800000, NX}));
    // f64: 1 + 2^-53
    EXPECT_EQ(run_rm(f64::add, Rm::RMM, D_ONE, 0x3ca0000000000000ull),
              (R<uint64_t>{D_ONE + 1, NX}));
    EXPECT_EQ(run_rm(f64::add, Rm::RNE, D_ONE, 0x3ca0000000000000ull), (R<uint64_t>{D_ONE, NX}));
}

TEST(FpuRounding, ExactCancellationSign) {
    EXPECT_EQ(run_rm(f32::sub, Rm::RNE, S_ONE, S_ONE), (R<uint32_t>{0, 0}));
    EXPECT_EQ(run_rm(f32::sub, Rm::RMM, S_ONE, S_ONE), (R<uint32_t>{0, 0}));
    EXPECT_EQ(run_rm(f32::sub, Rm::RDN, S_ONE, S_ONE), (R<uint32_t>{S_NEG, 0}));
    EXPECT_EQ(run_rm(f64::add, Rm::RDN, D_NEG, 0ull), (R<uint64_t>{D_NEG, 0}));
    EXPECT_EQ(run_rm(f64::add, Rm::RNE, D_NEG, 0ull), (R<uint64_t>{0, 0}));
    EXPECT_EQ(run_rm(f64::add, Rm::RNE, D_NEG, D_NEG), (R<uint64_t>{D_NEG, 0}));
}

TEST(FpuRounding, OverflowThreshold) {
    const uint32_t half_ulp_of_max = 0x73000000; // 2^103
    // Overflow is judged on the result rounded with an unbounded exponent:
    // truncating modes land on max without overflowing.
    for (auto [rm, want, fl] : {std::tuple{Rm::RNE, S_INF, OF | NX}, {Rm::RMM, S_INF, OF | NX},
                                {Rm::RUP, S_INF, OF | NX}, {Rm::RTZ, S_MAX, NX},
                                {Rm::RDN, S_MAX, NX}}) {
        EXPECT_EQ(run_rm(f32::add, rm, S_MAX, half_ulp_of_max), (R<uint32_t>{want, uint8_t(fl)}))
            << int(rm);
    }
    // Twice max overflows in every mode; truncating modes saturate to max.
    EXPECT_EQ(run_rm(f32::add, Rm::RTZ, S_MAX, S_MAX), (R<uint32_t>{S_MAX, OF | NX}));
    EXPECT_EQ(run_rm(f32::add, Rm::RMM, S_MAX, S_MAX), (R<uint32_t>{S_INF, OF | NX}));
    // Just below the halfway point stays finite under RNE/RMM.
    EXPECT_EQ(run_rm(f32::add, Rm::RMM, S_MAX, 0x72ffffffu), (R<uint32_t>{S_MAX, NX}));
    EXPECT_EQ(run_rm(f32::add, Rm::RNE, S_MAX, 0x72ffffffu), (R<uint32_t>{S_MAX, NX}));
    // Negative overflow: RUP gives -max, RDN -inf.
    EXPECT_EQ(run_rm(f64::mul, Rm::RUP, D_MAX | D_NEG, 0x4000000000000000ull),
              (R<uint64_t>{D_MAX | D_NEG, OF | NX}));
    EXPECT_EQ(run_rm(f64::mul, Rm::RDN, D_MAX | D_NEG, 0x4000000000000000ull),
              (R<uint64_t>{D_INF | D_NEG, OF | NX}));
    EXPECT_EQ(run_rm(f64::mul, Rm::RMM, D_MAX, 0x4000000000000000ull),
              (R<uint64_t>{D_INF, OF | NX}));
}

// (1 - 2^-23) * 2^-126 (1 + 2^-23) = 2^-126 (1 - 2^-46): below the smallest
// normal, but it rounds to it at full precision in RNE/RUP/RMM, so RISC-V
// (tininess after rounding) raises no UF there.
TEST(FpuRounding, TininessAfterRounding) {
    const uint32_t a = 0x3f7ffffe, b = 0x00800001;
    EXPECT_EQ(run_rm(f32::mul, Rm::RNE, a, b), (R<uint32_t>{S_MIN_NORMAL, NX}));
    EXPECT_EQ(run_rm(f32::mul, Rm::RMM, a, b), (R<uint32_t>{S_MIN_NORMAL, NX}));
    EXPECT_EQ(run_rm(f32::mul, Rm::RUP, a, b), (R<uint32_t>{S_MIN_NORMAL, NX}));
    EXPECT_EQ(run_rm(f32::mul, Rm::RTZ, a, b), (R<uint32_t>{S_MAX_SUB, NX | UF}));
    EXPECT_EQ(run_rm(f32::mul, Rm::RDN, a, b), (R<uint32_t>{S_MAX_SUB, NX | UF}));
    // Exact subnormal results raise nothing.
    EXPECT_EQ(run_rm(f32::sub, Rm::RNE, S_MIN_NORMAL, S_MIN_SUB), (R<uint32_t>{S_MAX_SUB, 0}));
    EXPECT_EQ(run_rm(f32::mul, Rm::RNE, S_MIN_NORMAL, 0x3f000000u), (R<uint32_t>{0x00400000, 0}));
}

TEST(FpuRounding, UnderflowToZeroAndRmmTies) {
    const uint32_t half = 0x3f000000;
    // min_subnormal / 2 is a tie between 0 and min_subnormal.
    EXPECT_EQ(run_rm(f32::mul, Rm::RNE, S_MIN_SUB, half), (R<uint32_t>{0, UF | NX}));
    EXPECT_EQ(run_rm(f32::mul, Rm::RMM, S_MIN_SUB, half), (R<uint32_t>{S_MIN_SUB, UF | NX}));
    EXPECT_EQ(run_rm(f32::mul, Rm::RMM, S_MIN_SUB | S_NEG, half),
              (R<uint32_t>{S_MIN_SUB | S_NEG, UF | NX}));
    EXPECT_EQ(run_rm(f32::mul, Rm::RUP, S_MIN_SUB, 0x3e800000u), (R<uint32_t>{S_MIN_SUB, UF | NX}));
    EXPECT_EQ(run_rm(f32::mul, Rm::RDN, S_MIN_SUB, 0x3e800000u), (R<uint32_t>{0, UF | NX}));
    // 3 * min_subnormal / 2 ties between 1 and 2 units: RNE to 2, RMM to 2.
    EXPECT_EQ(run_rm(f32::mul, Rm::RNE, 3u, half), (R<uint32_t>{2, UF | NX}));
    EXPECT_EQ(run_rm(f32::mul, Rm::RMM, 3u, half), (R<uint32_t>{2, UF | NX}));
    EXPECT_EQ(run_rm(f32::mul, Rm::RNE, 5u, half), (R<uint32_t>{2, UF | NX}));
    EXPECT_EQ(run_rm(f32::mul, Rm::RMM, 5u, half), (R<uint32_t>{3, UF | NX}));
    // 2^-1075 from f64 -> f32 and within f64.
    EXPECT_EQ(run_rm(f64::mul, Rm::RMM, 1ull, 0x3fe0000000000000ull), (R<uint64_t>{1, UF | NX}));
    EXPECT_EQ(run_rm(f64::mul, Rm::RNE, 1ull, 0x3fe0000000000000ull), (R<uint64_t>{0, UF | NX}));
}

TEST(FpuSpecial, NaNsAreCanonical) {
    const uint32_t payload_qnan = 0xffc12345;
    EXPECT_EQ(run_rm(f32::add, Rm::RNE, payload_qnan, S_ONE), (R<uint32_t>{S_QNAN, 0}));
    EXPECT_EQ(run_rm(f32::mul, Rm::RNE, S_ONE, S_SNAN), (R<uint32_t>{S_QNAN, NV}));
    EXPECT_EQ(run_rm(f32::sqrt, Rm::RNE, payload_qnan), (R<uint32_t>{S_QNAN, 0}));
    EXPECT_EQ(run_rm(f64::div, Rm::RNE, D_SNAN | D_NEG, D_ONE), (R<uint64_t>{D_QNAN, NV}));
    EXPECT_EQ(run_rm(f64::sub, Rm::RNE, D_INF, D_INF), (R<uint64_t>{D_QNAN, NV}));
    EXPECT_EQ(run_rm(f64::mul, Rm::RNE, D_INF, D_NEG), (R<uint64_t>{D_QNAN, NV}));
    EXPECT_EQ(run_rm(f64::div, Rm::RNE, 0ull, D_NEG), (R<uint64_t>{D_QNAN, NV}));
    EXPECT_EQ(run_rm(f64::div, Rm::RNE, D_INF, D_INF | D_NEG), (R<uint64_t>{D_QNAN, NV}));
    EXPECT_EQ(run_rm(f64::sqrt, Rm::RNE, D_ONE | D_NEG), (R<uint64_t>{D_QNAN, NV}));
    EXPECT_EQ(run_rm(f64::sqrt, Rm::RNE, D_INF | D_NEG), (R<uint64_t>{D_QNAN, NV}));
}

TEST(FpuSpecial, DivideByZeroAndInfinities) {
    EXPECT_EQ(run_rm(f32::div, Rm::RNE, S_ONE, S_ZERO), (R<uint32_t>{S_INF, DZ}));
    EXPECT_EQ(run_rm(f32::div, Rm::RNE, S_ONE | S_NEG, S_ZERO), (R<uint32_t>{S_NINF, DZ}));
    EXPECT_EQ(run_rm(f32::div, Rm::RNE, S_INF, S_ZERO), (R<uint32_t>{S_INF, 0}));
    EXPECT_EQ(run_rm(f32::div, Rm::RNE, S_ONE, S_NINF), (R<uint32_t>{S_NEG, 0}));
    EXPECT_EQ(run_rm(f64::sqrt, Rm::RNE, D_NEG), (R<uint64_t>{D_NEG, 0}));
    EXPECT_EQ(run_rm(f64::sqrt, Rm::RNE, D_INF), (R<uint64_t>{D_INF, 0}));
}

TEST(FpuSqrt, ExactAndRounded) {
    EXPECT_EQ(run_rm(f64::sqrt, Rm::RNE, 0x4010000000000000ull), (R<uint64_t>{0x4000000000000000, 0}));
    EXPECT_EQ(run_rm(f64::sqrt, Rm::RNE, 1ull), (R<uint64_t>{0x1e60000000000000, 0})); // 2^-537
    EXPECT_EQ(run_rm(f64::sqrt, Rm::RNE, 0x4000000000000000ull), (R<uint64_t>{0x3ff6a09e667f3bcd, NX}));
    EXPECT_EQ(run_rm(f64::sqrt, Rm::RMM, 0x4000000000000000ull), (R<uint64_t>{0x3ff6a09e667f3bcd, NX}));
    EXPECT_EQ(run_rm(f64::sqrt, Rm::RTZ, 0x4000000000000000ull), (R<uint64_t>{0x3ff6a09e667f3bcc, NX}));
    EXPECT_EQ(run_rm(f32::sqrt, Rm::RNE, 0x40800000u), (R<uint32_t>{S_TWO, 0}));
    EXPECT_EQ(run_rm(f32::sqrt, Rm::RNE, S_TWO), (R<uint32_t>{0x3fb504f3, NX}));
    EXPECT_EQ(run_rm(f32::sqrt, Rm::RUP, S_TWO), (R<uint32_t>{0x3fb504f4, NX}));
}

TEST(FpuFma, InfTimesZeroIsInvalidEvenWithQuietNaN) {
    EXPECT_EQ(run_fma(f32::fma, Rm::RNE, S_INF, S_ZERO, S_QNAN, false, false),
              (R<uint32_t>{S_QNAN, NV}));
    EXPECT_EQ(run_fma(f64::fma, Rm::RNE, D_NEG, D_INF, 0x7ff8000000000123ull, false, false),
              (R<uint64_t>{D_QNAN, NV}));
    EXPECT_EQ(run_fma(f32::fma, Rm::RNE, S_QNAN, S_ONE, S_ONE, false, false), (R<uint32_t>{S_QNAN, 0}));
    EXPECT_EQ(run_fma(f32::fma, Rm::RNE, S_ONE, S_ONE, S_SNAN, false, false), (R<uint32_t>{S_QNAN, NV}));
    EXPECT_EQ(run_fma(f32::fma, Rm::RNE, S_INF, S_ZERO, S_ONE, false, false), (R<uint32_t>{S_QNAN, NV}));
    EXPECT_EQ(run_fma(f32::fma, Rm::RNE, S_INF, S_ONE, S_NINF, false, false), (R<uint32_t>{S_QNAN, NV}));
    // Negating the product turns inf + -inf into -inf - inf: valid.
    EXPECT_EQ(run_fma(f32::fma, Rm::RNE, S_INF, S_ONE, S_NINF, true, false), (R<uint32_t>{S_NINF, 0}));
}

TEST(FpuFma, SingleRoundingAndSigns) {
    // (1 + 2^-12)^2 - 1 = 2^-11 + 2^-24 is exact when fused; a separate
    // multiply would round the square to 1 + 2^-11 first.
    const uint32_t a = 0x3f800800;
    EXPECT_EQ(run_fma(f32::fma, Rm::RNE, a, a, S_ONE | S_NEG, false, false),
              (R<uint32_t>{0x3a000400, 0}));
    // fnmadd: -(1*1) - (-1) = +0 under RNE, -0 under RDN.
    EXPECT_EQ(run_fma(f64::fma, Rm::RNE, D_ONE, D_ONE, D_ONE | D_NEG, true, true), (R<uint64_t>{0, 0}));
    EXPECT_EQ(run_fma(f64::fma, Rm::RDN, D_ONE, D_ONE, D_ONE | D_NEG, true, true),
              (R<uint64_t>{D_NEG, 0}));
    // fnmadd(+0, 1, +0) = -(+0) - (+0) = -0.
    EXPECT_EQ(run_fma(f32::fma, Rm::RNE, S_ZERO, S_ONE, S_ZERO, true, true), (R<uint32_t>{S_NEG, 0}));
    // fmsub(0, 1, 0) = +0 - +0 = +0 (RNE), -0 (RDN).
    EXPECT_EQ(run_fma(f32::fma, Rm::RNE, S_ZERO, S_ONE, S_ZERO, false, true), (R<uint32_t>{0, 0}));
    EXPECT_EQ(run_fma(f32::fma, Rm::RDN, S_ZERO, S_ONE, S_ZERO, false, true), (R<uint32_t>{S_NEG, 0}));
    // RMM tie: 1 * 1 + 2^-24.
    EXPECT_EQ(run_fma(f32::fma, Rm::RMM, S_ONE, S_ONE, 0x33800000u, false, false),
              (R<uint32_t>{0x3f800001, NX}));
    // A huge addend with a tiny product: only the sticky bit of the product matters.
    EXPECT_EQ(run_fma(f64::fma, Rm::RUP, 1ull, 1ull, D_ONE, false, false),
              (R<uint64_t>{D_ONE + 1, NX}));
    EXPECT_EQ(run_fma(f64::fma, Rm::RDN, 1ull | D_NEG, 1ull, D_ONE, false, false),
              (R<uint64_t>{D_ONE - 1, NX}));
}

TEST(FpuMinMax, NumberSemantics) {
    EXPECT_EQ(run(f32::min, S_ZERO, S_NEG), (R<uint32_t>{S_NEG, 0}));
    EXPECT_EQ(run(f32::min, S_NEG, S_ZERO), (R<uint32_t>{S_NEG, 0}));
    EXPECT_EQ(run(f32::max, S_NEG, S_ZERO), (R<uint32_t>{S_ZERO, 0}));
    EXPECT_EQ(run(f32::max, S_ZERO, S_NEG), (R<uint32_t>{S_ZERO, 0}));
    EXPECT_EQ(run(f32::min, S_QNAN, S_ONE), (R<uint32_t>{S_ONE, 0}));
    EXPECT_EQ(run(f32::max, S_ONE, S_SNAN), (R<uint32_t>{S_ONE, NV}));
    EXPECT_EQ(run(f32::max, 0xffc00001u, S_QNAN), (R<uint32_t>{S_QNAN, 0}));
    EXPECT_EQ(run(f32::min, S_SNAN, S_QNAN), (R<uint32_t>{S_QNAN, NV}));
    EXPECT_EQ(run(f32::min, S_NINF, S_MAX), (R<uint32_t>{S_NINF, 0}));
    EXPECT_EQ(run(f64::max, D_ONE | D_NEG, 0x8010000000000000ull), (R<uint64_t>{0x8010000000000000, 0}));
    EXPECT_EQ(run(f64::min, D_ONE, 0x3ff0000000000001ull), (R<uint64_t>{D_ONE, 0}));
    EXPECT_EQ(run(f64::max, D_SNAN, D_SNAN), (R<uint64_t>{D_QNAN, NV}));
}

TEST(FpuCompare, QuietAndSignaling) {
    EXPECT_EQ(run(f32::eq, S_QNAN, S_ONE), (R<bool>{false, 0}));
    EXPECT_EQ(run(f32::eq, S_SNAN, S_ONE), (R<bool>{false, NV}));
    EXPECT_EQ(run(f32::eq, S_ZERO, S_NEG), (R<bool>{true, 0}));
    EXPECT_EQ(run(f32::eq, S_QNAN, S_QNAN), (R<bool>{false, 0}));
    EXPECT_EQ(run(f32::lt, S_QNAN, S_ONE), (R<bool>{false, NV}));
    EXPECT_EQ(run(f32::le, S_ONE, S_QNAN), (R<bool>{false, NV}));
    EXPECT_EQ(run(f32::lt, S_NEG, S_ZERO), (R<bool>{false, 0}));
    EXPECT_EQ(run(f32::le, S_ZERO, S_NEG), (R<bool>{true, 0}));
    EXPECT_EQ(run(f64::lt, D_INF | D_NEG, D_MAX | D_NEG), (R<bool>{true, 0}));
    EXPECT_EQ(run(f64::lt, 0x8000000000000002ull, 0x8000000000000001ull), (R<bool>{true, 0}));
    EXPECT_EQ(run(f64::le, D_ONE, D_ONE), (R<bool>{true, 0}));
    EXPECT_EQ(run(f64::lt, D_ONE, D_ONE), (R<bool>{false, 0}));
}

TEST(FpuClassify, AllTenClasses) {
    const std::pair<uint32_t, uint16_t> s[] = {
        {S_NINF, NEG_INF},          {0xbf800000, NEG_NORMAL}, {0x807fffff, NEG_SUBNORMAL},
        {S_NEG, NEG_ZERO},          {S_ZERO, POS_ZERO},       {S_MIN_SUB, POS_SUBNORMAL},
        {S_MIN_NORMAL, POS_NORMAL}, {S_INF, POS_INF},         {S_SNAN, SNAN},
        {0xffc00000, QNAN},
    };
    for (auto [v, c] : s) EXPECT_EQ(f32::classify(v), c) << std::hex << v;
    const std::pair<uint64_t, uint16_t> d[] = {
        {D_INF | D_NEG, NEG_INF}, {D_MAX | D_NEG, NEG_NORMAL}, {D_NEG | 1, NEG_SUBNORMAL},
        {D_NEG, NEG_ZERO},        {0, POS_ZERO},               {0x000fffffffffffff, POS_SUBNORMAL},
        {D_ONE, POS_NORMAL},      {D_INF, POS_INF},            {0x7ff7ffffffffffff, SNAN},
        {D_QNAN, QNAN},
    };
    for (auto [v, c] : d) EXPECT_EQ(f64::classify(v), c) << std::hex << v;
}

TEST(FpuConvert, ToIntSaturation) {
    constexpr int32_t imax = std::numeric_limits<int32_t>::max(), imin = std::numeric_limits<int32_t>::min();
    EXPECT_EQ(run_rm(f32::to_i32, Rm::RNE, S_QNAN), (R<int32_t>{imax, NV}));
    EXPECT_EQ(run_rm(f32::to_i32, Rm::RNE, 0xffc00000u), (R<int32_t>{imax, NV})); // -NaN too
    EXPECT_EQ(run_rm(f32::to_i32, Rm::RNE, S_NINF), (R<int32_t>{imin, NV}));
    EXPECT_EQ(run_rm(f32::to_i32, Rm::RNE, 0x4f000000u), (R<int32_t>{imax, NV})); // 2^31
    EXPECT_EQ(run_rm(f32::to_i32, Rm::RNE, 0xcf000000u), (R<int32_t>{imin, 0}));  // -2^31
    // -2^31 - 0.5: RNE ties to even (in range), RMM away (out of range: NV only).
    EXPECT_EQ(run_rm(f64::to_i32, Rm::RNE, 0xc1e0000000100000ull), (R<int32_t>{imin, NX}));
    EXPECT_EQ(run_rm(f64::to_i32, Rm::RMM, 0xc1e0000000100000ull), (R<int32_t>{imin, NV}));
    EXPECT_EQ(run_rm(f64::to_i32, Rm::RMM, 0x4004000000000000ull), (R<int32_t>{3, NX}));  // 2.5
    EXPECT_EQ(run_rm(f64::to_i32, Rm::RNE, 0x4004000000000000ull), (R<int32_t>{2, NX}));
    EXPECT_EQ(run_rm(f64::to_i32, Rm::RMM, 0xc004000000000000ull), (R<int32_t>{-3, NX})); // -2.5
    EXPECT_EQ(run_rm(f64::to_i32, Rm::RMM, 0x3fe0000000000000ull), (R<int32_t>{1, NX}));  // 0.5
    EXPECT_EQ(run_rm(f64::to_i32, Rm::RNE, 0x3fe0000000000000ull), (R<int32_t>{0, NX}));

    // Unsigned: negative values that round to zero are only inexact.
    EXPECT_EQ(run_rm(f32::to_u32, Rm::RNE, 0xbecccccdu), (R<uint32_t>{0, NX}));  // -0.4
    EXPECT_EQ(run_rm(f32::to_u32, Rm::RNE, 0xbf19999au), (R<uint32_t>{0, NV}));  // -0.6
    EXPECT_EQ(run_rm(f32::to_u32, Rm::RTZ, 0xbf19999au), (R<uint32_t>{0, NX}));
    EXPECT_EQ(run_rm(f32::to_u32, Rm::RNE, S_NEG), (R<uint32_t>{0, 0}));
    EXPECT_EQ(run_rm(f32::to_u32, Rm::RMM, 0xbf000000u), (R<uint32_t>{0, NV}));  // -0.5 -> -1
    // 4294967295.5 ties to the even 2^32, out of range; truncation is in range.
    EXPECT_EQ(run_rm(f64::to_u32, Rm::RNE, 0x41effffffff00000ull), (R<uint32_t>{0xffffffff, NV}));
    EXPECT_EQ(run_rm(f64::to_u32, Rm::RTZ, 0x41effffffff00000ull), (R<uint32_t>{0xffffffff, NX}));
    EXPECT_EQ(run_rm(f64::to_u32, Rm::RDN, 0x41effffffff00000ull), (R<uint32_t>{0xffffffff, NX}));
    EXPECT_EQ(run_rm(f64::to_u64, Rm::RNE, D_QNAN), (R<uint64_t>{~0ull, NV}));
    EXPECT_EQ(run_rm(f64::to_u64, Rm::RNE, D_INF | D_NEG), (R<uint64_t>{0, NV}));
    EXPECT_EQ(run_rm(f64::to_u64, Rm::RNE, 0x43f0000000000000ull), (R<uint64_t>{~0ull, NV})); // 2^64
    EXPECT_EQ(run_rm(f64::to_u64, Rm::RNE, 0x43efffffffffffffull), (R<uint64_t>{0xfffffffffffff800, 0}));
    EXPECT_EQ(run_rm(f64::to_i64, Rm::RNE, 0x43e0000000000000ull),
              (R<int64_t>{std::numeric_limits<int64_t>::max(), NV}));
    EXPECT_EQ(run_rm(f64::to_i64, Rm::RNE, 0xc3e0000000000000ull),
              (R<int64_t>{std::numeric_limits<int64_t>::min(), 0}));
    EXPECT_EQ(run_rm(f32::to_i64, Rm::RDN, 0x80000001u), (R<int64_t>{-1, NX})); // -min subnormal
    EXPECT_EQ(run_rm(f32::to_i64, Rm::RUP, S_MIN_SUB), (R<int64_t>{1, NX}));
}

TEST(FpuConvert, FromInt) {
    EXPECT_EQ(run_rm(f32::from_i32, Rm::RNE, std::numeric_limits<int32_t>::min()),
              (R<uint32_t>{0xcf000000, 0}));
    EXPECT_EQ(run_rm(f32::from_i32, Rm::RNE, 0), (R<uint32_t>{0, 0}));
    EXPECT_EQ(run_rm(f32::from_u64, Rm::RNE, ~0ull), (R<uint32_t>{0x5f800000, NX}));
    EXPECT_EQ(run_rm(f32::from_u64, Rm::RTZ, ~0ull), (R<uint32_t>{0x5f7fffff, NX}));
    // 2^24 + 1 is a tie in f32.
    EXPECT_EQ(run_rm(f32::from_i64, Rm::RNE, int64_t(0x1000001)), (R<uint32_t>{0x4b800000, NX}));
    EXPECT_EQ(run_rm(f32::from_i64, Rm::RMM, int64_t(0x1000001)), (R<uint32_t>{0x4b800001, NX}));
    EXPECT_EQ(run_rm(f32::from_i64, Rm::RMM, -int64_t(0x1000001)), (R<uint32_t>{0xcb800001, NX}));
    EXPECT_EQ(run_rm(f64::from_u64, Rm::RMM, (1ull << 53) + 1), (R<uint64_t>{0x4340000000000001, NX}));
    EXPECT_EQ(run_rm(f64::from_u32, Rm::RNE, 0xffffffffu), (R<uint64_t>{0x41efffffffe00000, 0}));
    EXPECT_EQ(run_rm(f64::from_i64, Rm::RNE, std::numeric_limits<int64_t>::min()),
              (R<uint64_t>{0xc3e0000000000000, 0}));
}

TEST(FpuConvert, BetweenFormats) {
    EXPECT_EQ(run(f32::to_f64, S_SNAN), (R<uint64_t>{D_QNAN, NV}));
    EXPECT_EQ(run(f32::to_f64, 0xffc12345u), (R<uint64_t>{D_QNAN, 0}));
    EXPECT_EQ(run(f32::to_f64, S_MIN_SUB), (R<uint64_t>{0x36a0000000000000, 0}));
    EXPECT_EQ(run(f32::to_f64, S_NINF), (R<uint64_t>{D_INF | D_NEG, 0}));
    EXPECT_EQ(run(f32::to_f64, S_NEG), (R<uint64_t>{D_NEG, 0}));
    EXPECT_EQ(run_rm(f64::to_f32, Rm::RNE, D_SNAN), (R<uint32_t>{S_QNAN, NV}));
    EXPECT_EQ(run_rm(f64::to_f32, Rm::RNE, D_MAX), (R<uint32_t>{S_INF, OF | NX}));
    EXPECT_EQ(run_rm(f64::to_f32, Rm::RTZ, D_MAX), (R<uint32_t>{S_MAX, OF | NX}));
    // 2^-150: a tie between 0 and the smallest subnormal.
    EXPECT_EQ(run_rm(f64::to_f32, Rm::RNE, 0x3690000000000000ull), (R<uint32_t>{0, UF | NX}));
    EXPECT_EQ(run_rm(f64::to_f32, Rm::RMM, 0x3690000000000000ull), (R<uint32_t>{S_MIN_SUB, UF | NX}));
    EXPECT_EQ(run_rm(f64::to_f32, Rm::RUP, 1ull), (R<uint32_t>{S_MIN_SUB, UF | NX}));
    EXPECT_EQ(run_rm(f64::to_f32, Rm::RNE, 0x3ff0000010000000ull), (R<uint32_t>{S_ONE, NX})); // 1 + 2^-24
    EXPECT_EQ(run_rm(f64::to_f32, Rm::RMM, 0x3ff0000010000000ull), (R<uint32_t>{0x3f800001, NX}));
}

} // namespace
