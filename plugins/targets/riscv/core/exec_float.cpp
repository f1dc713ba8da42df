// F and D: register file wiring (NaN-boxing, fcsr/frm/fflags, FS dirty
// tracking) around the soft-float library in ../fpu.
#include "exec_util.hpp"

#ifdef RV_HAVE_FPU
#include "fpu/softfloat.hpp"

namespace rv {
namespace {
using namespace exec;
namespace fp = rv::fpu;

constexpr uint64_t kBox = 0xffffffff00000000ull;

// Single-precision value of an f register: improperly boxed reads as qNaN.
inline uint32_t rd_s(const Hart &h, unsigned r) {
    uint64_t v = h.s.f[r];
    return (v & kBox) == kBox ? static_cast<uint32_t>(v) : fp::f32::canonical_nan;
}
inline uint64_t rd_d(const Hart &h, unsigned r) { return h.s.f[r]; }
inline void wr_s(Hart &h, unsigned r, uint32_t v) {
    h.s.f[r] = kBox | v;
    h.fs_dirty();
}
inline void wr_d(Hart &h, unsigned r, uint64_t v) {
    h.s.f[r] = v;
    h.fs_dirty();
}
inline void set_flags(Hart &h, uint8_t fl) {
    if (fl) {
        h.s.fflags |= fl;
        h.fs_dirty();
    }
}

// Rounding mode of the instruction (rm field, DYN resolved by frm).
inline fp::Rm rm(Hart &h, const Insn &in) {
    unsigned m = (in.raw >> 12) & 7;
    if (m == 7) m = h.s.frm;
    if (m > 4) h.illegal();
    return static_cast<fp::Rm>(m);
}

// ---- loads/stores ----
template <int X> void flw(Hart &h, const Insn &in) {
    h.fs_check();
    uint32_t v = h.load<uint32_t>(rs1<X>(h, in) + imm<X>(in));
    wr_s(h, in.rd, v);
}
template <int X> void fld(Hart &h, const Insn &in) {
    h.fs_check();
    uint64_t v = h.load<uint64_t>(rs1<X>(h, in) + imm<X>(in));
    wr_d(h, in.rd, v);
}
template <int X> void fsw(Hart &h, const Insn &in) {
    h.fs_check();
    h.store<uint32_t>(rs1<X>(h, in) + imm<X>(in), static_cast<uint32_t>(h.s.f[in.rs2]));
}
template <int X> void fsd(Hart &h, const Insn &in) {
    h.fs_check();
    h.store<uint64_t>(rs1<X>(h, in) + imm<X>(in), h.s.f[in.rs2]);
}

// Format traits so each operation is written once for S and D.
struct S {
    using T = uint32_t;
    static T get(const Hart &h, unsigned r) { return rd_s(h, r); }
    static void put(Hart &h, unsigned r, T v) { wr_s(h, r, v); }
    static constexpr T sign = 0x80000000u;
};
struct D {
    using T = uint64_t;
    static T get(const Hart &h, unsigned r) { return rd_d(h, r); }
    static void put(Hart &h, unsigned r, T v) { wr_d(h, r, v); }
    static constexpr T sign = 1ull << 63;
};
template <class F> struct Lib;
#define FWD(name) static auto name(auto &&...a) { return NS::name(a...); }
template <> struct Lib<S> {
#define NS fp::f32
    FWD(add) FWD(sub) FWD(mul) FWD(div) FWD(sqrt) FWD(fma) FWD(min) FWD(max) FWD(eq) FWD(lt) FWD(le)
    FWD(classify) FWD(to_i32) FWD(to_u32) FWD(to_i64) FWD(to_u64) FWD(from_i32) FWD(from_u32)
    FWD(from_i64) FWD(from_u64)
};
#undef NS
template <> struct Lib<D> {
#define NS fp::f64
    FWD(add) FWD(sub) FWD(mul) FWD(div) FWD(sqrt) FWD(fma) FWD(min) FWD(max) FWD(eq) FWD(lt) FWD(le)
    FWD(classify) FWD(to_i32) FWD(to_u32) FWD(to_i64) FWD(to_u64) FWD(from_i32) FWD(from_u32)
    FWD(from_i64) FWD(from_u64)
#undef NS
#undef FWD
};

template <class F, class Op> inline void arith2(Hart &h, const Insn &in, Op op) {
    h.fs_check();
    fp::Rm m = rm(h, in);
    uint8_t fl = 0;
    auto r = op(F::get(h, in.rs1), F::get(h, in.rs2), m, fl);
    set_flags(h, fl);
    F::put(h, in.rd, r);
}
template <class F, bool NP, bool NA> inline void fused(Hart &h, const Insn &in) {
    h.fs_check();
    fp::Rm m = rm(h, in);
    uint8_t fl = 0;
    auto r = Lib<F>::fma(F::get(h, in.rs1), F::get(h, in.rs2), F::get(h, in.rs3), m, fl, NP, NA);
    set_flags(h, fl);
    F::put(h, in.rd, r);
}

#define FP_OPS(F, sfx)                                                                                  \
    template <int X> void fadd_##sfx(Hart &h, const Insn &in) {                                         \
        arith2<F>(h, in, [](auto a, auto b, fp::Rm m, uint8_t &fl) { return Lib<F>::add(a, b, m, fl); }); \
    }                                                                                                   \
    template <int X> void fsub_##sfx(Hart &h, const Insn &in) {                                         \
        arith2<F>(h, in, [](auto a, auto b, fp::Rm m, uint8_t &fl) { return Lib<F>::sub(a, b, m, fl); }); \
    }                                                                                                   \
    template <int X> void fmul_##sfx(Hart &h, const Insn &in) {                                         \
        arith2<F>(h, in, [](auto a, auto b, fp::Rm m, uint8_t &fl) { return Lib<F>::mul(a, b, m, fl); }); \
    }                                                                                                   \
    template <int X> void fdiv_##sfx(Hart &h, const Insn &in) {                                         \
        arith2<F>(h, in, [](auto a, auto b, fp::Rm m, uint8_t &fl) { return Lib<F>::div(a, b, m, fl); }); \
    }                                                                                                   \
    template <int X> void fsqrt_##sfx(Hart &h, const Insn &in) {                                        \
        arith2<F>(h, in, [](auto a, auto, fp::Rm m, uint8_t &fl) { return Lib<F>::sqrt(a, m, fl); });     \
    }                                                                                                   \
    template <int X> void fmadd_##sfx(Hart &h, const Insn &in) { fused<F, false, false>(h, in); }      \
    template <int X> void fmsub_##sfx(Hart &h, const Insn &in) { fused<F, false, true>(h, in); }       \
    template <int X> void fnmsub_##sfx(Hart &h, const Insn &in) { fused<F, true, false>(h, in); }      \
    template <int X> void fnmadd_##sfx(Hart &h, const Insn &in) { fused<F, true, true>(h, in); }       \
    template <int X> void fsgnj_##sfx(Hart &h, const Insn &in) {                                        \
        h.fs_check();                                                                                   \
        auto a = F::get(h, in.rs1), b = F::get(h, in.rs2);                                              \
        F::put(h, in.rd, (a & ~F::sign) | (b & F::sign));                                               \
    }                                                                                                   \
    template <int X> void fsgnjn_##sfx(Hart &h, const Insn &in) {                                       \
        h.fs_check();                                                                                   \
        auto a = F::get(h, in.rs1), b = F::get(h, in.rs2);                                              \
        F::put(h, in.rd, (a & ~F::sign) | (~b & F::sign));                                              \
    }                                                                                                   \
    template <int X> void fsgnjx_##sfx(Hart &h, const Insn &in) {                                       \
        h.fs_check();                                                                                   \
        auto a = F::get(h, in.rs1), b = F::get(h, in.rs2);                                              \
        F::put(h, in.rd, a ^ (b & F::sign));                                                            \
    }                                                                                                   \
    template <int X> void fmin_##sfx(Hart &h, const Insn &in) {                                         \
        h.fs_check();                                                                                   \
        uint8_t fl = 0;                                                                                 \
        auto r = Lib<F>::min(F::get(h, in.rs1), F::get(h, in.rs2), fl);                                 \
        set_flags(h, fl);                                                                               \
        F::put(h, in.rd, r);                                                                            \
    }                                                                                                   \
    template <int X> void fmax_##sfx(Hart &h, const Insn &in) {                                         \
        h.fs_check();                                                                                   \
        uint8_t fl = 0;                                                                                 \
        auto r = Lib<F>::max(F::get(h, in.rs1), F::get(h, in.rs2), fl);                                 \
        set_flags(h, fl);                                                                               \
        F::put(h, in.rd, r);                                                                            \
    }                                                                                                   \
    template <int X> void fcmp_##sfx(Hart &h, const Insn &in) {                                         \
        h.fs_check();                                                                                   \
        uint8_t fl = 0;                                                                                 \
        auto a = F::get(h, in.rs1), b = F::get(h, in.rs2);                                              \
        unsigned f3 = (in.raw >> 12) & 7;                                                               \
        bool r = f3 == 2 ? Lib<F>::eq(a, b, fl) : f3 == 1 ? Lib<F>::lt(a, b, fl) : Lib<F>::le(a, b, fl); \
        set_flags(h, fl);                                                                               \
        set_rd<X>(h, in, r);                                                                            \
    }                                                                                                   \
    template <int X> void fclass_##sfx(Hart &h, const Insn &in) {                                       \
        h.fs_check();                                                                                   \
        set_rd<X>(h, in, Lib<F>::classify(F::get(h, in.rs1)));                                         \
    }                                                                                                   \
    template <int X> void fcvt_x_##sfx(Hart &h, const Insn &in) {                                       \
        h.fs_check();                                                                                   \
        fp::Rm m = rm(h, in);                                                                           \
        uint8_t fl = 0;                                                                                 \
        auto a = F::get(h, in.rs1);                                                                     \
        ux<X> r;                                                                                        \
        switch (in.rs2) {                                                                               \
        case 0: r = sext32<X>(static_cast<uint32_t>(Lib<F>::to_i32(a, m, fl))); break;                  \
        case 1: r = sext32<X>(Lib<F>::to_u32(a, m, fl)); break;                                         \
        case 2: r = static_cast<ux<X>>(Lib<F>::to_i64(a, m, fl)); break;                                \
        default: r = static_cast<ux<X>>(Lib<F>::to_u64(a, m, fl)); break;                               \
        }                                                                                               \
        set_flags(h, fl);                                                                               \
        set_rd<X>(h, in, r);                                                                            \
    }                                                                                                   \
    template <int X> void fcvt_f_##sfx(Hart &h, const Insn &in) {                                       \
        h.fs_check();                                                                                   \
        fp::Rm m = rm(h, in);                                                                           \
        uint8_t fl = 0;                                                                                 \
        ux<X> a = rs1<X>(h, in);                                                                        \
        typename F::T r;                                                                                \
        switch (in.rs2) {                                                                               \
        case 0: r = Lib<F>::from_i32(static_cast<int32_t>(a), m, fl); break;                            \
        case 1: r = Lib<F>::from_u32(static_cast<uint32_t>(a), m, fl); break;                           \
        case 2: r = Lib<F>::from_i64(static_cast<int64_t>(a), m, fl); break;                            \
        default: r = Lib<F>::from_u64(static_cast<uint64_t>(a), m, fl); break;                          \
        }                                                                                               \
        set_flags(h, fl);                                                                               \
        F::put(h, in.rd, r);                                                                            \
    }

FP_OPS(S, s)
FP_OPS(D, d)

template <int X> void fmv_x_w(Hart &h, const Insn &in) {
    h.fs_check();
    set_rd<X>(h, in, sext32<X>(static_cast<uint32_t>(h.s.f[in.rs1])));
}
template <int X> void fmv_w_x(Hart &h, const Insn &in) {
    h.fs_check();
    wr_s(h, in.rd, static_cast<uint32_t>(rs1<X>(h, in)));
}
template <int X> void fmv_x_d(Hart &h, const Insn &in) {
    h.fs_check();
    set_rd<X>(h, in, static_cast<ux<X>>(h.s.f[in.rs1]));
}
template <int X> void fmv_d_x(Hart &h, const Insn &in) {
    h.fs_check();
    wr_d(h, in.rd, rs1<X>(h, in));
}
template <int X> void fcvt_s_d(Hart &h, const Insn &in) {
    h.fs_check();
    fp::Rm m = rm(h, in);
    uint8_t fl = 0;
    uint32_t r = fp::f64::to_f32(rd_d(h, in.rs1), m, fl);
    set_flags(h, fl);
    wr_s(h, in.rd, r);
}
template <int X> void fcvt_d_s(Hart &h, const Insn &in) {
    h.fs_check();
    rm(h, in);   // the rm field must still be valid
    uint8_t fl = 0;
    uint64_t r = fp::f32::to_f64(rd_s(h, in.rs1), fl);
    set_flags(h, fl);
    wr_d(h, in.rd, r);
}

#define FP_LINES(sfx, fmt, ext)                                                                          \
    RV_OP("fmadd." #sfx, "..... " fmt " ..... ..... ... ..... 1000011", R, "D,S,T,R,m", ext, RV_H(fmadd_##sfx)), \
    RV_OP("fmsub." #sfx, "..... " fmt " ..... ..... ... ..... 1000111", R, "D,S,T,R,m", ext, RV_H(fmsub_##sfx)), \
    RV_OP("fnmsub." #sfx, "..... " fmt " ..... ..... ... ..... 1001011", R, "D,S,T,R,m", ext, RV_H(fnmsub_##sfx)), \
    RV_OP("fnmadd." #sfx, "..... " fmt " ..... ..... ... ..... 1001111", R, "D,S,T,R,m", ext, RV_H(fnmadd_##sfx)), \
    RV_OP("fadd." #sfx, "00000" fmt " ..... ..... ... ..... 1010011", R, "D,S,T,m", ext, RV_H(fadd_##sfx)),  \
    RV_OP("fsub." #sfx, "00001" fmt " ..... ..... ... ..... 1010011", R, "D,S,T,m", ext, RV_H(fsub_##sfx)),  \
    RV_OP("fmul." #sfx, "00010" fmt " ..... ..... ... ..... 1010011", R, "D,S,T,m", ext, RV_H(fmul_##sfx)),  \
    RV_OP("fdiv." #sfx, "00011" fmt " ..... ..... ... ..... 1010011", R, "D,S,T,m", ext, RV_H(fdiv_##sfx)),  \
    RV_OP("fsqrt." #sfx, "01011" fmt " 00000 ..... ... ..... 1010011", R, "D,S,m", ext, RV_H(fsqrt_##sfx)), \
    RV_OP("fsgnj." #sfx, "00100" fmt " ..... ..... 000 ..... 1010011", R, "D,S,T", ext, RV_H(fsgnj_##sfx)),  \
    RV_OP("fsgnjn." #sfx, "00100" fmt " ..... ..... 001 ..... 1010011", R, "D,S,T", ext, RV_H(fsgnjn_##sfx)), \
    RV_OP("fsgnjx." #sfx, "00100" fmt " ..... ..... 010 ..... 1010011", R, "D,S,T", ext, RV_H(fsgnjx_##sfx)), \
    RV_OP("fmin." #sfx, "00101" fmt " ..... ..... 000 ..... 1010011", R, "D,S,T", ext, RV_H(fmin_##sfx)),    \
    RV_OP("fmax." #sfx, "00101" fmt " ..... ..... 001 ..... 1010011", R, "D,S,T", ext, RV_H(fmax_##sfx)),    \
    RV_OP("feq." #sfx, "10100" fmt " ..... ..... 010 ..... 1010011", R, "d,S,T", ext, RV_H(fcmp_##sfx)),     \
    RV_OP("flt." #sfx, "10100" fmt " ..... ..... 001 ..... 1010011", R, "d,S,T", ext, RV_H(fcmp_##sfx)),     \
    RV_OP("fle." #sfx, "10100" fmt " ..... ..... 000 ..... 1010011", R, "d,S,T", ext, RV_H(fcmp_##sfx)),     \
    RV_OP("fclass." #sfx, "11100" fmt " 00000 ..... 001 ..... 1010011", R, "d,S", ext, RV_H(fclass_##sfx)),  \
    RV_OP("fcvt.w." #sfx, "11000" fmt " 00000 ..... ... ..... 1010011", R, "d,S,m", ext, RV_H(fcvt_x_##sfx)), \
    RV_OP("fcvt.wu." #sfx, "11000" fmt " 00001 ..... ... ..... 1010011", R, "d,S,m", ext, RV_H(fcvt_x_##sfx)), \
    RV_OP("fcvt.l." #sfx, "11000" fmt " 00010 ..... ... ..... 1010011", R, "d,S,m", ext, RV_H64(fcvt_x_##sfx)), \
    RV_OP("fcvt.lu." #sfx, "11000" fmt " 00011 ..... ... ..... 1010011", R, "d,S,m", ext, RV_H64(fcvt_x_##sfx)), \
    RV_OP("fcvt." #sfx ".w", "11010" fmt " 00000 ..... ... ..... 1010011", R, "D,s,m", ext, RV_H(fcvt_f_##sfx)), \
    RV_OP("fcvt." #sfx ".wu", "11010" fmt " 00001 ..... ... ..... 1010011", R, "D,s,m", ext, RV_H(fcvt_f_##sfx)), \
    RV_OP("fcvt." #sfx ".l", "11010" fmt " 00010 ..... ... ..... 1010011", R, "D,s,m", ext, RV_H64(fcvt_f_##sfx)), \
    RV_OP("fcvt." #sfx ".lu", "11010" fmt " 00011 ..... ... ..... 1010011", R, "D,s,m", ext, RV_H64(fcvt_f_##sfx))

const OpDesc kOps[] = {
    RV_OP("flw", "............ ..... 010 ..... 0000111", I, "D,o", F, RV_H(flw)),
    RV_OP("fld", "............ ..... 011 ..... 0000111", I, "D,o", D, RV_H(fld)),
    RV_OP("fsw", "....... ..... ..... 010 ..... 0100111", S, "T,o", F, RV_H(fsw)),
    RV_OP("fsd", "....... ..... ..... 011 ..... 0100111", S, "T,o", D, RV_H(fsd)),
    FP_LINES(s, "00", F),
    FP_LINES(d, "01", D),
    RV_OP("fmv.x.w", "1110000 00000 ..... 000 ..... 1010011", R, "d,S", F, RV_H(fmv_x_w)),
    RV_OP("fmv.w.x", "1111000 00000 ..... 000 ..... 1010011", R, "D,s", F, RV_H(fmv_w_x)),
    RV_OP("fmv.x.d", "1110001 00000 ..... 000 ..... 1010011", R, "d,S", D, RV_H64(fmv_x_d)),
    RV_OP("fmv.d.x", "1111001 00000 ..... 000 ..... 1010011", R, "D,s", D, RV_H64(fmv_d_x)),
    RV_OP("fcvt.s.d", "0100000 00001 ..... ... ..... 1010011", R, "D,S,m", D, RV_H(fcvt_s_d)),
    RV_OP("fcvt.d.s", "0100001 00000 ..... ... ..... 1010011", R, "D,S,m", D, RV_H(fcvt_d_s)),
};

}  // namespace

std::span<const OpDesc> ops_float() { return kOps; }

}  // namespace rv

#else

namespace rv {
std::span<const OpDesc> ops_float() { return {}; }
}  // namespace rv

#endif
