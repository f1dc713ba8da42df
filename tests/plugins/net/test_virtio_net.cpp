// virtio-net-device on virtio-mmio, and the PCI host bridge with
// virtio-net-pci, driven through the fake host with net entries added.
#include "../devices/device_test.hpp"

#include "packets.hpp"

#include <tessera/net.h>

#include <cstring>
#include <utility>

namespace {

// The fake's net side: one NIC, frames it sent, its ops to feed it.
struct FakeNet {
    const ts_net_nic_ops *ops = nullptr;
    void *opaque = nullptr;
    std::vector<std::vector<uint8_t>> sent;
    std::string info;
    int flushes = 0;
    // The device's bottom half (receive coalescing ends a burst in it).
    ts_bh_cb bh = nullptr;
    void *bh_opaque = nullptr;
    int bh_scheduled = 0;
    // Frames the backend answers with at once (as slirp does), per frame sent.
    std::vector<std::vector<uint8_t>> answers;
    void run_bh() {
        bh_scheduled = 0;
        if (bh) bh(bh_opaque);
    }
} g_net;
ts_net_client *const kClient = reinterpret_cast<ts_net_client *>(&g_net);

// Mapped regions (BARs), by CPU address.
std::map<uint64_t, ts_region *> g_mapped;

void install_net(const ts_host *t) {
    auto *h = const_cast<ts_host *>(t);  // the fake's own table: tests may extend it
    g_net = FakeNet{};
    g_mapped.clear();
    h->net_nic_attach = [](ts_object *, const char *, const ts_net_nic_ops *ops, void *opaque,
                           ts_error *) -> ts_net_client * {
        g_net.ops = ops;
        g_net.opaque = opaque;
        return kClient;
    };
    h->net_send = [](ts_net_client *, const uint8_t *f, size_t len) {
        g_net.sent.emplace_back(f, f + len);
        for (auto &a : std::exchange(g_net.answers, {})) g_net.ops->receive(g_net.opaque, a.data(), a.size());
        return TS_OK;
    };
    h->net_flush = [](ts_net_client *) { g_net.flushes++; };
    h->net_link_up = [](ts_net_client *) { return 1; };
    h->net_set_info = [](ts_net_client *, const char *i) { g_net.info = i; };
    h->bh_new = [](ts_bh_cb cb, void *opaque) {
        g_net.bh = cb;
        g_net.bh_opaque = opaque;
        return reinterpret_cast<ts_bh *>(&g_net);
    };
    h->bh_schedule = [](ts_bh *) { g_net.bh_scheduled++; };
    h->bh_free = [](ts_bh *) { g_net.bh = nullptr; };
    h->system_memory = [] { return static_cast<ts_region *>(nullptr); };
    h->region_add = [](ts_region *, uint64_t at, ts_region *r, int) { g_mapped[at] = r; };
    h->region_remove = [](ts_region *, ts_region *r) {
        std::erase_if(g_mapped, [&](auto &p) { return p.second == r; });
    };
}

constexpr uint16_t F_NEXT = 1, F_WRITE = 2;
struct Desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
};

// A split-ring driver over the fake's RAM (shared by both transports).
class Driver : public DeviceTest {
protected:
    static constexpr uint64_t kRam = 0x80000000, kBuf = kRam + 0x20000;
    static constexpr uint32_t kNum = 8;
    uint64_t desc(unsigned q) { return kRam + q * 0x4000; }
    uint64_t avail(unsigned q) { return desc(q) + 0x1000; }
    uint64_t used(unsigned q) { return desc(q) + 0x2000; }

    void start(const char *so) {
        load(so);
        install_net(host->table());
        host->ram.assign(1 << 20, 0);
        host->ram_base = kRam;
    }
    uint8_t *ram(uint64_t a) { return host->ram.data() + (a - kRam); }
    template <class T>
    void poke(uint64_t a, T v) { std::memcpy(ram(a), &v, sizeof v); }
    template <class T>
    T peek(uint64_t a) {
        T v;
        std::memcpy(&v, ram(a), sizeof v);
        return v;
    }
    void add_chain(unsigned q, uint16_t first, const std::vector<Desc> &ds) {
        for (size_t i = 0; i < ds.size(); i++) {
            uint64_t d = desc(q) + 16 * (first + i);
            poke<uint64_t>(d, ds[i].addr);
            poke<uint32_t>(d + 8, ds[i].len);
            poke<uint16_t>(d + 12, static_cast<uint16_t>(ds[i].flags | (i + 1 < ds.size() ? F_NEXT : 0)));
            poke<uint16_t>(d + 14, static_cast<uint16_t>(first + i + 1));
        }
        uint16_t idx = peek<uint16_t>(avail(q) + 2);
        poke<uint16_t>(avail(q) + 4 + 2 * (idx % kNum), first);
        poke<uint16_t>(avail(q) + 2, static_cast<uint16_t>(idx + 1));
    }
    uint16_t used_idx(unsigned q) { return peek<uint16_t>(used(q) + 2); }
    uint32_t used_len(unsigned q, unsigned n) { return peek<uint32_t>(used(q) + 4 + 8 * n + 4); }

    static std::vector<uint8_t> frame(size_t len, uint8_t seed) {
        std::vector<uint8_t> f(len);
        for (size_t i = 0; i < len; i++) f[i] = static_cast<uint8_t>(seed + i);
        return f;
    }
};

// ---- virtio-net-device on virtio-mmio (modern layout) ----

class VirtioNetMmio : public Driver {
protected:
    void SetUp() override { start(PLUGIN_VIRTIO); }
    uint32_t reg(uint64_t o) { return static_cast<uint32_t>(host->read(mmio, o)); }
    void set(uint64_t o, uint64_t v) { host->write(mmio, o, v); }
    void make(const std::map<std::string, std::string> &props = {{"mac", "52:54:00:aa:bb:cc"}}) {
        mmio = plugin->create("virtio-mmio", {{"force-legacy", "off"}});
        net = plugin->create_on_bus(mmio, "virtio-net-device", props);
    }
    void init(uint64_t accept) {
        set(0x070, 3);
        set(0x024, 0);
        set(0x020, accept & 0xffffffff);
        set(0x024, 1);
        set(0x020, accept >> 32);
        set(0x070, 11);
        ASSERT_EQ(reg(0x070) & 8, 8u);
        for (unsigned q = 0; q < 2; q++) {
            set(0x030, q);
            set(0x038, kNum);
            set(0x080, desc(q));
            set(0x084, 0);
            set(0x090, avail(q));
            set(0x094, 0);
            set(0x0a0, used(q));
            set(0x0a4, 0);
            set(0x044, 1);
        }
        set(0x070, 15);
    }
    ts_object *mmio = nullptr, *net = nullptr;
};

constexpr uint64_t kV1 = 1ull << 32, kCsum = 1, kGuestCsum = 2, kMac = 1 << 5, kMrg = 1 << 15, kStatus = 1 << 16,
                   kGuestTso4 = 1 << 7, kGuestTso6 = 1 << 8, kHostTso4 = 1 << 11, kHostTso6 = 1 << 12,
                   kHostEcn = 1 << 13;

TEST_F(VirtioNetMmio, IdentityFeaturesAndConfig) {
    make();
    EXPECT_EQ(reg(0x008), 1u);
    set(0x014, 0);
    EXPECT_EQ(reg(0x010) & (kCsum | kGuestCsum | kMac | kMrg | kStatus), kCsum | kGuestCsum | kMac | kMrg | kStatus);
    const uint64_t tso = kHostTso4 | kHostTso6 | kHostEcn | kGuestTso4 | kGuestTso6;
    EXPECT_EQ(reg(0x010) & tso, tso) << "segmentation offloads, done by the device for the backend";
    EXPECT_EQ(reg(0x010) & (1u << 10 | 1u << 14), 0u) << "no UFO";
    EXPECT_EQ(host->read(mmio, 0x100, 1), 0x52u);
    EXPECT_EQ(host->read(mmio, 0x105, 1), 0xccu);
    EXPECT_EQ(host->read(mmio, 0x106, 2), 1u) << "link up";
    EXPECT_EQ(g_net.info, "model=virtio-net-device,macaddr=52:54:00:aa:bb:cc");
}

TEST_F(VirtioNetMmio, OffloadPropertiesTurnFeaturesOff) {
    make({{"mac", "52:54:00:aa:bb:cc"}, {"csum", "off"}, {"guest_tso6", "off"}, {"mrg_rxbuf", "off"}});
    set(0x014, 0);
    const uint64_t f = reg(0x010);
    EXPECT_EQ(f & (kCsum | kHostTso4 | kHostTso6 | kHostEcn), 0u) << "no CSUM, so no TSO either";
    EXPECT_EQ(f & (kGuestCsum | kGuestTso4), kGuestCsum | kGuestTso4);
    EXPECT_EQ(f & (kGuestTso6 | kMrg), 0u);
}

TEST_F(VirtioNetMmio, TransmitStripsHeaderAndCompletesChecksum) {
    make();
    init(kV1 | kMac | kCsum);
    // An IPv4/UDP frame whose checksum the driver left partial.
    std::vector<uint8_t> f = frame(60, 1);
    const size_t start = 34, off = 6;
    f[start + off] = 0x12;  // pseudo-header sum the driver stored
    f[start + off + 1] = 0x34;
    std::array<uint8_t, 12> hdr{};
    hdr[0] = 1;  // NEEDS_CSUM
    hdr[6] = start;
    hdr[8] = off;
    std::memcpy(ram(kBuf), hdr.data(), 12);
    std::memcpy(ram(kBuf + 12), f.data(), f.size());
    add_chain(1, 0, {{kBuf, 12, 0}, {kBuf + 12, static_cast<uint32_t>(f.size()), 0}});
    set(0x050, 1);
    ASSERT_EQ(g_net.sent.size(), 1u);
    const auto &out = g_net.sent[0];
    ASSERT_EQ(out.size(), f.size());
    EXPECT_TRUE(std::equal(out.begin(), out.begin() + start + off, f.begin()));
    // Pseudo header + [start, end) with the result in place sums to 0xffff.
    uint32_t sum = 0x1234;  // the pseudo header the driver summed
    for (size_t i = start; i < out.size(); i += 2) sum += out[i] << 8 | out[i + 1];
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    EXPECT_EQ(sum, 0xffffu);
    EXPECT_EQ(used_idx(1), 1);
    EXPECT_EQ(reg(0x060) & 1, 1u) << "used-buffer interrupt";
}

TEST_F(VirtioNetMmio, ReceiveWaitsForBuffersThenMergesThem) {
    make();
    init(kV1 | kMac | kMrg | kGuestCsum);
    ASSERT_NE(g_net.ops, nullptr);
    EXPECT_EQ(g_net.ops->can_receive(g_net.opaque), 0) << "no buffers yet";
    // Two 48-byte buffers: a 70-byte frame + 12-byte header needs both.
    add_chain(0, 0, {{kBuf, 48, F_WRITE}});
    add_chain(0, 1, {{kBuf + 0x100, 48, F_WRITE}});
    set(0x050, 0);
    EXPECT_GE(g_net.flushes, 1) << "new buffers tell the kernel to deliver held frames";
    EXPECT_EQ(g_net.ops->can_receive(g_net.opaque), 1);
    auto f = frame(70, 9);
    g_net.ops->receive(g_net.opaque, f.data(), f.size());
    ASSERT_EQ(used_idx(0), 2);
    EXPECT_EQ(used_len(0, 0), 48u);
    EXPECT_EQ(used_len(0, 1), 82u - 48u);
    EXPECT_EQ(peek<uint8_t>(kBuf), 0) << "not TCP/UDP: no DATA_VALID";
    EXPECT_EQ(peek<uint16_t>(kBuf + 10), 2) << "num_buffers";
    std::vector<uint8_t> got(ram(kBuf + 12), ram(kBuf + 48));
    got.insert(got.end(), ram(kBuf + 0x100), ram(kBuf + 0x100 + 34));
    EXPECT_EQ(got, f);
    EXPECT_EQ(g_net.ops->can_receive(g_net.opaque), 0);
}

TEST_F(VirtioNetMmio, FrameTooBigForTheBuffersWaitsForMore) {
    make();
    init(kV1 | kMac | kMrg);
    add_chain(0, 0, {{kBuf, 32, F_WRITE}});
    auto f = frame(100, 3);
    g_net.ops->receive(g_net.opaque, f.data(), f.size());
    EXPECT_EQ(used_idx(0), 0);
    EXPECT_EQ(g_net.ops->can_receive(g_net.opaque), 0) << "held: later frames queue behind it";
    for (uint16_t i = 1; i < 4; i++) add_chain(0, i, {{kBuf + 0x100u * i, 32, F_WRITE}});
    set(0x050, 0);
    ASSERT_EQ(used_idx(0), 4);
    EXPECT_EQ(peek<uint16_t>(kBuf + 10), 4) << "num_buffers";
    EXPECT_EQ(g_net.ops->can_receive(g_net.opaque), 0) << "no buffers left";
}

TEST_F(VirtioNetMmio, FrameLargerThanTheWholeRingIsDroppedAndBuffersKept) {
    make();
    init(kV1 | kMac | kMrg);
    for (uint16_t i = 0; i < kNum; i++) add_chain(0, i, {{kBuf + 0x100u * i, 32, F_WRITE}});
    auto f = frame(300, 3);
    g_net.ops->receive(g_net.opaque, f.data(), f.size());
    EXPECT_EQ(used_idx(0), 0);
    EXPECT_EQ(g_net.ops->can_receive(g_net.opaque), 1) << "the buffers went back to the ring";
}

TEST_F(VirtioNetMmio, LinkDownShowsInConfigAndInterrupts) {
    make();
    init(kV1 | kMac | kStatus);
    g_net.ops->link_changed(g_net.opaque, 0);
    EXPECT_EQ(host->read(mmio, 0x106, 2), 0u);
    EXPECT_EQ(reg(0x060) & 2, 2u) << "configuration change interrupt";
    EXPECT_EQ(g_net.ops->can_receive(g_net.opaque), 0);
}

TEST_F(VirtioNetMmio, TsoFramesAreSegmentedForTheBackend) {
    make();
    init(kV1 | kMac | kCsum | kHostTso4 | kHostTso6);
    pkt::Spec s;
    s.flags = 0x18;
    s.payload = pkt::bytes(2500, 7);
    auto f = pkt::build(s);
    std::array<uint8_t, 12> hdr{};
    hdr[0] = 1;     // NEEDS_CSUM
    hdr[1] = 1;     // TCPV4
    hdr[2] = 54;    // hdr_len
    hdr[4] = 0xe8;  // gso_size 1000
    hdr[5] = 0x03;
    hdr[6] = 34;    // csum_start
    hdr[8] = 16;    // csum_offset
    std::memcpy(ram(kBuf), hdr.data(), 12);
    std::memcpy(ram(kBuf + 12), f.data(), f.size());
    add_chain(1, 0, {{kBuf, static_cast<uint32_t>(12 + f.size()), 0}});
    set(0x050, 1);
    ASSERT_EQ(g_net.sent.size(), 3u);
    size_t payload = 0;
    for (const auto &g : g_net.sent) {
        EXPECT_TRUE(pkt::ip_ok(g));
        EXPECT_TRUE(pkt::l4_ok(g, false));
        payload += g.size() - 54;
    }
    EXPECT_EQ(payload, 2500u);
    EXPECT_EQ(g_net.sent[2].size(), 54u + 500u) << "the short last segment";
    EXPECT_EQ(used_idx(1), 1);
}

TEST_F(VirtioNetMmio, TsoTypeNotNegotiatedIsAGuestErrorAndNotSent) {
    make();
    init(kV1 | kMac | kCsum | kHostTso4);
    pkt::Spec s;
    s.v6 = true;
    s.payload = pkt::bytes(2500, 7);
    auto f = pkt::build(s);
    std::array<uint8_t, 12> hdr{1, 4, 74, 0, 0xe8, 0x03, 54, 0, 16, 0, 0, 0};  // TCPV6
    std::memcpy(ram(kBuf), hdr.data(), 12);
    std::memcpy(ram(kBuf + 12), f.data(), f.size());
    add_chain(1, 0, {{kBuf, static_cast<uint32_t>(12 + f.size()), 0}});
    set(0x050, 1);
    EXPECT_TRUE(g_net.sent.empty());
    EXPECT_EQ(used_idx(1), 1) << "the buffer still comes back";
}

TEST_F(VirtioNetMmio, ReceivedTcpSegmentsJoinIntoOneGsoFrameAtTheEndOfTheBurst) {
    make();
    init(kV1 | kMac | kMrg | kGuestCsum | kGuestTso4);
    for (uint16_t i = 0; i < 4; i++) add_chain(0, i, {{kBuf + i * 0x1000u, 0x1000, F_WRITE}});
    pkt::Spec s;
    s.payload = pkt::bytes(3000, 3);
    auto whole = pkt::build(s);
    // The backend's segments of 1000 bytes, then an ARP that must come after them.
    std::vector<std::vector<uint8_t>> segs;
    for (size_t off = 0; off < 3000; off += 1000) {
        pkt::Spec t = s;
        t.seq = s.seq + static_cast<uint32_t>(off);
        t.payload.assign(s.payload.begin() + static_cast<ptrdiff_t>(off),
                         s.payload.begin() + static_cast<ptrdiff_t>(off + 1000));
        segs.push_back(pkt::build(t));
    }
    for (auto &g : segs) {
        ASSERT_EQ(g_net.ops->can_receive(g_net.opaque), 1);
        g_net.ops->receive(g_net.opaque, g.data(), g.size());
    }
    EXPECT_EQ(used_idx(0), 0) << "held until the burst ends";
    EXPECT_GE(g_net.bh_scheduled, 1);
    g_net.run_bh();
    ASSERT_EQ(used_idx(0), 1);
    EXPECT_EQ(used_len(0, 0), 12u + whole.size());
    EXPECT_EQ(peek<uint8_t>(kBuf), 2) << "DATA_VALID";
    EXPECT_EQ(peek<uint8_t>(kBuf + 1), 1) << "GSO TCPV4";
    EXPECT_EQ(peek<uint16_t>(kBuf + 4), 1000) << "gso_size";
    EXPECT_EQ(peek<uint16_t>(kBuf + 10), 1) << "num_buffers";
    std::vector<uint8_t> got(ram(kBuf + 12), ram(kBuf + 12 + whole.size()));
    EXPECT_EQ(got, whole);
    EXPECT_EQ(reg(0x060) & 1, 1u);

    // A non-TCP frame ends an open group: both go at once, in order.
    g_net.ops->receive(g_net.opaque, segs[0].data(), segs[0].size());
    std::vector<uint8_t> arp(60, 0);
    arp[12] = 8, arp[13] = 6;
    g_net.ops->receive(g_net.opaque, arp.data(), arp.size());
    ASSERT_EQ(used_idx(0), 3);
    EXPECT_EQ(used_len(0, 1), 12u + segs[0].size());
    EXPECT_EQ(peek<uint8_t>(kBuf + 0x1000 + 1), 0) << "one segment: a plain frame";
    EXPECT_EQ(peek<uint8_t>(kBuf + 0x1000), 2) << "its checksum was verified";
    EXPECT_EQ(used_len(0, 2), 12u + 60u);
}

TEST_F(VirtioNetMmio, TheFirstAckOfABurstGoesAtOnceLaterOnesMerge) {
    make();
    init(kV1 | kMac | kMrg | kGuestCsum | kGuestTso4);
    for (uint16_t i = 0; i < 4; i++) add_chain(0, i, {{kBuf + i * 0x1000u, 0x1000, F_WRITE}});
    std::vector<std::vector<uint8_t>> acks;
    for (uint32_t i = 0; i < 4; i++) {
        pkt::Spec s;
        s.ack = 1000 + 2000 * i;
        acks.push_back(pkt::build(s));
    }
    g_net.ops->receive(g_net.opaque, acks[0].data(), acks[0].size());
    EXPECT_EQ(used_idx(0), 1) << "a lone ACK must not wait";
    for (size_t i = 1; i < 4; i++) g_net.ops->receive(g_net.opaque, acks[i].data(), acks[i].size());
    EXPECT_EQ(used_idx(0), 1);
    g_net.run_bh();
    ASSERT_EQ(used_idx(0), 2) << "the rest of the burst as one ACK";
    std::vector<uint8_t> got(ram(kBuf + 0x1000 + 12), ram(kBuf + 0x1000 + 12 + acks[3].size()));
    EXPECT_EQ(got, acks[3]);
    g_net.ops->receive(g_net.opaque, acks[0].data(), acks[0].size());
    EXPECT_EQ(used_idx(0), 3) << "after the burst, at once again";
}

TEST_F(VirtioNetMmio, AnswersDuringTransmitAreOneBurstEndedByIt) {
    make();
    init(kV1 | kMac | kMrg | kGuestCsum | kGuestTso4);
    for (uint16_t i = 0; i < 4; i++) add_chain(0, i, {{kBuf + i * 0x1000u, 0x1000, F_WRITE}});
    for (uint32_t i = 0; i < 3; i++) {
        pkt::Spec s;
        s.ack = 1000 + 2000 * i;
        g_net.answers.push_back(pkt::build(s));
    }
    auto last = g_net.answers.back();
    auto f = frame(60, 1);
    std::memset(ram(kBuf + 0x8000), 0, 12);
    std::memcpy(ram(kBuf + 0x8000 + 12), f.data(), f.size());
    add_chain(1, 0, {{kBuf + 0x8000, 72, 0}});
    set(0x050, 1);
    ASSERT_EQ(g_net.sent.size(), 1u);
    EXPECT_EQ(g_net.bh_scheduled, 0) << "no main-loop round trip";
    ASSERT_EQ(used_idx(0), 2) << "the first ACK, then the latest of the others";
    std::vector<uint8_t> got(ram(kBuf + 0x1000 + 12), ram(kBuf + 0x1000 + 12 + last.size()));
    EXPECT_EQ(got, last);
}

TEST_F(VirtioNetMmio, WithoutGuestTsoSegmentsGoOneByOneAndBadSumsAreNotMarked) {
    make();
    init(kV1 | kMac | kMrg | kGuestCsum);
    for (uint16_t i = 0; i < 2; i++) add_chain(0, i, {{kBuf + i * 0x1000u, 0x1000, F_WRITE}});
    pkt::Spec s;
    s.payload = pkt::bytes(1000, 3);
    auto good = pkt::build(s);
    auto bad = good;
    bad.back() ^= 0xff;
    g_net.ops->receive(g_net.opaque, good.data(), good.size());
    g_net.ops->receive(g_net.opaque, bad.data(), bad.size());
    ASSERT_EQ(used_idx(0), 2) << "no coalescing without GUEST_TSO4";
    EXPECT_EQ(peek<uint8_t>(kBuf), 2);
    EXPECT_EQ(peek<uint8_t>(kBuf + 0x1000), 0) << "a wrong checksum is left for the guest to find";
}

TEST_F(VirtioNetMmio, AJoinedFrameLargerThanTheWholeRingGoesAsItsSegments) {
    make();
    init(kV1 | kMac | kMrg | kGuestCsum | kGuestTso4);
    // 8 buffers of 512 bytes: 4 KiB in all, less than the 6 KiB joined frame.
    for (uint16_t i = 0; i < kNum; i++) add_chain(0, i, {{kBuf + i * 0x400u, 512, F_WRITE}});
    pkt::Spec s;
    std::vector<std::vector<uint8_t>> segs;
    for (uint32_t i = 0; i < 4; i++) {
        pkt::Spec t = s;
        t.seq = s.seq + 1400 * i;
        t.ip_id = static_cast<uint16_t>(s.ip_id + i);  // as segmentation numbers them
        t.payload = pkt::bytes(1400, static_cast<uint8_t>(i));
        segs.push_back(pkt::build(t));
        g_net.ops->receive(g_net.opaque, segs.back().data(), segs.back().size());
    }
    g_net.run_bh();
    // The first segment (12 + 1454 bytes) takes 3 buffers, the second 3; two left.
    ASSERT_EQ(used_idx(0), 6);
    EXPECT_EQ(peek<uint8_t>(kBuf + 1), 0) << "plain frames, not GSO";
    EXPECT_EQ(peek<uint16_t>(kBuf + 10), 3) << "num_buffers";
    std::vector<uint8_t> got(ram(kBuf + 12), ram(kBuf + 512));
    got.insert(got.end(), ram(kBuf + 0x400), ram(kBuf + 0x400 + 512));
    got.insert(got.end(), ram(kBuf + 0x800), ram(kBuf + 0x800 + 1454 - 500 - 512));
    EXPECT_EQ(got, segs[0]);
    EXPECT_EQ(g_net.ops->can_receive(g_net.opaque), 0) << "the rest waits for buffers";
}

// A vnet peer (a tap with IFF_VNET_HDR): headers pass through both ways.
TEST_F(VirtioNetMmio, WithAVnetPeerTsoFramesGoOutWholeWithTheirHeader) {
    make();
    init(kV1 | kMac | kCsum | kHostTso4);
    ASSERT_NE(g_net.ops->set_vnet, nullptr);
    g_net.ops->set_vnet(g_net.opaque, 1);
    pkt::Spec s;
    s.payload = pkt::bytes(2500, 7);
    auto f = pkt::build(s);
    std::array<uint8_t, 12> hdr{1, 1, 54, 0, 0xe8, 0x03, 34, 0, 16, 0, 0, 0};
    std::memcpy(ram(kBuf), hdr.data(), 12);
    std::memcpy(ram(kBuf + 12), f.data(), f.size());
    add_chain(1, 0, {{kBuf, static_cast<uint32_t>(12 + f.size()), 0}});
    set(0x050, 1);
    ASSERT_EQ(g_net.sent.size(), 1u) << "not segmented: the tap's kernel does it";
    std::vector<uint8_t> want(hdr.begin(), hdr.end());
    want.insert(want.end(), f.begin(), f.end());
    EXPECT_EQ(g_net.sent[0], want);
}

// A GSO frame as a vnet tap gives it: DATA_VALID, TCPV4, gso_size 1000.
std::vector<uint8_t> vnet_gso_frame(std::vector<uint8_t> &plain) {
    pkt::Spec s;
    s.payload = pkt::bytes(3000, 5);
    plain = pkt::build(s);
    std::vector<uint8_t> in = {2, 1, 54, 0, 0xe8, 0x03, 0, 0, 0, 0, 0, 0};
    in.insert(in.end(), plain.begin(), plain.end());
    return in;
}

TEST_F(VirtioNetMmio, FromAVnetPeerGsoPassesWhenNegotiated) {
    make();
    init(kV1 | kMac | kMrg | kGuestCsum | kGuestTso4);
    g_net.ops->set_vnet(g_net.opaque, 1);
    for (uint16_t i = 0; i < 2; i++) add_chain(0, i, {{kBuf + i * 0x1000u, 0x1000, F_WRITE}});
    std::vector<uint8_t> f;
    auto in = vnet_gso_frame(f);
    g_net.ops->receive(g_net.opaque, in.data(), in.size());
    ASSERT_EQ(used_idx(0), 1);
    EXPECT_EQ(peek<uint8_t>(kBuf), 2) << "DATA_VALID as the peer gave it";
    EXPECT_EQ(peek<uint8_t>(kBuf + 1), 1) << "GSO TCPV4 as the peer gave it";
    EXPECT_EQ(peek<uint16_t>(kBuf + 4), 1000);
    EXPECT_EQ(used_len(0, 0), 12u + f.size());
}

TEST_F(VirtioNetMmio, FromAVnetPeerGsoIsSegmentedForAGuestWithoutTso) {
    make();
    init(kV1 | kMac | kMrg | kGuestCsum);
    g_net.ops->set_vnet(g_net.opaque, 1);
    for (uint16_t i = 0; i < 4; i++) add_chain(0, i, {{kBuf + i * 0x1000u, 0x1000, F_WRITE}});
    std::vector<uint8_t> f;
    auto in = vnet_gso_frame(f);
    g_net.ops->receive(g_net.opaque, in.data(), in.size());
    ASSERT_EQ(used_idx(0), 3) << "three segments";
    for (unsigned i = 0; i < 3; i++) {
        EXPECT_EQ(peek<uint8_t>(kBuf + i * 0x1000u + 1), 0);
        std::vector<uint8_t> g(ram(kBuf + i * 0x1000u + 12), ram(kBuf + i * 0x1000u + used_len(0, i)));
        EXPECT_EQ(g.size(), 54u + 1000u);
        EXPECT_TRUE(pkt::l4_ok(g, false)) << i;
    }
}

TEST_F(VirtioNetMmio, DefaultMacsFollowTheReference) {
    make({});
    EXPECT_EQ(host->read(mmio, 0x100, 4), 0x12005452u);
    EXPECT_EQ(host->read(mmio, 0x104, 1), 0x34u);
}

}  // namespace
