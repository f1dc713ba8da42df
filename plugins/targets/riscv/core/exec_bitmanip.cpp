// Zba, Zbb, Zbc, Zbs, Zicond and the cache-block operations (Zicbom, Zicboz).
#include "exec_util.hpp"

#include <algorithm>
#include <bit>

namespace rv {
namespace {
using namespace exec;

#define ALU_R(name, expr)                                                 \
    template <int X> void name(Hart &h, const Insn &in) {                 \
        ux<X> a = rs1<X>(h, in), b = rs2<X>(h, in);                       \
        (void)b;                                                          \
        set_rd<X>(h, in, static_cast<ux<X>>(expr));                       \
    }
#define ALU_I(name, expr)                                                 \
    template <int X> void name(Hart &h, const Insn &in) {                 \
        ux<X> a = rs1<X>(h, in);                                          \
        unsigned sh = static_cast<unsigned>(in.imm) & (X - 1);            \
        (void)sh;                                                         \
        set_rd<X>(h, in, static_cast<ux<X>>(expr));                       \
    }

template <int X> inline ux<X> bitidx(ux<X> b) { return ux<X>(1) << (b & (X - 1)); }
template <class T> inline T orc_b(T v) {
    T r = 0;
    for (unsigned i = 0; i < sizeof(T); ++i)
        if ((v >> (8 * i)) & 0xff) r |= T(0xff) << (8 * i);
    return r;
}
inline uint32_t bswap(uint32_t v) { return __builtin_bswap32(v); }
inline uint64_t bswap(uint64_t v) { return __builtin_bswap64(v); }
template <class T> inline T clmul_lo(T a, T b) {
    T r = 0;
    for (unsigned i = 0; i < sizeof(T) * 8; ++i)
        if ((b >> i) & 1) r ^= a << i;
    return r;
}
template <class T> inline T clmul_hi(T a, T b) {
    constexpr unsigned N = sizeof(T) * 8;
    T r = 0;
    for (unsigned i = 1; i < N; ++i)
        if ((b >> i) & 1) r ^= a >> (N - i);
    return r;
}
template <class T> inline T clmul_r(T a, T b) {
    constexpr unsigned N = sizeof(T) * 8;
    T r = 0;
    for (unsigned i = 0; i < N; ++i)
        if ((b >> i) & 1) r ^= a >> (N - i - 1);
    return r;
}

// Zba
ALU_R(sh1add, (a << 1) + b)
ALU_R(sh2add, (a << 2) + b)
ALU_R(sh3add, (a << 3) + b)
ALU_R(add_uw, uint64_t(uint32_t(a)) + b)
ALU_R(sh1add_uw, (uint64_t(uint32_t(a)) << 1) + b)
ALU_R(sh2add_uw, (uint64_t(uint32_t(a)) << 2) + b)
ALU_R(sh3add_uw, (uint64_t(uint32_t(a)) << 3) + b)
ALU_I(slli_uw, uint64_t(uint32_t(a)) << sh)
// Zbb
ALU_R(andn, a & ~b)
ALU_R(orn, a | ~b)
ALU_R(xnor, ~(a ^ b))
ALU_I(clz, std::countl_zero(a))
ALU_I(ctz, std::countr_zero(a))
ALU_I(cpop, std::popcount(a))
ALU_I(clzw, std::countl_zero(uint32_t(a)))
ALU_I(ctzw, std::countr_zero(uint32_t(a)))
ALU_I(cpopw, std::popcount(uint32_t(a)))
ALU_R(max, std::max(sx<X>(a), sx<X>(b)))
ALU_R(maxu, std::max(a, b))
ALU_R(min, std::min(sx<X>(a), sx<X>(b)))
ALU_R(minu, std::min(a, b))
ALU_I(sext_b, sx<X>(int8_t(a)))
ALU_I(sext_h, sx<X>(int16_t(a)))
ALU_I(zext_h, uint16_t(a))
ALU_R(rol, std::rotl(a, int(b & (X - 1))))
ALU_R(ror, std::rotr(a, int(b & (X - 1))))
ALU_I(rori, std::rotr(a, int(sh)))
ALU_R(rolw, sext32<X>(std::rotl(uint32_t(a), int(b & 31))))
ALU_R(rorw, sext32<X>(std::rotr(uint32_t(a), int(b & 31))))
ALU_I(roriw, sext32<X>(std::rotr(uint32_t(a), int(sh & 31))))
ALU_I(orc_b_, orc_b(a))
ALU_I(rev8, bswap(a))
// Zbc
ALU_R(clmul, clmul_lo(a, b))
ALU_R(clmulh, clmul_hi(a, b))
ALU_R(clmulr, clmul_r(a, b))
// Zbs
ALU_R(bclr, a & ~bitidx<X>(b))
ALU_R(bext, (a >> (b & (X - 1))) & 1)
ALU_R(binv, a ^ bitidx<X>(b))
ALU_R(bset, a | bitidx<X>(b))
ALU_I(bclri, a & ~bitidx<X>(sh))
ALU_I(bexti, (a >> sh) & 1)
ALU_I(binvi, a ^ bitidx<X>(sh))
ALU_I(bseti, a | bitidx<X>(sh))
// Zicond
ALU_R(czero_eqz, b == 0 ? 0 : a)
ALU_R(czero_nez, b != 0 ? 0 : a)

// Cache-block operations: enabled per privilege by menvcfg/senvcfg.
inline bool cbo_enabled(const Hart &h, uint64_t field) {
    if (h.s.priv == PRV_M) return true;
    if (!(h.s.menvcfg & field)) return false;
    return h.s.priv == PRV_S || (h.s.senvcfg & field);
}

template <int X> void cbo_zero(Hart &h, const Insn &in) {
    if (!cbo_enabled(h, menvcfg_bits::CBZE)) h.illegal();
    h.zero_block(rs1<X>(h, in));
}

// Clean/flush/inval have no effect on memory contents here; they still fault
// like a store when the block is not accessible.
inline void cbo_probe(Hart &h, uint64_t va) {
    uint8_t b = h.load<uint8_t>(va & ~63ull);
    (void)b;
}
template <int X> void cbo_clean(Hart &h, const Insn &in) {
    if (!cbo_enabled(h, menvcfg_bits::CBCFE)) h.illegal();
    try {
        cbo_probe(h, rs1<X>(h, in));
    } catch (Trap &t) {
        if (t.cause == EXC_LOAD_PAGE_FAULT) t.cause = EXC_STORE_PAGE_FAULT;
        if (t.cause == EXC_LOAD_ACCESS) t.cause = EXC_STORE_ACCESS;
        throw;
    }
}
template <int X> void cbo_inval(Hart &h, const Insn &in) {
    if (h.s.priv != PRV_M) {
        if (!((h.s.menvcfg >> 4) & 3)) h.illegal();
        if (h.s.priv == PRV_U && !((h.s.senvcfg >> 4) & 3)) h.illegal();
    }
    cbo_clean<X>(h, in);
}
template <int X> void cbo_flush(Hart &h, const Insn &in) { cbo_clean<X>(h, in); }

const OpDesc kOps[] = {
    RV_OP("sh1add", "0010000 ..... ..... 010 ..... 0110011", R, "d,s,t", Zba, RV_H(sh1add)),
    RV_OP("sh2add", "0010000 ..... ..... 100 ..... 0110011", R, "d,s,t", Zba, RV_H(sh2add)),
    RV_OP("sh3add", "0010000 ..... ..... 110 ..... 0110011", R, "d,s,t", Zba, RV_H(sh3add)),
    RV_OP("add.uw", "0000100 ..... ..... 000 ..... 0111011", R, "d,s,t", Zba, RV_H64(add_uw)),
    RV_OP("sh1add.uw", "0010000 ..... ..... 010 ..... 0111011", R, "d,s,t", Zba, RV_H64(sh1add_uw)),
    RV_OP("sh2add.uw", "0010000 ..... ..... 100 ..... 0111011", R, "d,s,t", Zba, RV_H64(sh2add_uw)),
    RV_OP("sh3add.uw", "0010000 ..... ..... 110 ..... 0111011", R, "d,s,t", Zba, RV_H64(sh3add_uw)),
    RV_OP("slli.uw", "000010 ...... ..... 001 ..... 0011011", Shift, "d,s,>", Zba, RV_H64(slli_uw)),
    RV_OP("andn", "0100000 ..... ..... 111 ..... 0110011", R, "d,s,t", Zbb, RV_H(andn)),
    RV_OP("orn", "0100000 ..... ..... 110 ..... 0110011", R, "d,s,t", Zbb, RV_H(orn)),
    RV_OP("xnor", "0100000 ..... ..... 100 ..... 0110011", R, "d,s,t", Zbb, RV_H(xnor)),
    RV_OP("clz", "0110000 00000 ..... 001 ..... 0010011", R, "d,s", Zbb, RV_H(clz)),
    RV_OP("ctz", "0110000 00001 ..... 001 ..... 0010011", R, "d,s", Zbb, RV_H(ctz)),
    RV_OP("cpop", "0110000 00010 ..... 001 ..... 0010011", R, "d,s", Zbb, RV_H(cpop)),
    RV_OP("clzw", "0110000 00000 ..... 001 ..... 0011011", R, "d,s", Zbb, RV_H64(clzw)),
    RV_OP("ctzw", "0110000 00001 ..... 001 ..... 0011011", R, "d,s", Zbb, RV_H64(ctzw)),
    RV_OP("cpopw", "0110000 00010 ..... 001 ..... 0011011", R, "d,s", Zbb, RV_H64(cpopw)),
    RV_OP("max", "0000101 ..... ..... 110 ..... 0110011", R, "d,s,t", Zbb, RV_H(max)),
    RV_OP("maxu", "0000101 ..... ..... 111 ..... 0110011", R, "d,s,t", Zbb, RV_H(maxu)),
    RV_OP("min", "0000101 ..... ..... 100 ..... 0110011", R, "d,s,t", Zbb, RV_H(min)),
    RV_OP("minu", "0000101 ..... ..... 101 ..... 0110011", R, "d,s,t", Zbb, RV_H(minu)),
    RV_OP("sext.b", "0110000 00100 ..... 001 ..... 0010011", R, "d,s", Zbb, RV_H(sext_b)),
    RV_OP("sext.h", "0110000 00101 ..... 001 ..... 0010011", R, "d,s", Zbb, RV_H(sext_h)),
    RV_OP("zext.h", "0000100 00000 ..... 100 ..... 0110011", R, "d,s", Zbb, RV_H32(zext_h)),
    RV_OP("zext.h", "0000100 00000 ..... 100 ..... 0111011", R, "d,s", Zbb, RV_H64(zext_h)),
    RV_OP("rol", "0110000 ..... ..... 001 ..... 0110011", R, "d,s,t", Zbb, RV_H(rol)),
    RV_OP("ror", "0110000 ..... ..... 101 ..... 0110011", R, "d,s,t", Zbb, RV_H(ror)),
    RV_OP("rori", "0110000 ..... ..... 101 ..... 0010011", Shift, "d,s,>", Zbb, RV_H32(rori)),
    RV_OP("rori", "011000 ...... ..... 101 ..... 0010011", Shift, "d,s,>", Zbb, RV_H64(rori)),
    RV_OP("rolw", "0110000 ..... ..... 001 ..... 0111011", R, "d,s,t", Zbb, RV_H64(rolw)),
    RV_OP("rorw", "0110000 ..... ..... 101 ..... 0111011", R, "d,s,t", Zbb, RV_H64(rorw)),
    RV_OP("roriw", "0110000 ..... ..... 101 ..... 0011011", Shift, "d,s,>", Zbb, RV_H64(roriw)),
    RV_OP("orc.b", "001010000111 ..... 101 ..... 0010011", R, "d,s", Zbb, RV_H(orc_b_)),
    RV_OP("rev8", "011010011000 ..... 101 ..... 0010011", R, "d,s", Zbb, RV_H32(rev8)),
    RV_OP("rev8", "011010111000 ..... 101 ..... 0010011", R, "d,s", Zbb, RV_H64(rev8)),
    RV_OP("clmul", "0000101 ..... ..... 001 ..... 0110011", R, "d,s,t", Zbc, RV_H(clmul)),
    RV_OP("clmulr", "0000101 ..... ..... 010 ..... 0110011", R, "d,s,t", Zbc, RV_H(clmulr)),
    RV_OP("clmulh", "0000101 ..... ..... 011 ..... 0110011", R, "d,s,t", Zbc, RV_H(clmulh)),
    RV_OP("bclr", "0100100 ..... ..... 001 ..... 0110011", R, "d,s,t", Zbs, RV_H(bclr)),
    RV_OP("bext", "0100100 ..... ..... 101 ..... 0110011", R, "d,s,t", Zbs, RV_H(bext)),
    RV_OP("binv", "0110100 ..... ..... 001 ..... 0110011", R, "d,s,t", Zbs, RV_H(binv)),
    RV_OP("bset", "0010100 ..... ..... 001 ..... 0110011", R, "d,s,t", Zbs, RV_H(bset)),
    RV_OP("bclri", "0100100 ..... ..... 001 ..... 0010011", Shift, "d,s,>", Zbs, RV_H32(bclri)),
    RV_OP("bexti", "0100100 ..... ..... 101 ..... 0010011", Shift, "d,s,>", Zbs, RV_H32(bexti)),
    RV_OP("binvi", "0110100 ..... ..... 001 ..... 0010011", Shift, "d,s,>", Zbs, RV_H32(binvi)),
    RV_OP("bseti", "0010100 ..... ..... 001 ..... 0010011", Shift, "d,s,>", Zbs, RV_H32(bseti)),
    RV_OP("bclri", "010010 ...... ..... 001 ..... 0010011", Shift, "d,s,>", Zbs, RV_H64(bclri)),
    RV_OP("bexti", "010010 ...... ..... 101 ..... 0010011", Shift, "d,s,>", Zbs, RV_H64(bexti)),
    RV_OP("binvi", "011010 ...... ..... 001 ..... 0010011", Shift, "d,s,>", Zbs, RV_H64(binvi)),
    RV_OP("bseti", "001010 ...... ..... 001 ..... 0010011", Shift, "d,s,>", Zbs, RV_H64(bseti)),
    RV_OP("czero.eqz", "0000111 ..... ..... 101 ..... 0110011", R, "d,s,t", Zicond, RV_H(czero_eqz)),
    RV_OP("czero.nez", "0000111 ..... ..... 111 ..... 0110011", R, "d,s,t", Zicond, RV_H(czero_nez)),
    RV_OP("cbo.inval", "000000000000 ..... 010 00000 0001111", None, "a", Zicbom, RV_H(cbo_inval)),
    RV_OP("cbo.clean", "000000000001 ..... 010 00000 0001111", None, "a", Zicbom, RV_H(cbo_clean)),
    RV_OP("cbo.flush", "000000000010 ..... 010 00000 0001111", None, "a", Zicbom, RV_H(cbo_flush)),
    RV_OP("cbo.zero", "000000000100 ..... 010 00000 0001111", None, "a", Zicboz, RV_H(cbo_zero)),
};

}  // namespace

std::span<const OpDesc> ops_bitmanip() { return kOps; }

}  // namespace rv
