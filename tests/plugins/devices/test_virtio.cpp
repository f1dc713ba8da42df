#include "device_test.hpp"

#include <cstring>
#include <random>

namespace {

enum : uint64_t {
    kMagic = 0x000, kVersion = 0x004, kDeviceId = 0x008, kDevFeatures = 0x010, kDevFeaturesSel = 0x014,
    kDrvFeatures = 0x020, kDrvFeaturesSel = 0x024, kGuestPageSize = 0x028, kQueueSel = 0x030,
    kQueueNumMax = 0x034, kQueueNum = 0x038, kQueueAlign = 0x03c, kQueuePfn = 0x040, kQueueReady = 0x044,
    kQueueNotify = 0x050, kIntStatus = 0x060, kIntAck = 0x064, kStatus = 0x070, kDescLow = 0x080,
    kDriverLow = 0x090, kDeviceLow = 0x0a0, kConfig = 0x100,
};
constexpr uint16_t F_NEXT = 1, F_WRITE = 2;

struct Desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
};

class VirtioTest : public DeviceTest {
protected:
    static constexpr uint64_t kRam = 0x80000000, kDescTable = kRam, kAvail = kRam + 0x1000,
                              kUsed = kRam + 0x2000, kBuffers = kRam + 0x10000;
    static constexpr uint32_t kNum = 8;

    void SetUp() override {
        load(PLUGIN_VIRTIO);
        host->ram.assign(1 << 20, 0);
        host->ram_base = kRam;
    }

    ts_object *make(const std::string &type, const std::map<std::string, std::string> &props = {},
                    bool legacy = false) {
        mmio = plugin->create("virtio-mmio", {{"force-legacy", legacy ? "on" : "off"}});
        return plugin->create_on_bus(mmio, type, props);
    }
    uint32_t reg(uint64_t off) { return static_cast<uint32_t>(host->read(mmio, off)); }
    void set(uint64_t off, uint64_t v) { host->write(mmio, off, v); }

    uint8_t *ram(uint64_t addr) { return host->ram.data() + (addr - kRam); }
    template <class T>
    void poke(uint64_t addr, T v) { std::memcpy(ram(addr), &v, sizeof v); }
    template <class T>
    T peek(uint64_t addr) {
        T v;
        std::memcpy(&v, ram(addr), sizeof v);
        return v;
    }

    // The driver side of initialisation, with the features it accepts.
    void init_modern(uint64_t accept, unsigned queues = 1) {
        set(kStatus, 1 | 2);
        set(kDrvFeaturesSel, 0);
        set(kDrvFeatures, accept & 0xffffffff);
        set(kDrvFeaturesSel, 1);
        set(kDrvFeatures, accept >> 32);
        set(kStatus, 1 | 2 | 8);
        ASSERT_EQ(reg(kStatus) & 8, 8u) << "features refused";
        for (unsigned q = 0; q < queues; q++) {
            set(kQueueSel, q);
            ASSERT_GE(reg(kQueueNumMax), kNum);
            set(kQueueNum, kNum);
            uint64_t off = q * 0x4000;
            set(kDescLow, kDescTable + off);
            set(kDescLow + 4, 0);
            set(kDriverLow, kAvail + off);
            set(kDriverLow + 4, 0);
            set(kDeviceLow, kUsed + off);
            set(kDeviceLow + 4, 0);
            set(kQueueReady, 1);
        }
        set(kStatus, 1 | 2 | 8 | 4);
    }

    // Place a chain at descriptor index `first` and make it available.
    void add_chain(const std::vector<Desc> &descs, unsigned q = 0, uint16_t first = 0) {
        uint64_t off = q * 0x4000;
        for (size_t i = 0; i < descs.size(); i++) {
            uint64_t d = kDescTable + off + 16 * (first + i);
            uint16_t flags = descs[i].flags | (i + 1 < descs.size() ? F_NEXT : 0);
            poke<uint64_t>(d, descs[i].addr);
            poke<uint32_t>(d + 8, descs[i].len);
            poke<uint16_t>(d + 12, flags);
            poke<uint16_t>(d + 14, static_cast<uint16_t>(first + i + 1));
        }
        make_available(first, q);
    }
    void make_available(uint16_t head, unsigned q = 0) {
        uint64_t avail = kAvail + q * 0x4000;
        uint16_t idx = peek<uint16_t>(avail + 2);
        poke<uint16_t>(avail + 4 + 2 * (idx % kNum), head);
        poke<uint16_t>(avail + 2, static_cast<uint16_t>(idx + 1));
    }
    uint16_t used_idx(unsigned q = 0) { return peek<uint16_t>(kUsed + q * 0x4000 + 2); }
    uint32_t used_len(unsigned n, unsigned q = 0) { return peek<uint32_t>(kUsed + q * 0x4000 + 4 + 8 * n + 4); }

    // virtio-blk request header at kBuffers.
    void blk_request(uint32_t type, uint64_t sector, uint64_t data, uint32_t len, bool device_writes) {
        poke<uint32_t>(kBuffers, type);
        poke<uint32_t>(kBuffers + 4, 0);
        poke<uint64_t>(kBuffers + 8, sector);
        std::vector<Desc> chain = {{kBuffers, 16, 0}};
        if (len) chain.push_back({data, len, static_cast<uint16_t>(device_writes ? F_WRITE : 0)});
        chain.push_back({kBuffers + 0x100, 1, F_WRITE});
        poke<uint8_t>(kBuffers + 0x100, 0xff);
        add_chain(chain);
        set(kQueueNotify, 0);
    }
    uint8_t blk_status() { return peek<uint8_t>(kBuffers + 0x100); }

    void make_disk(size_t sectors, bool ro = false) {
        auto &d = host->drive("d0");
        d.data.resize(sectors * 512);
        for (size_t i = 0; i < d.data.size(); i++) d.data[i] = static_cast<uint8_t>(i * 7 + i / 512);
        d.read_only = ro;
    }

    ts_object *mmio = nullptr;
};

TEST_F(VirtioTest, EmptyTransportIdentifies) {
    mmio = plugin->create("virtio-mmio");
    EXPECT_EQ(reg(kMagic), 0x74726976u);
    EXPECT_EQ(reg(kVersion), 1u) << "legacy by default, as the reference";
    EXPECT_EQ(reg(kDeviceId), 0u);
    EXPECT_EQ(reg(0x00c), 0x554d4551u);
    EXPECT_EQ(mmio->buses.size(), 1u);
}

TEST_F(VirtioTest, BlkFeaturesAndConfig) {
    make_disk(128);
    make("virtio-blk-device", {{"drive", "d0"}});
    EXPECT_EQ(reg(kDeviceId), 2u);
    set(kDevFeaturesSel, 0);
    uint32_t lo = reg(kDevFeatures);
    EXPECT_EQ(lo & ((1u << 2) | (1u << 6) | (1u << 9)), (1u << 2) | (1u << 6) | (1u << 9));
    EXPECT_EQ(lo & (1u << 5), 0u) << "not read-only";
    set(kDevFeaturesSel, 1);
    EXPECT_EQ(reg(kDevFeatures), 1u) << "VERSION_1";
    EXPECT_EQ(host->read(mmio, kConfig, 8), 128u);
    EXPECT_EQ(host->read(mmio, kConfig + 20, 4), 512u);
    EXPECT_EQ(host->read(mmio, kConfig + 4, 4), 0u) << "a 64-bit field read as two halves";
}

TEST_F(VirtioTest, FeaturesNotOfferedAreRefused) {
    make_disk(8);
    make("virtio-blk-device", {{"drive", "d0"}});
    set(kStatus, 3);
    set(kDrvFeaturesSel, 0);
    set(kDrvFeatures, 1u << 29);  // EVENT_IDX, not offered
    set(kDrvFeaturesSel, 1);
    set(kDrvFeatures, 1);
    set(kStatus, 3 | 8);
    EXPECT_EQ(reg(kStatus) & 8, 0u);
}

TEST_F(VirtioTest, BlkRead) {
    make_disk(128);
    make("virtio-blk-device", {{"drive", "d0"}});
    init_modern((1ull << 32) | (1 << 9));
    blk_request(0, 3, kBuffers + 0x1000, 1024, true);
    EXPECT_EQ(blk_status(), 0);
    ASSERT_EQ(used_idx(), 1u);
    EXPECT_EQ(used_len(0), 1025u);
    EXPECT_EQ(std::memcmp(ram(kBuffers + 0x1000), host->drive("d0").data.data() + 3 * 512, 1024), 0);
    EXPECT_EQ(host->irq(mmio, "irq"), 1);
    EXPECT_EQ(reg(kIntStatus), 1u);
    set(kIntAck, 1);
    EXPECT_EQ(host->irq(mmio, "irq"), 0);
}

TEST_F(VirtioTest, BlkWriteFlushAndGetId) {
    make_disk(16);
    make("virtio-blk-device", {{"drive", "d0"}, {"serial", "tessera-disk"}});
    init_modern((1ull << 32) | (1 << 9));
    std::memset(ram(kBuffers + 0x1000), 0xab, 512);
    blk_request(1, 5, kBuffers + 0x1000, 512, false);
    EXPECT_EQ(blk_status(), 0);
    EXPECT_EQ(used_len(0), 1u);
    EXPECT_EQ(host->drive("d0").data[5 * 512], 0xab);
    EXPECT_EQ(host->drive("d0").data[6 * 512 - 1], 0xab);
    EXPECT_NE(host->drive("d0").data[6 * 512], 0xab);

    blk_request(4, 0, 0, 0, false);
    EXPECT_EQ(blk_status(), 0);
    EXPECT_EQ(host->drive("d0").flushes, 1);

    blk_request(8, 0, kBuffers + 0x2000, 20, true);
    EXPECT_EQ(blk_status(), 0);
    EXPECT_EQ(std::string(reinterpret_cast<char *>(ram(kBuffers + 0x2000))), "tessera-disk");
    EXPECT_EQ(used_len(2), 21u);

    blk_request(99, 0, 0, 0, false);
    EXPECT_EQ(blk_status(), 2) << "UNSUPP";
    EXPECT_TRUE(host->log_contains("virtio-blk: request type 99 not supported"));
}

TEST_F(VirtioTest, BlkOutOfRangeIsIoError) {
    make_disk(4);
    make("virtio-blk-device", {{"drive", "d0"}});
    init_modern(1ull << 32);
    blk_request(0, 3, kBuffers + 0x1000, 1024, true);
    EXPECT_EQ(blk_status(), 1);
    blk_request(0, ~0ull, kBuffers + 0x1000, 512, true);
    EXPECT_EQ(blk_status(), 1);
    EXPECT_EQ(reg(kStatus) & 0x40, 0u) << "an I/O error is not a protocol error";
}

TEST_F(VirtioTest, BlkReadOnly) {
    make_disk(4, true);
    make("virtio-blk-device", {{"drive", "d0"}});
    set(kDevFeaturesSel, 0);
    EXPECT_NE(reg(kDevFeatures) & (1u << 5), 0u);
    init_modern((1ull << 32) | (1 << 5));
    blk_request(1, 0, kBuffers + 0x1000, 512, false);
    EXPECT_EQ(blk_status(), 1);
}

TEST_F(VirtioTest, BlkWithoutDriveFailsRealize) {
    mmio = plugin->create("virtio-mmio");
    std::string err = plugin->try_create("virtio-blk-device", {});
    EXPECT_NE(err.find("drive"), std::string::npos) << err;
}

TEST_F(VirtioTest, DescriptorLoopNeedsReset) {
    make_disk(4);
    make("virtio-blk-device", {{"drive", "d0"}});
    init_modern(1ull << 32);
    // 0 -> 1 -> 0 -> ...
    poke<uint64_t>(kDescTable, kBuffers);
    poke<uint32_t>(kDescTable + 8, 16);
    poke<uint16_t>(kDescTable + 12, F_NEXT);
    poke<uint16_t>(kDescTable + 14, 1);
    poke<uint64_t>(kDescTable + 16, kBuffers);
    poke<uint32_t>(kDescTable + 24, 16);
    poke<uint16_t>(kDescTable + 28, F_NEXT);
    poke<uint16_t>(kDescTable + 30, 0);
    make_available(0);
    set(kQueueNotify, 0);
    EXPECT_EQ(reg(kStatus) & 0x40, 0x40u);
    EXPECT_EQ(reg(kIntStatus) & 2, 2u);
    EXPECT_TRUE(host->log_contains("loops"));
    EXPECT_EQ(used_idx(), 0u);
    // Further notifications are ignored until reset; reset clears it.
    set(kQueueNotify, 0);
    set(kStatus, 0);
    EXPECT_EQ(reg(kStatus), 0u);
    EXPECT_EQ(host->irq(mmio, "irq"), 0);
}

TEST_F(VirtioTest, MalformedChainsNeverCrash) {
    make_disk(4);
    make("virtio-blk-device", {{"drive", "d0"}});
    struct Case {
        const char *name;
        std::vector<Desc> chain;
        const char *log;
    };
    const Case cases[] = {
        {"buffer outside RAM", {{kBuffers, 16, 0}, {0x1000, 512, F_WRITE}, {kBuffers + 0x100, 1, F_WRITE}}, "cannot write"},
        {"header outside RAM", {{0x10, 16, 0}, {kBuffers + 0x100, 1, F_WRITE}}, "cannot read"},
        {"wrapping address", {{~0ull - 4, 16, 0}, {kBuffers + 0x100, 1, F_WRITE}}, "wraps"},
        {"short header", {{kBuffers, 8, 0}, {kBuffers + 0x100, 1, F_WRITE}}, "header"},
        {"no status byte", {{kBuffers, 16, 0}}, "status byte"},
        {"readable after writable", {{kBuffers + 0x100, 1, F_WRITE}, {kBuffers, 16, 0}}, "after a writable"},
        {"indirect", {{kBuffers, 16, 4}}, "indirect"},
    };
    for (const Case &c : cases) {
        SCOPED_TRACE(c.name);
        host->logs.clear();
        set(kStatus, 0);
        std::fill(host->ram.begin(), host->ram.begin() + 0x10000, 0);
        init_modern(1ull << 32);
        poke<uint32_t>(kBuffers, 0);
        add_chain(c.chain);
        set(kQueueNotify, 0);
        EXPECT_EQ(reg(kStatus) & 0x40, 0x40u);
        EXPECT_TRUE(host->log_contains(c.log));
    }
}

TEST_F(VirtioTest, IndirectDescriptors) {
    make_disk(8);
    make("virtio-blk-device", {{"drive", "d0"}});
    set(kDevFeaturesSel, 0);
    EXPECT_NE(reg(kDevFeatures) & (1u << 28), 0u);
    init_modern((1ull << 32) | (1ull << 28));
    constexpr uint64_t table = kBuffers + 0x8000;
    auto put = [&](uint64_t t, int i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next) {
        poke<uint64_t>(t + 16 * i, addr);
        poke<uint32_t>(t + 16 * i + 8, len);
        poke<uint16_t>(t + 16 * i + 12, flags);
        poke<uint16_t>(t + 16 * i + 14, next);
    };
    poke<uint32_t>(kBuffers, 0);
    poke<uint64_t>(kBuffers + 8, 2);
    put(table, 0, kBuffers, 16, F_NEXT, 1);
    put(table, 1, kBuffers + 0x1000, 512, F_WRITE | F_NEXT, 2);
    put(table, 2, kBuffers + 0x100, 1, F_WRITE, 0);
    add_chain({{table, 48, 4}});
    set(kQueueNotify, 0);
    ASSERT_EQ(used_idx(), 1u);
    EXPECT_EQ(blk_status(), 0);
    EXPECT_EQ(used_len(0), 513u);
    EXPECT_EQ(std::memcmp(ram(kBuffers + 0x1000), host->drive("d0").data.data() + 1024, 512), 0);

    // Nested tables, odd sizes and loops inside a table are protocol errors.
    struct Bad {
        uint32_t len;
        uint16_t inner_flags;
        uint16_t inner_next;
        const char *log;
    } bad[] = {
        {40, 0, 0, "indirect table of 40 bytes"},
        {48, 4, 0, "nested indirect"},
        {48, F_NEXT, 0, "indirect descriptor chain from 0 loops"},
        {48, F_NEXT, 7, "beyond its table"},
    };
    for (const Bad &b : bad) {
        SCOPED_TRACE(b.log);
        set(kStatus, 0);
        std::fill(host->ram.begin(), host->ram.begin() + 0x4000, 0);
        init_modern((1ull << 32) | (1ull << 28));
        put(table, 0, kBuffers, 16, b.inner_flags, b.inner_next);
        put(table, 1, kBuffers, 16, b.inner_flags, b.inner_next);
        put(table, 2, kBuffers, 16, b.inner_flags, b.inner_next);
        add_chain({{table, b.len, 4}});
        set(kQueueNotify, 0);
        EXPECT_EQ(reg(kStatus) & 0x40, 0x40u);
        EXPECT_TRUE(host->log_contains(b.log));
    }
}

TEST_F(VirtioTest, BadRingIndicesNeedReset) {
    make_disk(4);
    make("virtio-blk-device", {{"drive", "d0"}});
    init_modern(1ull << 32);
    poke<uint16_t>(kAvail + 4, 200);  // head beyond the queue
    poke<uint16_t>(kAvail + 2, 1);
    set(kQueueNotify, 0);
    EXPECT_TRUE(host->log_contains("beyond the queue size"));
    set(kStatus, 0);
    init_modern(1ull << 32);
    poke<uint16_t>(kAvail + 2, 50);  // idx jumped by more than the queue size
    set(kQueueNotify, 0);
    EXPECT_TRUE(host->log_contains("ahead"));
    // A chain whose next index is out of range.
    set(kStatus, 0);
    init_modern(1ull << 32);
    poke<uint64_t>(kDescTable, kBuffers);
    poke<uint32_t>(kDescTable + 8, 16);
    poke<uint16_t>(kDescTable + 12, F_NEXT);
    poke<uint16_t>(kDescTable + 14, 9);
    poke<uint16_t>(kAvail + 4, 0);
    poke<uint16_t>(kAvail + 2, 1);
    set(kQueueNotify, 0);
    EXPECT_TRUE(host->log_contains("links to 9"));
}

TEST_F(VirtioTest, QueueRegisterChecks) {
    make_disk(4);
    make("virtio-blk-device", {{"drive", "d0"}});
    set(kQueueSel, 1);
    EXPECT_EQ(reg(kQueueNumMax), 0u) << "blk has one queue";
    set(kQueueSel, 0);
    EXPECT_EQ(reg(kQueueNumMax), 256u);
    set(kQueueNum, 12);  // not a power of 2
    EXPECT_TRUE(host->log_contains("invalid queue size"));
    host->read(mmio, kMagic, 2);
    EXPECT_TRUE(host->log_contains("2-byte register read"));
}

TEST_F(VirtioTest, LegacyLayoutWorks) {
    make_disk(8);
    make("virtio-blk-device", {{"drive", "d0"}}, true);
    EXPECT_EQ(reg(kVersion), 1u);
    set(kDevFeaturesSel, 1);
    EXPECT_EQ(reg(kDevFeatures), 0u) << "no VERSION_1 in legacy mode";
    set(kStatus, 3);
    set(kGuestPageSize, 4096);
    set(kQueueSel, 0);
    set(kQueueNum, kNum);
    set(kQueueAlign, 4096);
    set(kQueuePfn, kDescTable >> 12);
    set(kStatus, 3 | 4);
    // Legacy: avail right after the descriptors, used at the next page.
    constexpr uint64_t avail = kDescTable + 16 * kNum, used = kDescTable + 0x1000;
    poke<uint32_t>(kBuffers, 0);
    poke<uint64_t>(kBuffers + 8, 1);
    const Desc chain[] = {{kBuffers, 16, 0}, {kBuffers + 0x1000, 512, F_WRITE}, {kBuffers + 0x100, 1, F_WRITE}};
    for (int i = 0; i < 3; i++) {
        poke<uint64_t>(kDescTable + 16 * i, chain[i].addr);
        poke<uint32_t>(kDescTable + 16 * i + 8, chain[i].len);
        poke<uint16_t>(kDescTable + 16 * i + 12, static_cast<uint16_t>(chain[i].flags | (i < 2 ? F_NEXT : 0)));
        poke<uint16_t>(kDescTable + 16 * i + 14, static_cast<uint16_t>(i + 1));
    }
    poke<uint16_t>(avail + 4, 0);
    poke<uint16_t>(avail + 2, 1);
    set(kQueueNotify, 0);
    EXPECT_EQ(peek<uint16_t>(used + 2), 1u);
    EXPECT_EQ(blk_status(), 0);
    EXPECT_EQ(std::memcmp(ram(kBuffers + 0x1000), host->drive("d0").data.data() + 512, 512), 0);
}

TEST_F(VirtioTest, RngFillsBuffers) {
    make("virtio-rng-device");
    EXPECT_EQ(reg(kDeviceId), 4u);
    init_modern(1ull << 32);
    add_chain({{kBuffers, 64, F_WRITE}});
    set(kQueueNotify, 0);
    ASSERT_EQ(used_idx(), 1u);
    EXPECT_EQ(used_len(0), 64u);
    int nonzero = 0;
    for (int i = 0; i < 64; i++) nonzero += *ram(kBuffers + i) != 0;
    EXPECT_GT(nonzero, 32);
}

TEST_F(VirtioTest, RngRateLimit) {
    make("virtio-rng-device", {{"max-bytes", "16"}, {"period", "1000"}});
    init_modern(1ull << 32);
    add_chain({{kBuffers, 64, F_WRITE}});
    set(kQueueNotify, 0);
    ASSERT_EQ(used_idx(), 1u);
    EXPECT_EQ(used_len(0), 16u);
    add_chain({{kBuffers + 0x100, 8, F_WRITE}}, 0, 1);
    set(kQueueNotify, 0);
    EXPECT_EQ(used_idx(), 1u) << "quota used up";
    host->advance(TS_CLOCK_VIRTUAL, 1'000'000'000);
    EXPECT_EQ(used_idx(), 2u);
    EXPECT_EQ(used_len(1), 8u);
}

TEST_F(VirtioTest, ConsoleTransmitAndReceive) {
    auto *serial = make("virtio-serial-device");
    EXPECT_EQ(reg(kDeviceId), 3u);
    EXPECT_EQ(serial->buses.size(), 1u);
    plugin->create_on_bus(serial, "virtconsole", {{"chardev", "con"}});
    auto &con = host->chardev("con");
    EXPECT_EQ(can_receive(con), 0u) << "driver not ready";
    init_modern(1ull << 32, 2);
    // Transmit queue 1.
    std::memcpy(ram(kBuffers), "hello", 5);
    add_chain({{kBuffers, 5, 0}}, 1);
    set(kQueueNotify, 1);
    EXPECT_EQ(con.output, "hello");
    // Receive queue 0: the guest posts a buffer, input lands in it.
    add_chain({{kBuffers + 0x100, 16, F_WRITE}}, 0);
    set(kQueueNotify, 0);
    EXPECT_EQ(can_receive(con), 16u);
    feed(con, "xy");
    ASSERT_EQ(used_idx(0), 1u);
    EXPECT_EQ(used_len(0, 0), 2u);
    EXPECT_EQ(std::string(reinterpret_cast<char *>(ram(kBuffers + 0x100)), 2), "xy");
    EXPECT_EQ(can_receive(con), 0u) << "no more buffers";
}

// Valid requests with random corruption of descriptors and rings: the device
// either completes the request or flags NEEDS_RESET, and never touches memory
// outside guest RAM or crashes (run under ASan to see the latter).
TEST_F(VirtioTest, CorruptedRingsNeverCrash) {
    make_disk(64);
    make("virtio-blk-device", {{"drive", "d0"}});
    std::mt19937_64 rng(1234);
    int resets = 0, completed = 0;
    for (int iter = 0; iter < 400; iter++) {
        set(kStatus, 0);
        std::fill(host->ram.begin(), host->ram.begin() + 0x10000, 0);
        init_modern((1ull << 32) | (1 << 9));
        const uint32_t types[] = {0, 1, 4, 8};
        poke<uint32_t>(kBuffers, types[rng() % 4]);
        poke<uint64_t>(kBuffers + 8, rng() % 80);
        uint32_t len = 512 * static_cast<uint32_t>(1 + rng() % 4);
        add_chain({{kBuffers, 16, 0}, {kBuffers + 0x1000, len, F_WRITE}, {kBuffers + 0x100, 1, F_WRITE}});
        // Corrupt a few bytes of the descriptor table or the avail ring.
        for (int n = static_cast<int>(rng() % 4); n > 0; n--) {
            uint64_t where = rng() % 2 ? kDescTable + rng() % (16 * 3) : kAvail + rng() % 8;
            *ram(where) = static_cast<uint8_t>(rng());
        }
        set(kQueueNotify, 0);
        if (reg(kStatus) & 0x40) resets++;
        else completed += used_idx();
    }
    EXPECT_GT(resets, 0);
    EXPECT_GT(completed, 0);
}

TEST_F(VirtioTest, SecondDeviceOnABusIsRefused) {
    make("virtio-rng-device");
    ts_object *rng2 = plugin->create("virtio-rng-device");
    ts_error err{};
    EXPECT_EQ(mmio->cls->plug(mmio->instance, rng2, &err), TS_ERROR);
    EXPECT_NE(std::string(err.message).find("already"), std::string::npos);
}

}  // namespace
