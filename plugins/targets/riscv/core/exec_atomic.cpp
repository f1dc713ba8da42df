// A: LR/SC and AMOs, performed with host atomics on guest RAM so that harts
// running on different host threads see each other's updates.
#include "exec_util.hpp"

#include <algorithm>

namespace rv {
namespace {
using namespace exec;

template <int X, class T> inline ux<X> widen(T v) {
    return static_cast<ux<X>>(static_cast<sx<X>>(static_cast<std::make_signed_t<T>>(v)));
}

template <int X, class T, class F> inline void amo(Hart &h, const Insn &in, F f) {
    ux<X> addr = rs1<X>(h, in);
    T src = static_cast<T>(rs2<X>(h, in));
    T *p = reinterpret_cast<T *>(h.amo_ptr(addr, sizeof(T), false));
    T old = __atomic_load_n(p, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(p, &old, f(old, src), false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
    }
    set_rd<X>(h, in, widen<X>(old));
}

template <int X, class T> void lr(Hart &h, const Insn &in) {
    ux<X> addr = rs1<X>(h, in);
    T *p = reinterpret_cast<T *>(h.amo_ptr(addr, sizeof(T), true));
    T v = __atomic_load_n(p, __ATOMIC_SEQ_CST);
    h.s.lr_valid = 1;
    h.s.lr_addr = addr;
    h.s.lr_val = v;
    set_rd<X>(h, in, widen<X>(v));
}

template <int X, class T> void sc(Hart &h, const Insn &in) {
    ux<X> addr = rs1<X>(h, in);
    T src = static_cast<T>(rs2<X>(h, in));
    bool ok = false;
    if (h.s.lr_valid && h.s.lr_addr == addr) {
        T *p = reinterpret_cast<T *>(h.amo_ptr(addr, sizeof(T), false));
        T expect = static_cast<T>(h.s.lr_val);
        ok = __atomic_compare_exchange_n(p, &expect, src, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    }
    h.s.lr_valid = 0;
    set_rd<X>(h, in, ok ? 0 : 1);
}

template <class T> using S = std::make_signed_t<T>;

#define AMO(name, expr)                                                                     \
    template <int X, class T> void name(Hart &h, const Insn &in) {                          \
        amo<X, T>(h, in, [](T a, T b) -> T { return static_cast<T>(expr); });                \
    }
AMO(amoswap, ((void)a, b))
AMO(amoadd, a + b)
AMO(amoxor, a ^ b)
AMO(amoand, a & b)
AMO(amoor, a | b)
AMO(amomin, std::min<S<T>>(S<T>(a), S<T>(b)))
AMO(amomax, std::max<S<T>>(S<T>(a), S<T>(b)))
AMO(amominu, std::min(a, b))
AMO(amomaxu, std::max(a, b))

template <int X> void lr_w(Hart &h, const Insn &in) { lr<X, uint32_t>(h, in); }
template <int X> void lr_d(Hart &h, const Insn &in) { lr<X, uint64_t>(h, in); }
template <int X> void sc_w(Hart &h, const Insn &in) { sc<X, uint32_t>(h, in); }
template <int X> void sc_d(Hart &h, const Insn &in) { sc<X, uint64_t>(h, in); }
#define AMO_WD(name)                                                                  \
    template <int X> void name##_w(Hart &h, const Insn &in) { name<X, uint32_t>(h, in); } \
    template <int X> void name##_d(Hart &h, const Insn &in) { name<X, uint64_t>(h, in); }
AMO_WD(amoswap)
AMO_WD(amoadd)
AMO_WD(amoxor)
AMO_WD(amoand)
AMO_WD(amoor)
AMO_WD(amomin)
AMO_WD(amomax)
AMO_WD(amominu)
AMO_WD(amomaxu)

#define AMO_LINES(name, f5)                                                                        \
    RV_OP(#name ".w", f5 " .. ..... ..... 010 ..... 0101111", R, "d,t,a", A, RV_H(name##_w)),      \
    RV_OP(#name ".d", f5 " .. ..... ..... 011 ..... 0101111", R, "d,t,a", A, RV_H64(name##_d))

const OpDesc kOps[] = {
    RV_OP("lr.w", "00010 .. 00000 ..... 010 ..... 0101111", R, "d,a", A, RV_H(lr_w)),
    RV_OP("lr.d", "00010 .. 00000 ..... 011 ..... 0101111", R, "d,a", A, RV_H64(lr_d)),
    RV_OP("sc.w", "00011 .. ..... ..... 010 ..... 0101111", R, "d,t,a", A, RV_H(sc_w)),
    RV_OP("sc.d", "00011 .. ..... ..... 011 ..... 0101111", R, "d,t,a", A, RV_H64(sc_d)),
    AMO_LINES(amoswap, "00001"),
    AMO_LINES(amoadd, "00000"),
    AMO_LINES(amoxor, "00100"),
    AMO_LINES(amoand, "01100"),
    AMO_LINES(amoor, "01000"),
    AMO_LINES(amomin, "10000"),
    AMO_LINES(amomax, "10100"),
    AMO_LINES(amominu, "11000"),
    AMO_LINES(amomaxu, "11100"),
};

}  // namespace

std::span<const OpDesc> ops_atomic() { return kOps; }

}  // namespace rv
