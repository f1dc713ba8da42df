// A set of page numbers that may answer "maybe" for pages never added (a
// hashed bitmap), put in front of exact lookups that nearly always miss.
#pragma once

#include <array>
#include <cstdint>

namespace rv {

template <unsigned Bits> class PageFilter {
public:
    void add(uint64_t page) {
        const unsigned b = bit(page);
        words_[b / 64] |= 1ull << (b % 64);
    }
    bool maybe(uint64_t page) const {
        const unsigned b = bit(page);
        return (words_[b / 64] >> (b % 64)) & 1;
    }
    void clear() { words_.fill(0); }

private:
    static unsigned bit(uint64_t page) { return static_cast<unsigned>((page * 0x9e3779b97f4a7c15ull) >> (64 - Bits)); }
    std::array<uint64_t, (1u << Bits) / 64> words_{};
};

}  // namespace rv
