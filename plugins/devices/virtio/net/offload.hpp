// virtio-net offloads done in host code, for peers that take plain Ethernet
// frames (every netdev today): checksums (RFC 1071, with the IPv4/IPv6
// pseudo-headers), TCP segmentation of the driver's TSO frames
// (HOST_TSO4/6, HOST_ECN), and the reverse on receive: consecutive TCP
// segments of one flow joined into one GSO frame for the guest (GUEST_TSO4/6),
// so its stack handles one packet where the wire had dozens.
//
// Header-only: the virtio-mmio and virtio-pci plugins both compile the net
// device, and the tests use these functions directly.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

namespace virtio::offload {

// struct virtio_net_hdr (virtio 1.2, 5.1.6), in host order.
struct VnetHdr {
    static constexpr uint8_t kNeedsCsum = 1, kDataValid = 2;
    static constexpr uint8_t kGsoNone = 0, kGsoTcpv4 = 1, kGsoUdp = 3, kGsoTcpv6 = 4, kGsoEcn = 0x80;
    uint8_t flags = 0, gso_type = kGsoNone;
    uint16_t hdr_len = 0, gso_size = 0, csum_start = 0, csum_offset = 0;
    uint16_t num_buffers = 0;  // only in the 12-byte form

    static VnetHdr parse(std::span<const uint8_t> b) {
        auto u16 = [&](size_t o) { return static_cast<uint16_t>(o + 1 < b.size() ? b[o] | b[o + 1] << 8 : 0); };
        VnetHdr h;
        h.flags = b.size() > 0 ? b[0] : 0;
        h.gso_type = b.size() > 1 ? b[1] : 0;
        h.hdr_len = u16(2);
        h.gso_size = u16(4);
        h.csum_start = u16(6);
        h.csum_offset = u16(8);
        h.num_buffers = u16(10);
        return h;
    }
    // The first `len` (10 or 12) bytes of the little-endian header.
    std::array<uint8_t, 12> bytes() const {
        std::array<uint8_t, 12> b{flags, gso_type};
        const uint16_t v[] = {hdr_len, gso_size, csum_start, csum_offset, num_buffers};
        for (size_t i = 0; i < 5; i++) {
            b[2 + 2 * i] = static_cast<uint8_t>(v[i]);
            b[3 + 2 * i] = static_cast<uint8_t>(v[i] >> 8);
        }
        return b;
    }
};

// ---- checksums ----------------------------------------------------------------

inline uint16_t load16(std::span<const uint8_t> f, size_t o) { return static_cast<uint16_t>(f[o] << 8 | f[o + 1]); }
inline uint32_t load32(std::span<const uint8_t> f, size_t o) {
    return static_cast<uint32_t>(f[o]) << 24 | static_cast<uint32_t>(f[o + 1]) << 16 | f[o + 2] << 8 | f[o + 3];
}
inline void store16(std::span<uint8_t> f, size_t o, uint16_t v) {
    f[o] = static_cast<uint8_t>(v >> 8);
    f[o + 1] = static_cast<uint8_t>(v);
}
inline void store32(std::span<uint8_t> f, size_t o, uint32_t v) {
    store16(f, o, static_cast<uint16_t>(v >> 16));
    store16(f, o + 2, static_cast<uint16_t>(v));
}

inline uint16_t fold(uint64_t s) {
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return static_cast<uint16_t>(s);
}

// One's complement sum of big-endian 16-bit words (odd tail padded), added to
// acc unfolded. Eight bytes at a time in host order: the one's complement sum
// does not depend on byte order if the folded result is swapped (RFC 1071).
inline uint64_t sum16(std::span<const uint8_t> b, uint64_t acc = 0) {
    const uint8_t *p = b.data();
    const size_t n = b.size();
    uint64_t s = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        std::memcpy(&w, p + i, 8);
        s += (w & 0xffffffff) + (w >> 32);  // 2^32 iterations would be needed to overflow
    }
    for (; i + 2 <= n; i += 2) {
        uint16_t w;
        std::memcpy(&w, p + i, 2);
        s += w;
    }
    if constexpr (std::endian::native == std::endian::little) {
        if (i < n) s += p[i];  // the high byte of a big-endian word is the low one here
        const uint16_t f = fold(s);
        return acc + static_cast<uint16_t>(f >> 8 | f << 8);
    } else {
        if (i < n) s += static_cast<uint64_t>(p[i]) << 8;
        return acc + fold(s);
    }
}

// Completes a partial checksum (NEEDS_CSUM): the sum of frame[start..] stored
// at start+offset, where the driver left the pseudo-header sum. A result of 0
// goes out as 0xffff (the same value in one's complement; 0 would mean "no
// checksum" to UDP). False if the offsets are outside the frame.
inline bool complete_checksum(std::span<uint8_t> frame, size_t start, size_t offset) {
    if (start >= frame.size() || offset + 2 > frame.size() - start) return false;
    uint16_t c = static_cast<uint16_t>(~fold(sum16(frame.subspan(start))));
    if (c == 0) c = 0xffff;
    store16(frame, start + offset, c);
    return true;
}

// ---- frame layout -------------------------------------------------------------

inline constexpr uint8_t kProtoTcp = 6, kProtoUdp = 17;
inline constexpr uint8_t kTcpFin = 0x01, kTcpSyn = 0x02, kTcpRst = 0x04, kTcpPsh = 0x08, kTcpAck = 0x10,
                         kTcpUrg = 0x20, kTcpEce = 0x40, kTcpCwr = 0x80;

// Where the headers of an Ethernet frame carrying IPv4 or IPv6 are.
struct Layout {
    size_t l3 = 0, l4 = 0;  // offsets of the IP and transport headers
    bool v6 = false;
    uint8_t proto = 0;      // transport protocol
    size_t end = 0;         // end of the IP packet (frames may carry padding)
};

// Parses Ethernet (one optional 802.1Q tag), IPv4 without fragments, or IPv6
// whose next header is the transport one. l4_hint (a driver's csum_start) is
// taken as the transport offset when IPv6 extension headers come between.
inline std::optional<Layout> parse(std::span<const uint8_t> f, size_t l4_hint = 0) {
    if (f.size() < 14) return std::nullopt;
    Layout L;
    L.l3 = 14;
    uint16_t type = load16(f, 12);
    if (type == 0x8100) {
        if (f.size() < 18) return std::nullopt;
        type = load16(f, 16);
        L.l3 = 18;
    }
    if (type == 0x0800) {
        if (f.size() < L.l3 + 20 || (f[L.l3] >> 4) != 4) return std::nullopt;
        const size_t ihl = (f[L.l3] & 15u) * 4u;
        const size_t total = load16(f, L.l3 + 2);
        if (ihl < 20 || total < ihl || L.l3 + total > f.size()) return std::nullopt;
        if (load16(f, L.l3 + 6) & 0x3fff) return std::nullopt;  // a fragment (MF or an offset)
        L.l4 = L.l3 + ihl;
        L.proto = f[L.l3 + 9];
        L.end = L.l3 + total;
    } else if (type == 0x86dd) {
        if (f.size() < L.l3 + 40 || (f[L.l3] >> 4) != 6) return std::nullopt;
        L.v6 = true;
        L.end = L.l3 + 40 + load16(f, L.l3 + 4);
        if (L.end > f.size()) return std::nullopt;
        L.proto = f[L.l3 + 6];
        L.l4 = L.l3 + 40;
        if (L.proto != kProtoTcp && L.proto != kProtoUdp) {
            if (l4_hint <= L.l4 || l4_hint >= L.end) return std::nullopt;
            L.l4 = l4_hint;  // after extension headers the driver walked
            L.proto = kProtoTcp;
        }
    } else {
        return std::nullopt;
    }
    if (L.l4 >= L.end) return std::nullopt;
    if (L.proto == kProtoTcp) {
        if (L.end - L.l4 < 20) return std::nullopt;
        const size_t thl = (f[L.l4 + 12] >> 4) * 4u;
        if (thl < 20 || L.l4 + thl > L.end) return std::nullopt;
    } else if (L.proto == kProtoUdp) {
        if (L.end - L.l4 < 8) return std::nullopt;
    }
    return L;
}

inline size_t tcp_header_len(std::span<const uint8_t> f, const Layout &L) { return (f[L.l4 + 12] >> 4) * 4u; }

// Sum of the pseudo-header for a transport segment of l4_len bytes.
inline uint64_t pseudo_sum(std::span<const uint8_t> f, const Layout &L, size_t l4_len) {
    uint64_t s = L.proto;
    if (L.v6) {
        s = sum16(f.subspan(L.l3 + 8, 32), s);
        s += (l4_len >> 16) + (l4_len & 0xffff);
    } else {
        s = sum16(f.subspan(L.l3 + 12, 8), s);
        s += l4_len;
    }
    return s;
}

inline size_t csum_field(const Layout &L) { return L.l4 + (L.proto == kProtoTcp ? 16 : 6); }

// Is the TCP or UDP checksum of this frame right? (An IPv4 UDP checksum of 0,
// "none", counts as right.) False for anything else.
inline bool l4_checksum_ok(std::span<const uint8_t> f, const Layout &L) {
    if (L.proto != kProtoTcp && L.proto != kProtoUdp) return false;
    if (L.proto == kProtoUdp && !L.v6 && load16(f, L.l4 + 6) == 0) return true;
    return fold(sum16(f.subspan(L.l4, L.end - L.l4), pseudo_sum(f, L, L.end - L.l4))) == 0xffff;
}

// Writes the TCP/UDP checksum of the packet (pseudo-header included).
inline void set_l4_checksum(std::span<uint8_t> f, const Layout &L) {
    store16(f, csum_field(L), 0);
    uint16_t c = static_cast<uint16_t>(~fold(sum16(f.subspan(L.l4, L.end - L.l4), pseudo_sum(f, L, L.end - L.l4))));
    if (c == 0 && L.proto == kProtoUdp) c = 0xffff;
    store16(f, csum_field(L), c);
}

// Sets the IP length fields for a packet ending at `end`, and the IPv4 header
// checksum.
inline void set_ip_length(std::span<uint8_t> f, Layout &L, size_t end) {
    L.end = end;
    if (L.v6) {
        store16(f, L.l3 + 4, static_cast<uint16_t>(end - L.l3 - 40));
        return;
    }
    const size_t ihl = (f[L.l3] & 15u) * 4u;
    store16(f, L.l3 + 2, static_cast<uint16_t>(end - L.l3));
    store16(f, L.l3 + 10, 0);
    store16(f, L.l3 + 10, static_cast<uint16_t>(~fold(sum16(f.subspan(L.l3, ihl)))));
}

// ---- transmit: TSO --------------------------------------------------------------

// Splits a driver's GSO frame (hdr.gso_type TCPV4/TCPV6, optionally ECN) into
// frames of at most gso_size payload bytes, each with its own lengths, IPv4
// id, sequence number, flags (FIN/PSH on the last, CWR on the first) and
// checksums; out(span) gets each. Returns false, sending nothing, for a frame
// that does not match its header.
template <class Out>
bool segment(const VnetHdr &hdr, std::span<const uint8_t> frame, Out &&out) {
    const uint8_t kind = hdr.gso_type & static_cast<uint8_t>(~VnetHdr::kGsoEcn);
    if (kind != VnetHdr::kGsoTcpv4 && kind != VnetHdr::kGsoTcpv6) return false;
    if (hdr.gso_size == 0) return false;
    auto L = parse(frame, (hdr.flags & VnetHdr::kNeedsCsum) ? hdr.csum_start : 0);
    if (!L || L->proto != kProtoTcp || L->v6 != (kind == VnetHdr::kGsoTcpv6)) return false;
    if (L->end != frame.size()) return false;  // no padding on a GSO frame
    const size_t hdrs = L->l4 + tcp_header_len(frame, *L);
    const size_t payload = L->end - hdrs, mss = hdr.gso_size;
    const uint32_t seq0 = load32(frame, L->l4 + 4);
    const uint16_t id0 = L->v6 ? 0 : load16(frame, L->l3 + 4);
    const uint8_t flags0 = frame[L->l4 + 13];
    std::vector<uint8_t> seg;
    size_t i = 0, off = 0;
    do {
        const size_t n = std::min(mss, payload - off);
        const bool first = off == 0, last = off + n == payload;
        seg.assign(frame.begin(), frame.begin() + static_cast<ptrdiff_t>(hdrs));
        seg.insert(seg.end(), frame.begin() + static_cast<ptrdiff_t>(hdrs + off),
                   frame.begin() + static_cast<ptrdiff_t>(hdrs + off + n));
        Layout S = *L;
        if (!S.v6) store16(seg, S.l3 + 4, static_cast<uint16_t>(id0 + i));
        set_ip_length(seg, S, seg.size());
        store32(seg, S.l4 + 4, static_cast<uint32_t>(seq0 + off));
        uint8_t fl = flags0;
        if (!last) fl &= static_cast<uint8_t>(~(kTcpFin | kTcpPsh));
        if (!first) fl &= static_cast<uint8_t>(~kTcpCwr);
        seg[S.l4 + 13] = fl;
        set_l4_checksum(seg, S);
        out(std::span<const uint8_t>(seg));
        off += n;
        i++;
    } while (off < payload);
    return true;
}

// ---- receive: coalescing -------------------------------------------------------

// Joins in-order TCP segments of one flow into one frame the guest takes as
// GSO (TCPV4/TCPV6 with gso_size = the first segment's payload). Only plain
// data segments with valid checksums join: ACK, optionally PSH, no SYN, FIN,
// RST, URG, ECE or CWR; the same addresses, ports, ack number, window, IP
// header and TCP options. PSH or a segment shorter than the first ends the
// group; the IP packet stays within 64 KiB.
//
// A group may instead hold pure ACKs of one flow (no options, no payload):
// each one whose ack number moves forward replaces the one held, since a
// later cumulative ACK says all the earlier ones did. Duplicate ACKs (the
// same number: loss signals, window updates) never join.
class Coalescer {
public:
    bool active() const { return !frame_.empty(); }
    unsigned segments() const { return segs_; }
    // PSH or a short segment came: nothing more can join.
    bool closed() const { return closed_; }

    // Can frame f start a group (or be added to one)? Returns its layout.
    static std::optional<Layout> candidate(std::span<const uint8_t> f, bool v4, bool v6) {
        auto L = parse(f);
        if (!L || L->proto != kProtoTcp || (L->v6 ? !v6 : !v4)) return std::nullopt;
        if (!L->v6 && (f[L->l3] & 15u) != 5) return std::nullopt;  // IPv4 options: leave alone
        if (f[L->l4 + 13] & ~(kTcpAck | kTcpPsh) || !(f[L->l4 + 13] & kTcpAck)) return std::nullopt;
        if (L->end - L->l4 == tcp_header_len(f, *L)) return std::nullopt;  // no payload (a pure ACK)
        if (!l4_checksum_ok(f, *L)) return std::nullopt;
        return L;
    }

    // Is f a pure ACK that may join an ACK group?
    static std::optional<Layout> ack_candidate(std::span<const uint8_t> f, bool v4, bool v6) {
        auto L = parse(f);
        if (!L || L->proto != kProtoTcp || (L->v6 ? !v6 : !v4)) return std::nullopt;
        if (!L->v6 && (f[L->l3] & 15u) != 5) return std::nullopt;
        if (f[L->l4 + 13] != kTcpAck || tcp_header_len(f, *L) != 20 || L->end != L->l4 + 20) return std::nullopt;
        if (!l4_checksum_ok(f, *L)) return std::nullopt;
        return L;
    }

    // Replaces the held ACK by f (an ack_candidate() with layout L) if both
    // are of one flow and f acknowledges more; false otherwise.
    bool append_ack(std::span<const uint8_t> f, const Layout &L) {
        if (!active() || !ack_ || L.v6 != L_.v6 || L.l4 != L_.l4 || L.end != L_.end) return false;
        auto same = [&](size_t from, size_t to) {
            return std::equal(f.begin() + static_cast<ptrdiff_t>(from), f.begin() + static_cast<ptrdiff_t>(to),
                              frame_.begin() + static_cast<ptrdiff_t>(from));
        };
        if (!same(0, L.l3)) return false;
        if (L.v6 ? !same(L.l3, L.l4) : (!same(L.l3, L.l3 + 4) || !same(L.l3 + 6, L.l3 + 10) || !same(L.l3 + 12, L.l4)))
            return false;
        if (!same(L.l4, L.l4 + 8)) return false;  // ports and sequence number
        const auto advance = static_cast<int32_t>(load32(f, L.l4 + 8) - load32(frame_, L.l4 + 8));
        if (advance <= 0) return false;
        frame_.assign(f.begin(), f.begin() + static_cast<ptrdiff_t>(L.end));
        segs_++;
        return true;
    }

    // Opens an ACK group with f (an ack_candidate() with layout L).
    void start_ack(std::span<const uint8_t> f, const Layout &L) {
        frame_.assign(f.begin(), f.begin() + static_cast<ptrdiff_t>(L.end));
        L_ = L;
        segs_ = 1;
        ack_ = true;
        closed_ = false;
    }

    // Adds f (a candidate() with layout L) to the open group; false if it
    // does not continue it (then the caller takes the group and starts anew).
    bool append(std::span<const uint8_t> f, const Layout &L) {
        if (!active() || ack_ || closed_ || L.v6 != L_.v6 || L.l4 != L_.l4) return false;
        const size_t hdrs = L.l4 + tcp_header_len(f, L);
        if (hdrs != hdrs_) return false;
        const size_t n = L.end - hdrs;
        if (n > mss_ || (L_.end - L_.l3) + n > 65535) return false;
        // Same link and IP headers except the per-packet fields (IPv4 length,
        // id, checksum; IPv6 length).
        auto same = [&](size_t from, size_t to) {
            return std::equal(f.begin() + static_cast<ptrdiff_t>(from), f.begin() + static_cast<ptrdiff_t>(to),
                              frame_.begin() + static_cast<ptrdiff_t>(from));
        };
        if (!same(0, L.l3)) return false;
        if (L.v6) {
            if (!same(L.l3, L.l3 + 4) || !same(L.l3 + 6, L.l4)) return false;
        } else if (!same(L.l3, L.l3 + 2) || !same(L.l3 + 6, L.l3 + 10) || !same(L.l3 + 12, L.l4)) {
            return false;
        }
        // TCP: ports, then seq must follow; ack, data offset, window, options
        // alike (flags may add PSH).
        if (!same(L.l4, L.l4 + 4) || load32(f, L.l4 + 4) != next_seq_) return false;
        if (!same(L.l4 + 8, L.l4 + 13) || !same(L.l4 + 14, L.l4 + 16) || !same(L.l4 + 20, hdrs)) return false;
        frame_.insert(frame_.end(), f.begin() + static_cast<ptrdiff_t>(hdrs),
                      f.begin() + static_cast<ptrdiff_t>(L.end));
        frame_[L_.l4 + 13] |= f[L.l4 + 13];
        L_.end = frame_.size();
        add(n, f[L.l4 + 13]);
        return true;
    }

    // Opens a group with f (a candidate() with layout L).
    void start(std::span<const uint8_t> f, const Layout &L) {
        frame_.assign(f.begin(), f.begin() + static_cast<ptrdiff_t>(L.end));  // without padding
        L_ = L;
        hdrs_ = L.l4 + tcp_header_len(f, L);
        mss_ = L.end - hdrs_;
        segs_ = 0;
        ack_ = false;
        closed_ = false;
        add(mss_, f[L.l4 + 13]);
    }

    // Closes the group: the frame (lengths and checksums right) and its
    // header (DATA_VALID; GSO when more than one segment joined).
    std::vector<uint8_t> take(VnetHdr &hdr) {
        hdr = VnetHdr{};
        hdr.flags = VnetHdr::kDataValid;
        if (segs_ > 1 && !ack_) {
            set_ip_length(frame_, L_, frame_.size());
            set_l4_checksum(frame_, L_);
            hdr.gso_type = L_.v6 ? VnetHdr::kGsoTcpv6 : VnetHdr::kGsoTcpv4;
            hdr.gso_size = static_cast<uint16_t>(mss_);
            hdr.hdr_len = static_cast<uint16_t>(hdrs_);
        }
        segs_ = 0;
        return std::move(frame_);
    }
    void clear() {
        frame_.clear();
        segs_ = 0;
    }

private:
    void add(size_t n, uint8_t flags) {
        segs_++;
        next_seq_ = static_cast<uint32_t>(load32(frame_, L_.l4 + 4) + (frame_.size() - hdrs_));
        if (n < mss_ || (flags & kTcpPsh)) closed_ = true;
    }

    std::vector<uint8_t> frame_;
    Layout L_;
    size_t hdrs_ = 0, mss_ = 0;
    uint32_t next_seq_ = 0;
    unsigned segs_ = 0;
    bool closed_ = false, ack_ = false;
};

}  // namespace virtio::offload
