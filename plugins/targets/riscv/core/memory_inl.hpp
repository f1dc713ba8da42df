// Load/store fast paths: one TLB probe and a memcpy from host memory. Misses,
// misaligned and MMIO accesses go to the out-of-line slow path in mmu.cpp.
#pragma once

namespace rv {

uint64_t load_slow_n(Hart &h, uint64_t va, unsigned size);
void store_slow_n(Hart &h, uint64_t va, unsigned size, uint64_t v);

inline unsigned Hart::data_priv() const {
    if ((s.mstatus & mstatus_bits::MPRV) && s.priv == PRV_M)
        return (s.mstatus & mstatus_bits::MPP) >> 11;
    return s.priv;
}

template <class T> inline T Hart::load(uint64_t va) {
    va &= xmask();
    const TlbEntry &e = tlb_[data_priv()][(va >> 12) & (kTlbSize - 1)];
    if (e.tag_r == tlb_key(va, sizeof(T))) [[likely]] {
        T v;
        std::memcpy(&v, reinterpret_cast<const uint8_t *>(e.addend + va), sizeof(T));
        return v;
    }
    return static_cast<T>(load_slow_n(*this, va, sizeof(T)));
}

template <class T> inline void Hart::store(uint64_t va, T v) {
    va &= xmask();
    const TlbEntry &e = tlb_[data_priv()][(va >> 12) & (kTlbSize - 1)];
    if (e.tag_w == tlb_key(va, sizeof(T))) [[likely]] {
        std::memcpy(reinterpret_cast<uint8_t *>(e.addend + va), &v, sizeof(T));
        return;
    }
    store_slow_n(*this, va, sizeof(T), static_cast<uint64_t>(v));
}

}  // namespace rv
