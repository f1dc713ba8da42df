// virtio-net-device on virtio-mmio, and the PCI host bridge with
// virtio-net-pci, driven through the fake host with net entries added.
#include "../devices/device_test.hpp"

#include <tessera/net.h>

#include <cstring>

namespace {

// The fake's net side: one NIC, frames it sent, its ops to feed it.
struct FakeNet {
    const ts_net_nic_ops *ops = nullptr;
    void *opaque = nullptr;
    std::vector<std::vector<uint8_t>> sent;
    std::string info;
    int flushes = 0;
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
        return TS_OK;
    };
    h->net_flush = [](ts_net_client *) { g_net.flushes++; };
    h->net_link_up = [](ts_net_client *) { return 1; };
    h->net_set_info = [](ts_net_client *, const char *i) { g_net.info = i; };
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

constexpr uint64_t kV1 = 1ull << 32, kCsum = 1, kGuestCsum = 2, kMac = 1 << 5, kMrg = 1 << 15, kStatus = 1 << 16;

TEST_F(VirtioNetMmio, IdentityFeaturesAndConfig) {
    make();
    EXPECT_EQ(reg(0x008), 1u);
    set(0x014, 0);
    EXPECT_EQ(reg(0x010) & (kCsum | kGuestCsum | kMac | kMrg | kStatus), kCsum | kGuestCsum | kMac | kMrg | kStatus);
    EXPECT_EQ(reg(0x010) & (1u << 11), 0u) << "no TSO: frames reach the backend whole";
    EXPECT_EQ(host->read(mmio, 0x100, 1), 0x52u);
    EXPECT_EQ(host->read(mmio, 0x105, 1), 0xccu);
    EXPECT_EQ(host->read(mmio, 0x106, 2), 1u) << "link up";
    EXPECT_EQ(g_net.info, "model=virtio-net-device,macaddr=52:54:00:aa:bb:cc");
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
    EXPECT_EQ(peek<uint8_t>(kBuf), 2) << "DATA_VALID with GUEST_CSUM";
    EXPECT_EQ(peek<uint16_t>(kBuf + 10), 2) << "num_buffers";
    std::vector<uint8_t> got(ram(kBuf + 12), ram(kBuf + 48));
    got.insert(got.end(), ram(kBuf + 0x100), ram(kBuf + 0x100 + 34));
    EXPECT_EQ(got, f);
    EXPECT_EQ(g_net.ops->can_receive(g_net.opaque), 0);
}

TEST_F(VirtioNetMmio, FrameTooBigForTheBuffersIsDroppedAndBuffersKept) {
    make();
    init(kV1 | kMac | kMrg);
    add_chain(0, 0, {{kBuf, 32, F_WRITE}});
    auto f = frame(100, 3);
    g_net.ops->receive(g_net.opaque, f.data(), f.size());
    EXPECT_EQ(used_idx(0), 0);
    EXPECT_EQ(g_net.ops->can_receive(g_net.opaque), 1) << "the buffer went back to the ring";
}

TEST_F(VirtioNetMmio, LinkDownShowsInConfigAndInterrupts) {
    make();
    init(kV1 | kMac | kStatus);
    g_net.ops->link_changed(g_net.opaque, 0);
    EXPECT_EQ(host->read(mmio, 0x106, 2), 0u);
    EXPECT_EQ(reg(0x060) & 2, 2u) << "configuration change interrupt";
    EXPECT_EQ(g_net.ops->can_receive(g_net.opaque), 0);
}

TEST_F(VirtioNetMmio, DefaultMacsFollowTheReference) {
    make({});
    EXPECT_EQ(host->read(mmio, 0x100, 4), 0x12005452u);
    EXPECT_EQ(host->read(mmio, 0x104, 1), 0x34u);
}

}  // namespace
