// The virtio-net offloads of plugins/devices/virtio/net/offload.hpp: checksum
// completion, TSO segmentation (IPv4/IPv6, options, ECN, the short last
// segment) and receive coalescing, checked against frames built independently
// (packets.hpp).
#include "../../../plugins/devices/virtio/net/offload.hpp"
#include "packets.hpp"

#include <gtest/gtest.h>

namespace {

using namespace virtio::offload;
using pkt::get16;
using pkt::get32;

VnetHdr tso(const pkt::Spec &s, uint16_t mss, bool ecn = false) {
    VnetHdr h;
    h.flags = VnetHdr::kNeedsCsum;
    h.gso_type = static_cast<uint8_t>((s.v6 ? VnetHdr::kGsoTcpv6 : VnetHdr::kGsoTcpv4) | (ecn ? VnetHdr::kGsoEcn : 0));
    h.gso_size = mss;
    h.csum_start = static_cast<uint16_t>(pkt::l4_off(s));
    h.csum_offset = 16;
    h.hdr_len = static_cast<uint16_t>(pkt::l4_off(s) + 20 + s.options.size());
    return h;
}

std::vector<std::vector<uint8_t>> split(const VnetHdr &h, const std::vector<uint8_t> &f) {
    std::vector<std::vector<uint8_t>> out;
    EXPECT_TRUE(segment(h, f, [&](std::span<const uint8_t> s) { out.emplace_back(s.begin(), s.end()); }));
    return out;
}

TEST(Checksum, WordAtATimeSumMatchesTheDefinitionForEveryLengthAndOffset) {
    auto data = pkt::bytes(300, 0x9d);
    for (size_t from = 0; from < 9; from++)
        for (size_t len = 0; from + len <= data.size(); len += 7) {
            std::vector<uint8_t> v(data.begin() + static_cast<ptrdiff_t>(from),
                                   data.begin() + static_cast<ptrdiff_t>(from + len));
            EXPECT_EQ(fold(sum16(v, 0x1234)), pkt::csum(v, 0, v.size(), 0x1234)) << from << "+" << len;
        }
    std::vector<uint8_t> ff(65536, 0xff);
    EXPECT_EQ(fold(sum16(ff)), 0xffff);
}

TEST(Checksum, CompletesAPartialUdpSumAndNeverWritesZero) {
    pkt::Spec s;
    s.udp = true;
    s.payload = pkt::bytes(41, 3);  // odd length
    auto f = pkt::build(s);
    const size_t l4 = pkt::l4_off(s);
    // Make the payload sum so the final checksum would be 0: adjust two bytes.
    f[l4 + 6] = f[l4 + 7] = 0;
    uint16_t c = static_cast<uint16_t>(~pkt::csum(f, l4, f.size(), pkt::pseudo(f, false, 17, f.size() - l4)));
    // Adding c to a payload word makes the whole sum 0xffff, i.e. checksum 0.
    uint32_t w = pkt::get16(f, l4 + 8) + c;
    w = (w & 0xffff) + (w >> 16);
    pkt::put16(f, l4 + 8, w);
    ASSERT_EQ(static_cast<uint16_t>(~pkt::csum(f, l4, f.size(), pkt::pseudo(f, false, 17, f.size() - l4))), 0);
    // The driver's partial sum: the pseudo-header, left in the field.
    pkt::put16(f, l4 + 6, pkt::csum(f, 0, 0, pkt::pseudo(f, false, 17, f.size() - l4)));
    ASSERT_TRUE(complete_checksum(f, l4, 6));
    EXPECT_EQ(get16(f, l4 + 6), 0xffff) << "0 would mean 'no checksum' to UDP";
    EXPECT_TRUE(pkt::l4_ok(f, false, true));
}

TEST(Checksum, VerifiesTcpAndUdpOverIpv4AndIpv6) {
    for (bool v6 : {false, true})
        for (bool udp : {false, true}) {
            pkt::Spec s;
            s.v6 = v6;
            s.udp = udp;
            s.payload = pkt::bytes(333, 1);
            auto f = pkt::build(s);
            auto L = parse(f);
            ASSERT_TRUE(L);
            EXPECT_TRUE(l4_checksum_ok(f, *L)) << v6 << udp;
            f[f.size() - 5] ^= 0x40;
            EXPECT_FALSE(l4_checksum_ok(f, *L)) << v6 << udp;
        }
    // Padding after the IP packet (a short frame) is not summed.
    pkt::Spec s;
    s.payload = {1, 2};
    auto f = pkt::build(s);
    f.resize(60, 0xee);
    auto L = parse(f);
    ASSERT_TRUE(L);
    EXPECT_TRUE(l4_checksum_ok(f, *L));
}

TEST(Checksum, NotIpOrAFragmentIsNotParsed) {
    std::vector<uint8_t> arp(42, 0);
    arp[12] = 0x08, arp[13] = 0x06;
    EXPECT_FALSE(parse(arp));
    pkt::Spec s;
    s.payload = pkt::bytes(100, 1);
    auto f = pkt::build(s);
    pkt::put16(f, pkt::kEth + 6, 0x2000);  // more fragments
    EXPECT_FALSE(parse(f));
}

void check_segments(const pkt::Spec &s, const std::vector<std::vector<uint8_t>> &segs, size_t mss) {
    const size_t l4 = pkt::l4_off(s), hdrs = l4 + 20 + s.options.size();
    size_t off = 0;
    for (size_t i = 0; i < segs.size(); i++) {
        const auto &g = segs[i];
        const bool last = i + 1 == segs.size();
        const size_t n = g.size() - hdrs;
        EXPECT_EQ(n, last ? s.payload.size() - off : mss) << i;
        if (s.v6) {
            EXPECT_EQ(get16(g, pkt::kEth + 4), g.size() - l4) << i;
        } else {
            EXPECT_EQ(get16(g, pkt::kEth + 2), g.size() - pkt::kEth) << i;
            EXPECT_EQ(get16(g, pkt::kEth + 4), s.ip_id + i) << "IPv4 id counts up";
            EXPECT_TRUE(pkt::ip_ok(g)) << i;
        }
        EXPECT_EQ(get32(g, l4 + 4), s.seq + off) << i;
        EXPECT_EQ(get32(g, l4 + 8), s.ack);
        EXPECT_TRUE(pkt::l4_ok(g, s.v6)) << "segment " << i;
        EXPECT_TRUE(std::equal(s.options.begin(), s.options.end(), g.begin() + static_cast<ptrdiff_t>(l4 + 20)));
        EXPECT_TRUE(std::equal(g.begin() + static_cast<ptrdiff_t>(hdrs), g.end(),
                               s.payload.begin() + static_cast<ptrdiff_t>(off)));
        off += n;
    }
    EXPECT_EQ(off, s.payload.size());
}

TEST(Tso, Ipv4WithOptionsAndAShortLastSegment) {
    pkt::Spec s;
    s.flags = 0x10 | 0x08 | 0x01;  // ACK PSH FIN
    s.options = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2};  // NOP NOP timestamps
    s.payload = pkt::bytes(3500, 5);
    auto f = pkt::build(s);
    pkt::put16(f, pkt::l4_off(s) + 16, 0x1234);  // what a driver leaves: not the full sum
    auto segs = split(tso(s, 1448), f);
    ASSERT_EQ(segs.size(), 3u);
    check_segments(s, segs, 1448);
    const size_t fl = pkt::l4_off(s) + 13;
    EXPECT_EQ(segs[0][fl], 0x10) << "PSH and FIN only on the last";
    EXPECT_EQ(segs[1][fl], 0x10);
    EXPECT_EQ(segs[2][fl], 0x19);
}

TEST(Tso, Ipv6) {
    pkt::Spec s;
    s.v6 = true;
    s.payload = pkt::bytes(4000, 9);
    auto segs = split(tso(s, 1000), pkt::build(s));
    ASSERT_EQ(segs.size(), 4u);
    check_segments(s, segs, 1000);
}

TEST(Tso, EcnCwrOnlyOnTheFirstSegment) {
    pkt::Spec s;
    s.flags = 0x10 | 0x80;  // ACK CWR
    s.payload = pkt::bytes(3000, 2);
    auto segs = split(tso(s, 1000, true), pkt::build(s));
    ASSERT_EQ(segs.size(), 3u);
    const size_t fl = pkt::l4_off(s) + 13;
    EXPECT_EQ(segs[0][fl], 0x90);
    EXPECT_EQ(segs[1][fl], 0x10);
    EXPECT_EQ(segs[2][fl], 0x10);
    check_segments(s, segs, 1000);
}

TEST(Tso, PayloadWithinOneSegmentIsOneFrameWithItsChecksum) {
    pkt::Spec s;
    s.payload = pkt::bytes(500, 1);
    auto segs = split(tso(s, 1448), pkt::build(s));
    ASSERT_EQ(segs.size(), 1u);
    EXPECT_EQ(segs[0], pkt::build(s));
}

TEST(Tso, FramesThatDoNotMatchTheirHeaderAreRefused) {
    pkt::Spec s;
    s.payload = pkt::bytes(3000, 1);
    auto f = pkt::build(s);
    auto none = [](std::span<const uint8_t>) { ADD_FAILURE() << "nothing may be sent"; };
    VnetHdr h = tso(s, 0);
    EXPECT_FALSE(segment(h, f, none)) << "gso_size 0";
    h = tso(s, 1000);
    h.gso_type = VnetHdr::kGsoTcpv6;
    EXPECT_FALSE(segment(h, f, none)) << "IPv4 frame, TCPV6 type";
    h = tso(s, 1000);
    h.gso_type = VnetHdr::kGsoUdp;
    EXPECT_FALSE(segment(h, f, none)) << "UFO is not offered";
    f.resize(f.size() - 10);  // shorter than the IP header says
    EXPECT_FALSE(segment(tso(s, 1000), f, none));
}

// ---- receive coalescing ----

std::vector<std::vector<uint8_t>> stream_segments(pkt::Spec s, size_t mss, size_t total) {
    s.payload = pkt::bytes(total, 11);
    auto segs = split(tso(s, static_cast<uint16_t>(mss)), pkt::build(s));
    return segs;
}

TEST(Coalesce, SegmentsJoinBackIntoOneGsoFrame) {
    for (bool v6 : {false, true}) {
        pkt::Spec s;
        s.v6 = v6;
        s.flags = 0x18;  // ACK PSH: PSH lands on the last segment only
        s.options = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2};
        auto segs = stream_segments(s, 1400, 5000);
        ASSERT_EQ(segs.size(), 4u);
        Coalescer c;
        for (size_t i = 0; i < segs.size(); i++) {
            auto L = Coalescer::candidate(segs[i], true, true);
            ASSERT_TRUE(L) << i;
            if (i == 0) c.start(segs[i], *L);
            else EXPECT_TRUE(c.append(segs[i], *L)) << i;
        }
        EXPECT_TRUE(c.closed()) << "PSH ends the group";
        VnetHdr h;
        auto f = c.take(h);
        EXPECT_EQ(h.flags, VnetHdr::kDataValid);
        EXPECT_EQ(h.gso_type, v6 ? VnetHdr::kGsoTcpv6 : VnetHdr::kGsoTcpv4);
        EXPECT_EQ(h.gso_size, 1400);
        EXPECT_EQ(h.hdr_len, pkt::l4_off(s) + 32);
        s.payload = pkt::bytes(5000, 11);
        auto whole = pkt::build(s);
        EXPECT_EQ(f, whole) << "the joined frame is the unsegmented one (lengths, checksums, flags)";
        EXPECT_FALSE(c.active());
    }
}

TEST(Coalesce, OnlyInOrderSegmentsOfOneFlowJoin) {
    pkt::Spec s;
    auto segs = stream_segments(s, 1000, 3000);
    auto L0 = Coalescer::candidate(segs[0], true, true);
    ASSERT_TRUE(L0);
    auto fresh = [&] {
        Coalescer c;
        c.start(segs[0], *L0);
        return c;
    };
    auto L2 = Coalescer::candidate(segs[2], true, true);
    Coalescer c = fresh();
    EXPECT_FALSE(c.append(segs[2], *L2)) << "a gap in the sequence";
    auto other = [&] {  // the same bytes from another source port
        pkt::Spec o = s;
        o.sport = 40001;
        o.payload = pkt::bytes(3000, 11);
        return split(tso(o, 1000), pkt::build(o))[1];
    }();
    auto Lo = Coalescer::candidate(other, true, true);
    ASSERT_TRUE(Lo);
    EXPECT_FALSE(c.append(other, *Lo)) << "another flow";
    auto L1 = Coalescer::candidate(segs[1], true, true);
    EXPECT_TRUE(c.append(segs[1], *L1));
    EXPECT_EQ(c.segments(), 2u);
}

TEST(Coalesce, ControlSegmentsBadSumsAndPureAcksStayAlone) {
    pkt::Spec s;
    s.payload = pkt::bytes(100, 1);
    for (uint8_t fl : {0x11, 0x12, 0x14, 0x30, 0x50, 0x90, 0x00}) {  // FIN SYN RST URG ECE CWR, no ACK
        pkt::Spec t = s;
        t.flags = fl;
        EXPECT_FALSE(Coalescer::candidate(pkt::build(t), true, true)) << int(fl);
    }
    auto bad = pkt::build(s);
    bad.back() ^= 1;
    EXPECT_FALSE(Coalescer::candidate(bad, true, true)) << "a wrong checksum must reach the guest unmarked";
    pkt::Spec ack = s;
    ack.payload.clear();
    EXPECT_FALSE(Coalescer::candidate(pkt::build(ack), true, true));
    EXPECT_FALSE(Coalescer::candidate(pkt::build(s), false, true)) << "IPv4 without GUEST_TSO4";
    pkt::Spec u = s;
    u.udp = true;
    EXPECT_FALSE(Coalescer::candidate(pkt::build(u), true, true));
}

TEST(Coalesce, AShortSegmentEndsTheGroupAndItStaysUnder64KiB) {
    pkt::Spec s;
    auto segs = stream_segments(s, 1000, 2500);  // 1000 1000 500
    Coalescer c;
    c.start(segs[0], *Coalescer::candidate(segs[0], true, false));
    EXPECT_TRUE(c.append(segs[1], *Coalescer::candidate(segs[1], true, false)));
    EXPECT_FALSE(c.closed());
    EXPECT_TRUE(c.append(segs[2], *Coalescer::candidate(segs[2], true, false)));
    EXPECT_TRUE(c.closed());
    auto more = stream_segments([&] {
        pkt::Spec t = s;
        t.seq = s.seq + 2500;
        return t;
    }(), 1000, 1000);
    EXPECT_FALSE(c.append(more[0], *Coalescer::candidate(more[0], true, false))) << "closed";

    // 46 full segments, from two TSO frames (one IP packet holds < 64 KiB).
    auto big = stream_segments(s, 1460, 1460 * 23);
    pkt::Spec s2 = s;
    s2.seq = s.seq + 1460 * 23;
    for (auto &g : stream_segments(s2, 1460, 1460 * 23)) big.push_back(g);
    Coalescer d;
    d.start(big[0], *Coalescer::candidate(big[0], true, false));
    size_t joined = 1;
    while (joined < big.size() && d.append(big[joined], *Coalescer::candidate(big[joined], true, false))) joined++;
    EXPECT_EQ(joined, 44u) << "20 + 20 + 44 * 1460 <= 65535 < 20 + 20 + 45 * 1460";
    VnetHdr h;
    auto f = d.take(h);
    EXPECT_LE(get16(f, pkt::kEth + 2), 65535);
    EXPECT_TRUE(pkt::ip_ok(f));
    EXPECT_TRUE(pkt::l4_ok(f, false));
}

TEST(Coalesce, ALaterCumulativeAckReplacesTheHeldOneButDuplicatesDoNot) {
    pkt::Spec s;
    s.ack = 1000;
    auto a1 = pkt::build(s);
    s.ack = 3000;
    s.ip_id = 0x101;
    auto a2 = pkt::build(s);
    s.window = 1000;  // same number, another window: a window update, kept
    auto upd = pkt::build(s);
    ASSERT_TRUE(Coalescer::ack_candidate(a1, true, false));
    Coalescer c;
    c.start_ack(a1, *Coalescer::ack_candidate(a1, true, false));
    EXPECT_FALSE(c.append(a2, *parse(a2))) << "an ACK group takes no data";
    EXPECT_TRUE(c.append_ack(a2, *Coalescer::ack_candidate(a2, true, false)));
    EXPECT_FALSE(c.append_ack(upd, *Coalescer::ack_candidate(upd, true, false))) << "no forward movement";
    EXPECT_FALSE(c.append_ack(a1, *Coalescer::ack_candidate(a1, true, false))) << "an older ACK";
    VnetHdr h;
    EXPECT_EQ(c.take(h), a2);
    EXPECT_EQ(h.gso_type, VnetHdr::kGsoNone);

    pkt::Spec o;
    o.ack = 9000;
    o.dport = 81;
    auto other = pkt::build(o);
    Coalescer d;
    d.start_ack(a1, *Coalescer::ack_candidate(a1, true, false));
    EXPECT_FALSE(d.append_ack(other, *Coalescer::ack_candidate(other, true, false))) << "another flow";
    pkt::Spec withopt;
    withopt.options = {1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2};  // SACK
    EXPECT_FALSE(Coalescer::ack_candidate(pkt::build(withopt), true, false)) << "options (SACK) stay";
    pkt::Spec fin;
    fin.flags = 0x11;
    EXPECT_FALSE(Coalescer::ack_candidate(pkt::build(fin), true, false));
}

TEST(Coalesce, OneSegmentIsAPlainFrame) {
    pkt::Spec s;
    s.payload = pkt::bytes(700, 4);
    auto f = pkt::build(s);
    Coalescer c;
    c.start(f, *Coalescer::candidate(f, true, false));
    VnetHdr h;
    EXPECT_EQ(c.take(h), f);
    EXPECT_EQ(h.gso_type, VnetHdr::kGsoNone);
    EXPECT_EQ(h.flags, VnetHdr::kDataValid);
}

}  // namespace
