// Exact IEEE 754-2008 binary32/binary64 arithmetic with RISC-V F/D semantics:
// canonical NaN results, tininess detected after rounding, RISC-V saturating
// float->integer conversions and the 2.2 minimumNumber/maximumNumber fmin/fmax.
//
// Values travel as raw bit patterns (uint32_t for f32, uint64_t for f64).
// Every operation takes the rounding mode where it matters and ORs the
// exception flags it raises into `flags` (the fflags layout). No global state.
//
//   uint8_t fl = 0;
//   uint64_t r = rv::fpu::f64::fma(a, b, c, rv::fpu::Rm::RNE, fl, true, false); // fnmsub
#pragma once

#include <cstdint>

namespace rv::fpu {

// frm encodings 0..4. The caller resolves DYN and rejects 5, 6 and an
// invalid frm (illegal instruction); any other value here truncates.
enum class Rm : uint8_t { RNE = 0, RTZ = 1, RDN = 2, RUP = 3, RMM = 4 };

// fflags bits.
constexpr uint8_t NX = 1, UF = 2, OF = 4, DZ = 8, NV = 16;

// fclass.{s,d} result bits.
enum Class : uint16_t {
    NEG_INF = 1u << 0, NEG_NORMAL = 1u << 1, NEG_SUBNORMAL = 1u << 2, NEG_ZERO = 1u << 3,
    POS_ZERO = 1u << 4, POS_SUBNORMAL = 1u << 5, POS_NORMAL = 1u << 6, POS_INF = 1u << 7,
    SNAN = 1u << 8, QNAN = 1u << 9,
};

// One block per format with identical signatures; T is the bit-pattern type.
#define RV_FPU_DECLARE_FORMAT(T)                                                        \
    T add(T a, T b, Rm rm, uint8_t &flags);                                             \
    T sub(T a, T b, Rm rm, uint8_t &flags);                                             \
    T mul(T a, T b, Rm rm, uint8_t &flags);                                             \
    T div(T a, T b, Rm rm, uint8_t &flags);                                             \
    T sqrt(T a, Rm rm, uint8_t &flags);                                                 \
    /* (+-a*b) + (+-c) with a single rounding (fmadd/fmsub/fnmsub/fnmadd). */           \
    T fma(T a, T b, T c, Rm rm, uint8_t &flags, bool negate_product = false,            \
          bool negate_addend = false);                                                  \
    T min(T a, T b, uint8_t &flags);                                                    \
    T max(T a, T b, uint8_t &flags);                                                    \
    bool eq(T a, T b, uint8_t &flags); /* quiet: NV only for sNaN */                    \
    bool lt(T a, T b, uint8_t &flags); /* signaling: NV for any NaN */                  \
    bool le(T a, T b, uint8_t &flags);                                                  \
    uint16_t classify(T a);                                                             \
    int32_t to_i32(T a, Rm rm, uint8_t &flags);                                         \
    uint32_t to_u32(T a, Rm rm, uint8_t &flags);                                        \
    int64_t to_i64(T a, Rm rm, uint8_t &flags);                                         \
    uint64_t to_u64(T a, Rm rm, uint8_t &flags);                                        \
    T from_i32(int32_t v, Rm rm, uint8_t &flags);                                       \
    T from_u32(uint32_t v, Rm rm, uint8_t &flags);                                      \
    T from_i64(int64_t v, Rm rm, uint8_t &flags);                                       \
    T from_u64(uint64_t v, Rm rm, uint8_t &flags);

namespace f32 {
constexpr uint32_t canonical_nan = 0x7fc00000u;
RV_FPU_DECLARE_FORMAT(uint32_t)
uint64_t to_f64(uint32_t a, uint8_t &flags); // exact; NaN -> canonical
} // namespace f32

namespace f64 {
constexpr uint64_t canonical_nan = 0x7ff8000000000000ull;
RV_FPU_DECLARE_FORMAT(uint64_t)
uint32_t to_f32(uint64_t a, Rm rm, uint8_t &flags);
} // namespace f64

#undef RV_FPU_DECLARE_FORMAT

} // namespace rv::fpu
