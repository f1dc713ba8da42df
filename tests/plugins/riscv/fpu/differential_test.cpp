// Randomised differential test of rv::fpu against the host's SSE unit, which
// is IEEE 754 with tininess detected after rounding like RISC-V. Host NaN
// results are mapped to the canonical NaN before comparing; result bits and
// all five flags must match. RMM has no host rounding mode: see rmm_test.cpp.
#include "host_oracle.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cfenv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>

namespace {

using namespace rv_fpu_test;

constexpr std::array<Rm, 4> kHostModes = {Rm::RNE, Rm::RTZ, Rm::RDN, Rm::RUP};
const int kCases = scaled(12000); // per operation, format and rounding mode

template <class T>
class Differential : public ::testing::Test {};
using Formats = ::testing::Types<float, double>;
TYPED_TEST_SUITE(Differential, Formats);

// Binary arithmetic: operand b drawn relative to a for each op's hard cases.
TYPED_TEST(Differential, AddSubMulDiv) {
    using T = TypeParam;
    using Tr = Traits<T>;
    using O = Ops<T>;
    Gen<T> g(1);
    enum { ADD, SUB, MUL, DIV };
    for (int op : {ADD, SUB, MUL, DIV}) {
        const char *name = std::array{"add", "sub", "mul", "div"}[op];
        int failures = 0;
        for (Rm rm : kHostModes) {
            for (int i = 0; i < kCases && failures < 5; ++i) {
                const auto a = g.any();
                typename Tr::Bits b;
                const int ea = exp_of<T>(a);
                // Exponent the result should land on: the underflow and
                // overflow thresholds, or deep in the subnormal range.
                const int target =
                    std::array{0, 1, Tr::max_exp - 1, Tr::max_exp, -Tr::frac_bits}[g.u64() % 5];
                switch (g.u64() % 5) {
                case 0: b = g.any(); break;
                case 1: b = g.near(ea, 2 + Tr::frac_bits / 8); break; // cancellation / alignment
                case 2: b = g.near(op == DIV ? ea - target + Tr::bias : target - ea + Tr::bias, 2); break;
                default: {
                    // Significands whose exact result is within a few units of a
                    // power of two, where the rounding carries (tininess after
                    // rounding, overflow by rounding, cancellation).
                    auto nb = a;
                    if (op == MUL) nb = std::bit_cast<typename Tr::Bits>(T(1) / val<T>(a));
                    nb = nb + typename Tr::Bits(g.range(-3, 3));
                    const int shift = op == DIV ? Tr::bias - target : op == MUL ? target - Tr::bias : 0;
                    b = g.with_exp(nb, exp_of<T>(nb) + shift);
                    if (op == ADD || op == SUB) b ^= g.u64() & 1 ? 0 : Gen<T>::sign;
                }
                }
                uint8_t hf = 0, lf = 0;
                volatile T x = val<T>(a), y = val<T>(b);
                const T hr = on_host(rm, hf, [&] {
                    volatile T r = op == ADD ? x + y : op == SUB ? x - y : op == MUL ? x * y : x / y;
                    return T(r);
                });
                const auto fn = std::array{O::add, O::sub, O::mul, O::div}[op];
                const auto lr = fn(a, b, rm, lf);
                failures += !same(name, rm, {a, b}, host_bits(hr), hf, lr, lf);
            }
        }
    }
}

TYPED_TEST(Differential, Sqrt) {
    using T = TypeParam;
    using O = Ops<T>;
    Gen<T> g(2);
    int failures = 0;
    for (Rm rm : kHostModes) {
        for (int i = 0; i < kCases && failures < 5; ++i) {
            auto a = g.any();
            if (g.u64() % 4) a &= ~(decltype(a)(1) << (sizeof(a) * 8 - 1)); // mostly positive
            uint8_t hf = 0, lf = 0;
            volatile T x = val<T>(a);
            const T hr = on_host(rm, hf, [&] {
                volatile T r = std::sqrt(T(x));
                return T(r);
            });
            const auto lr = O::sqrt(a, rm, lf);
            failures += !same("sqrt", rm, {a}, host_bits(hr), hf, lr, lf);
        }
    }
}

TYPED_TEST(Differential, Fma) {
    using T = TypeParam;
    using Tr = Traits<T>;
    using O = Ops<T>;
    Gen<T> g(3);
    int failures = 0;
    for (Rm rm : kHostModes) {
        for (int i = 0; i < 3 * kCases && failures < 5; ++i) {
            const auto a = g.any();
            const auto b = g.u64() % 2 ? g.any() : g.near(Tr::bias - exp_of<T>(a) + Tr::bias, 3);
            // c near the product's exponent gives the interesting cancellations.
            const int ep = exp_of<T>(a) + exp_of<T>(b) - Tr::bias;
            const auto c = g.u64() % 3 ? g.near(ep, Tr::frac_bits + 4) : g.any();
            uint8_t hf = 0, lf = 0;
            volatile T x = val<T>(a), y = val<T>(b), z = val<T>(c);
            const T hr = on_host(rm, hf, [&] {
                volatile T r = std::fma(T(x), T(y), T(z));
                return T(r);
            });
            const auto lr = O::fma(a, b, c, rm, lf, false, false);
            // x86 does not raise invalid for inf * 0 + qNaN; RISC-V does
            // (checked in the edge tests).
            const bool x86_differs = std::isnan(T(z)) && ((std::isinf(T(x)) && T(y) == 0) ||
                                                          (T(x) == 0 && std::isinf(T(y))));
            if (!x86_differs) failures += !same("fma", rm, {a, b, c}, host_bits(hr), hf, lr, lf);
            // The negation flags must equal negating the operands.
            uint8_t nf = 0, ef = 0;
            const auto sign = decltype(a)(1) << (sizeof(a) * 8 - 1);
            const auto neg = O::fma(a, b, c, rm, nf, true, true);
            const auto exp = O::fma(a ^ sign, b, c ^ sign, rm, ef, false, false);
            failures += !same("fnmadd", rm, {a, b, c}, exp, ef, neg, nf);
        }
    }
}

TYPED_TEST(Differential, Compare) {
    using T = TypeParam;
    using O = Ops<T>;
    Gen<T> g(4);
    int failures = 0;
    for (int i = 0; i < 4 * kCases && failures < 5; ++i) {
        const auto a = g.any();
        const auto b = g.u64() % 2 ? g.any() : (g.u64() % 2 ? a : a ^ 1);
        volatile T x = val<T>(a), y = val<T>(b);
        for (int op = 0; op < 3; ++op) {
            uint8_t hf = 0, lf = 0;
            const bool hr = on_host(Rm::RNE, hf, [&] {
                volatile bool r = op == 0 ? x == y : op == 1 ? x < y : x <= y;
                return bool(r);
            });
            const bool lr = std::array{O::eq, O::lt, O::le}[op](a, b, lf);
            failures += !same(std::array{"eq", "lt", "le"}[op], Rm::RNE, {a, b}, hr, hf, lr, lf);
        }
    }
}

TYPED_TEST(Differential, ToInt) {
    using T = TypeParam;
    using Tr = Traits<T>;
    using O = Ops<T>;
    Gen<T> g(5);
    int failures = 0;
    for (Rm rm : {Rm::RNE, Rm::RTZ, Rm::RDN, Rm::RUP, Rm::RMM}) {
        for (int i = 0; i < kCases && failures < 5; ++i) {
            // Exponents around 0..64 so every integer width is exercised at its bounds.
            auto a = g.u64() % 4 ? g.near(Tr::bias + g.range(-3, 66), 1) : g.any();
            if (g.u64() % 8 == 0) a = g.make(g.u64() & 1, Tr::bias + g.range(-2, 1), g.frac()); // near +-0.5..2
            uint8_t hf, lf;
            auto check = [&](const char *name, auto fn, auto oracle) {
                lf = 0;
                const auto want = oracle(val<T>(a), rm, hf);
                const auto got = fn(a, rm, lf);
                failures += !same(name, rm, {a}, want, hf, got, lf);
            };
            check("to_i32", O::to_i32, host_to_int<int32_t, T>);
            check("to_u32", O::to_u32, host_to_int<uint32_t, T>);
            check("to_i64", O::to_i64, host_to_int<int64_t, T>);
            check("to_u64", O::to_u64, host_to_int<uint64_t, T>);
        }
    }
}

TYPED_TEST(Differential, FromInt) {
    using T = TypeParam;
    using O = Ops<T>;
    Gen<T> g(6);
    int failures = 0;
    for (Rm rm : kHostModes) {
        for (int i = 0; i < kCases && failures < 5; ++i) {
            // Random widths so values cover every magnitude and rounding position.
            uint64_t v = g.u64() >> g.range(0, 63);
            if (g.u64() % 4 == 0) v |= ~uint64_t(0) << g.range(1, 63);
            uint8_t hf = 0, lf = 0;
            auto check = [&](const char *name, auto fn, auto iv) {
                volatile decltype(iv) x = iv;
                lf = 0;
                const T hr = on_host(rm, hf, [&] {
                    volatile T r = T(x);
                    return T(r);
                });
                const auto lr = fn(iv, rm, lf);
                failures += !same(name, rm, {v}, host_bits(hr), hf, lr, lf);
            };
            check("from_i32", O::from_i32, int32_t(v));
            check("from_u32", O::from_u32, uint32_t(v));
            check("from_i64", O::from_i64, int64_t(v));
            check("from_u64", O::from_u64, v);
        }
    }
}

TEST(DifferentialConvert, F32F64) {
    Gen<double> g(7);
    Gen<float> g32(8);
    int failures = 0;
    for (Rm rm : kHostModes) {
        for (int i = 0; i < kCases && failures < 5; ++i) {
            // Doubles around the float range boundaries and random ones.
            const int e = std::array{1023 - 126, 1023 - 150, 1023 + 127, 1023}[g.u64() % 4];
            const uint64_t a = g.u64() % 3 ? g.near(e, 26) : g.any();
            uint8_t hf = 0, lf = 0;
            volatile double x = val<double>(a);
            const float hr = on_host(rm, hf, [&] {
                volatile float r = float(x);
                return float(r);
            });
            const uint32_t lr = f64::to_f32(a, rm, lf);
            failures += !same("to_f32", rm, {a}, host_bits(hr), hf, lr, lf);

            const uint32_t s = g32.any();
            volatile float y = val<float>(s);
            lf = 0;
            const double hd = on_host(rm, hf, [&] {
                volatile double r = double(y);
                return double(r);
            });
            const uint64_t ld = f32::to_f64(s, lf);
            failures += !same("to_f64", rm, {s}, host_bits(hd), hf, ld, lf);
        }
    }
}

} // namespace
