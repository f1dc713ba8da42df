// RMM (round to nearest, ties away from zero) has no host rounding mode.
// It differs from RNE only when the exact result is a tie, where it takes the
// neighbour away from zero; the flags equal RNE's (at a tie both round the
// same way at the overflow and underflow thresholds). So the oracle is the
// host's RNE result and flags, plus an exact tie test on a residual computed
// in a wider format (double for f32, __float128 or long double for f64).
#include "host_oracle.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

namespace {

using namespace rv_fpu_test;

__extension__ typedef __float128 f128;

// RNE result s of the exact value E (held in X), or nothing usable if E is
// not exact: the RMM result.
template <class T, class X>
T rmm_from(T s, X exact_value, bool exact) {
    if (!exact || !std::isfinite(s)) return s;
    const X err = exact_value - X(s); // exact: E and s are within one ulp of T
    if (err == 0) return s;
    const T n = std::nextafter(s, err > 0 ? T(INFINITY) : -T(INFINITY));
    if (!std::isfinite(n)) return s;
    const bool tie = X(n) - X(s) == 2 * err;
    return tie && std::fabs(n) > std::fabs(s) ? n : s;
}

// Knuth's TwoSum: a + b == s + e exactly (RNE, no overflow); e == 0 iff the
// sum was exact.
template <class X>
bool sum_is_exact(X a, X b, X s) {
    const X bv = s - a, av = s - bv;
    return (a - av) + (b - bv) == 0;
}

// Operands with short significands so that sums and products are often
// exactly representable one bit beyond the format: ties.
template <class T>
struct TieGen : Gen<T> {
    using Gen<T>::Gen;
    using Bits = typename Traits<T>::Bits;
    Bits short_frac() {
        const Bits mask = (Bits(1) << Traits<T>::frac_bits) - 1;
        const int keep = this->range(0, Traits<T>::frac_bits);
        return Bits(this->u64()) & mask & ~(mask >> keep);
    }
    Bits at(int exp) {
        return this->make(this->u64() & 1, std::clamp(exp, 0, Traits<T>::max_exp - 1), short_frac());
    }
};

template <class T>
using Wide = std::conditional_t<std::is_same_v<T, float>, double, f128>;

template <class T>
class Rmm : public ::testing::Test {};
using Formats = ::testing::Types<float, double>;
TYPED_TEST_SUITE(Rmm, Formats);

TYPED_TEST(Rmm, ArithmeticMatchesRneExceptAtTies) {
    using T = TypeParam;
    using X = Wide<T>;
    using Tr = Traits<T>;
    using O = Ops<T>;
    using Bits = typename Tr::Bits;
    TieGen<T> g(11);
    enum { ADD, MUL, DIV, FMA };
    int failures = 0, ties = 0;
    for (int i = 0; i < scaled(80000) && failures < 5; ++i) {
        const int op = i % 4;
        const Bits a = g.u64() % 8 ? g.at(g.exponent()) : g.any();
        const int ea = exp_of<T>(a);
        const std::array targets{0, 1, Tr::bias, Tr::max_exp - 1, -Tr::frac_bits};
        const int target = targets[g.u64() % targets.size()];
        Bits b = 0, c = 0;
        switch (op) {
        case ADD: b = g.at(ea - g.range(0, Tr::frac_bits + 2)); break;
        case MUL: b = g.at(target - ea + Tr::bias); break;
        case DIV: b = g.at(ea - target + Tr::bias); break;
        case FMA:
            b = g.at(target - ea + Tr::bias);
            c = g.at(target - g.range(-2, Tr::frac_bits + 2));
            break;
        }
        const T x = val<T>(a), y = val<T>(b), z = val<T>(c);
        // Exact value in X where possible (products of two significands
        // fit; sums are checked with TwoSum), and the host RNE result.
        X e = 0;
        bool exact = true;
        uint8_t hf = 0;
        volatile T vx = x, vy = y, vz = z;
        T s;
        switch (op) {
        case ADD:
            e = X(x) + X(y);
            exact = sum_is_exact<X>(X(x), X(y), e);
            s = on_host(Rm::RNE, hf, [&] { volatile T r = vx + vy; return T(r); });
            break;
        case MUL:
            e = X(x) * X(y);
            s = on_host(Rm::RNE, hf, [&] { volatile T r = vx * vy; return T(r); });
            break;
        case DIV:
            // A rounded wide quotient cannot land on a tie by accident: a
            // non-tie quotient is at least 2^-2P (relative) away from one.
            e = X(x) / X(y);
            s = on_host(Rm::RNE, hf, [&] { volatile T r = vx / vy; return T(r); });
            break;
        case FMA: {
            const X p = X(x) * X(y);
            e = p + X(z);
            exact = sum_is_exact<X>(p, X(z), e);
            s = on_host(Rm::RNE, hf, [&] { volatile T r = std::fma(T(vx), T(vy), T(vz)); return T(r); });
            break;
        }
        }
        if (!std::isfinite(x) || !std::isfinite(y) || !std::isfinite(z)) exact = false;
        const T want = rmm_from(s, e, exact);
        ties += std::bit_cast<Bits>(want) != std::bit_cast<Bits>(s);
        uint8_t lf = 0;
        Bits got = 0;
        switch (op) {
        case ADD: got = O::add(a, b, Rm::RMM, lf); break;
        case MUL: got = O::mul(a, b, Rm::RMM, lf); break;
        case DIV: got = O::div(a, b, Rm::RMM, lf); break;
        case FMA: got = O::fma(a, b, c, Rm::RMM, lf, false, false); break;
        }
        const char *name = std::array{"add", "mul", "div", "fma"}[op];
        // inf * 0 + qNaN: the host differs from RISC-V (see differential_test).
        if (op == FMA && std::isnan(z) && ((std::isinf(x) && y == 0) || (x == 0 && std::isinf(y))))
            continue;
        failures += !same(name, Rm::RMM, {a, b, c}, host_bits(want), hf, got, lf);
    }
    EXPECT_GT(ties, 150) << "the generator should produce exact ties";
}

TYPED_TEST(Rmm, SqrtHasNoTies) {
    using T = TypeParam;
    using O = Ops<T>;
    TieGen<T> g(12);
    int failures = 0;
    for (int i = 0; i < scaled(10000) && failures < 5; ++i) {
        const auto a = g.any() & ~Gen<T>::sign;
        uint8_t hf = 0, lf = 0;
        volatile T x = val<T>(a);
        const T s = on_host(Rm::RNE, hf, [&] { volatile T r = std::sqrt(T(x)); return T(r); });
        const auto got = O::sqrt(a, Rm::RMM, lf);
        failures += !same("sqrt", Rm::RMM, {a}, host_bits(s), hf, got, lf);
    }
}

TYPED_TEST(Rmm, FromInt) {
    using T = TypeParam;
    using O = Ops<T>;
    using Bits = typename Traits<T>::Bits;
    TieGen<T> g(13);
    int failures = 0, ties = 0;
    for (int i = 0; i < scaled(20000) && failures < 5; ++i) {
        // A short run of bits at a random position: often one past the precision.
        const int width = g.range(1, std::numeric_limits<T>::digits + 2);
        const uint64_t run = (g.u64() | 1 | (uint64_t(1) << (width - 1))) & (~uint64_t(0) >> (64 - width));
        const int64_t v = int64_t(run << g.range(0, 63 - width)) * (g.u64() & 1 ? -1 : 1);
        uint8_t hf = 0, lf = 0;
        volatile int64_t vv = v;
        const T s = on_host(Rm::RNE, hf, [&] { volatile T r = T(vv); return T(r); });
        // int64 is exact in long double (64-bit significand on x86).
        const T want = rmm_from(s, static_cast<long double>(v), true);
        ties += std::bit_cast<Bits>(want) != std::bit_cast<Bits>(s);
        const auto got = O::from_i64(v, Rm::RMM, lf);
        failures += !same("from_i64", Rm::RMM, {uint64_t(v)}, host_bits(want), hf, got, lf);
    }
    EXPECT_GT(ties, 50);
}

TEST(RmmConvert, F64ToF32) {
    TieGen<double> g(14);
    int failures = 0, ties = 0;
    for (int i = 0; i < scaled(20000) && failures < 5; ++i) {
        const int e = std::array{1023 - 126, 1023 - 150, 1023 + 127, 1023}[g.u64() % 4];
        const uint64_t a = g.at(e + g.range(-26, 3));
        uint8_t hf = 0, lf = 0;
        volatile double x = val<double>(a);
        const float s = on_host(Rm::RNE, hf, [&] { volatile float r = float(x); return float(r); });
        const float want = rmm_from(s, double(x), true);
        ties += std::bit_cast<uint32_t>(want) != std::bit_cast<uint32_t>(s);
        const uint32_t got = f64::to_f32(a, Rm::RMM, lf);
        failures += !same("to_f32", Rm::RMM, {a}, host_bits(want), hf, got, lf);
    }
    EXPECT_GT(ties, 50);
}

} // namespace
