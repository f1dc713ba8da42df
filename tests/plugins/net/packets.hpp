// Test frames: Ethernet + IPv4/IPv6 + TCP/UDP with right lengths and checksums
// (computed here independently of offload.hpp, by the RFC 1071 definition).
#pragma once

#include <cstdint>
#include <vector>

namespace pkt {

inline uint16_t csum(const std::vector<uint8_t> &b, size_t from, size_t to, uint32_t acc = 0) {
    for (size_t i = from; i < to; i += 2) acc += static_cast<uint32_t>(b[i] << 8 | (i + 1 < to ? b[i + 1] : 0));
    while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
    return static_cast<uint16_t>(acc);
}
inline void put16(std::vector<uint8_t> &b, size_t o, uint32_t v) {
    b[o] = static_cast<uint8_t>(v >> 8);
    b[o + 1] = static_cast<uint8_t>(v);
}
inline void put32(std::vector<uint8_t> &b, size_t o, uint32_t v) {
    put16(b, o, v >> 16);
    put16(b, o + 2, v & 0xffff);
}
inline uint16_t get16(const std::vector<uint8_t> &b, size_t o) { return static_cast<uint16_t>(b[o] << 8 | b[o + 1]); }
inline uint32_t get32(const std::vector<uint8_t> &b, size_t o) {
    return static_cast<uint32_t>(get16(b, o)) << 16 | get16(b, o + 2);
}

struct Spec {
    bool v6 = false;
    bool udp = false;
    uint16_t sport = 40000, dport = 80;
    uint32_t seq = 1000, ack = 5000;
    uint8_t flags = 0x10;  // ACK
    uint16_t window = 65535, ip_id = 0x100;
    std::vector<uint8_t> options;  // TCP options (multiple of 4 bytes)
    std::vector<uint8_t> payload;
};

inline constexpr size_t kEth = 14;

// Offset of the transport header in a frame built from s.
inline size_t l4_off(const Spec &s) { return kEth + (s.v6 ? 40 : 20); }

// The pseudo-header sum for a transport segment of len bytes.
inline uint32_t pseudo(const std::vector<uint8_t> &f, bool v6, uint8_t proto, size_t len) {
    uint32_t acc = proto + static_cast<uint32_t>(len);
    if (v6) return csum(f, kEth + 8, kEth + 40, acc);
    return csum(f, kEth + 12, kEth + 20, acc);
}

// The transport checksum of a whole frame verifies (sums to 0xffff)?
inline bool l4_ok(const std::vector<uint8_t> &f, bool v6, bool udp = false) {
    const size_t l4 = kEth + (v6 ? 40 : 20);
    return csum(f, l4, f.size(), pseudo(f, v6, udp ? 17 : 6, f.size() - l4)) == 0xffff;
}
inline bool ip_ok(const std::vector<uint8_t> &f) { return csum(f, kEth, kEth + 20) == 0xffff; }

inline std::vector<uint8_t> build(const Spec &s) {
    const size_t l4h = s.udp ? 8 : 20 + s.options.size();
    std::vector<uint8_t> f(l4_off(s) + l4h);
    for (int i = 0; i < 6; i++) f[i] = static_cast<uint8_t>(0x52 + i), f[6 + i] = static_cast<uint8_t>(0x60 + i);
    const size_t l3 = kEth, l4 = l4_off(s);
    const uint8_t proto = s.udp ? 17 : 6;
    f.insert(f.end(), s.payload.begin(), s.payload.end());
    if (s.v6) {
        put16(f, 12, 0x86dd);
        f[l3] = 0x60;
        put16(f, l3 + 4, static_cast<uint32_t>(f.size() - l4));
        f[l3 + 6] = proto;
        f[l3 + 7] = 64;
        for (int i = 0; i < 16; i++) {
            f[l3 + 8 + i] = static_cast<uint8_t>(0xfe + i);
            f[l3 + 24 + i] = static_cast<uint8_t>(i);
        }
    } else {
        put16(f, 12, 0x0800);
        f[l3] = 0x45;
        put16(f, l3 + 2, static_cast<uint32_t>(f.size() - l3));
        put16(f, l3 + 4, s.ip_id);
        put16(f, l3 + 6, 0x4000);  // DF
        f[l3 + 8] = 64;
        f[l3 + 9] = proto;
        put32(f, l3 + 12, 0x0a000202);
        put32(f, l3 + 16, 0x0a00020f);
        put16(f, l3 + 10, static_cast<uint16_t>(~csum(f, l3, l3 + 20)));
    }
    put16(f, l4, s.sport);
    put16(f, l4 + 2, s.dport);
    if (s.udp) {
        put16(f, l4 + 4, static_cast<uint32_t>(f.size() - l4));
    } else {
        put32(f, l4 + 4, s.seq);
        put32(f, l4 + 8, s.ack);
        f[l4 + 12] = static_cast<uint8_t>(l4h / 4 << 4);
        f[l4 + 13] = s.flags;
        put16(f, l4 + 14, s.window);
        std::copy(s.options.begin(), s.options.end(), f.begin() + static_cast<ptrdiff_t>(l4 + 20));
    }
    const size_t field = l4 + (s.udp ? 6 : 16);
    uint16_t c = static_cast<uint16_t>(~csum(f, l4, f.size(), pseudo(f, s.v6, proto, f.size() - l4)));
    if (s.udp && c == 0) c = 0xffff;
    put16(f, field, c);
    return f;
}

inline std::vector<uint8_t> bytes(size_t n, uint8_t seed) {
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; i++) v[i] = static_cast<uint8_t>(seed + i * 7);
    return v;
}

}  // namespace pkt
