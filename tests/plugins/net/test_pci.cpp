// The PCI config space logic (BAR sizing, capabilities), and gpex-pcihost
// with virtio-rng-pci through the fake host: ECAM, BAR mapping, INTx swizzle,
// the modern virtio-pci common configuration.
#include "../devices/device_test.hpp"
#include "config_space.hpp"

#include <cstring>

using namespace pci;

TEST(PciConfigSpace, Mem32BarSizingAndDecode) {
    ConfigSpace c;
    c.set_bar(1, {BarType::Mem32, 0x1000, false});
    c.write(kBar0 + 4, 4, 0xffffffff);
    EXPECT_EQ(c.read(kBar0 + 4, 4), 0xfffff000u) << "size readback";
    EXPECT_FALSE(c.bar_address(1)) << "sizing value is not decoded";
    c.write(kBar0 + 4, 4, 0x40001234);
    EXPECT_EQ(c.read(kBar0 + 4, 4), 0x40001000u) << "low bits below the size are not writable";
    EXPECT_FALSE(c.bar_address(1)) << "memory decode is off";
    c.write(kCommand, 2, kCmdMem);
    ASSERT_TRUE(c.bar_address(1));
    EXPECT_EQ(*c.bar_address(1), 0x40001000u);
}

TEST(PciConfigSpace, Mem64PrefetchBarTakesTwoSlots) {
    ConfigSpace c;
    c.set_bar(4, {BarType::Mem64, 0x4000, true});
    EXPECT_EQ(c.read(kBar0 + 16, 4), 0xcu);
    c.write(kBar0 + 16, 4, 0xffffffff);
    c.write(kBar0 + 20, 4, 0xffffffff);
    EXPECT_EQ(c.read(kBar0 + 16, 4), 0xffffc00cu);
    EXPECT_EQ(c.read(kBar0 + 20, 4), 0xffffffffu);
    c.write(kBar0 + 16, 4, 0);
    c.write(kBar0 + 20, 4, 4);
    c.write(kCommand, 2, kCmdMem);
    EXPECT_EQ(c.bar_address(4).value_or(0), 0x400000000ull);
}

TEST(PciConfigSpace, ReadOnlyIdentityAndCapabilityChain) {
    ConfigSpace c;
    c.set_ids(0x1af4, 0x1041, 1, 0x020000, 0x1af4, 0x1100);
    c.write(kVendorId, 4, 0);
    EXPECT_EQ(c.read(kVendorId, 4), 0x10411af4u);
    EXPECT_EQ(c.read(kClassProg, 3), 0x020000u);
    unsigned a = c.add_capability(0x11, 12), b = c.add_capability(0x09, 20);
    EXPECT_EQ(c.read(kStatus, 2) & kStatusCapList, kStatusCapList);
    EXPECT_EQ(c.read(kCapPtr, 1), a);
    EXPECT_EQ(c.read(a + 1, 1), b);
    EXPECT_EQ(c.read(b + 1, 1), 0u);
    EXPECT_EQ(b % 4, 0u);
    c.set_raw(b + 2, 1, 20);
    c.write(kCommand, 2, 0xffff);
    EXPECT_EQ(c.command(), kCmdIo | kCmdMem | kCmdMaster | kCmdIntxDisable);
    c.reset();
    EXPECT_EQ(c.command(), 0);
    EXPECT_EQ(c.read(b + 2, 1), 20u) << "device set-up survives reset";
}

namespace {

std::map<uint64_t, ts_region *> g_map;

class GpexTest : public DeviceTest {
protected:
    static constexpr uint64_t kRam = 0x80000000;
    void SetUp() override {
        load(PLUGIN_PCI);
        host->ram.assign(1 << 20, 0);
        host->ram_base = kRam;
        auto *h = const_cast<ts_host *>(host->table());
        g_map.clear();
        h->system_memory = [] { return static_cast<ts_region *>(nullptr); };
        h->region_add = [](ts_region *, uint64_t at, ts_region *r, int) { g_map[at] = r; };
        h->region_remove = [](ts_region *, ts_region *r) {
            std::erase_if(g_map, [&](auto &p) { return p.second == r; });
        };
        gpex = plugin->create("gpex-pcihost", {{"ecam-size", "268435456"},
                                               {"mmio32-base", "1073741824"}, {"mmio32-size", "1073741824"},
                                               {"mmio64-base", "17179869184"}, {"mmio64-size", "17179869184"},
                                               {"pio-base", "50331648"}, {"pio-size", "65536"}});
    }
    uint64_t cfg(unsigned devfn, unsigned reg, unsigned size = 4) {
        return host->read(gpex, uint64_t(devfn) << 12 | reg, size);
    }
    void cfg_set(unsigned devfn, unsigned reg, uint64_t v, unsigned size = 4) {
        host->write(gpex, uint64_t(devfn) << 12 | reg, v, size);
    }
    // The BAR 4 virtio structures once mapped at kBar4.
    static constexpr uint64_t kBar4 = 0x400000000;
    uint64_t bar_read(uint64_t off, unsigned size) {
        ts_region *r = g_map.at(kBar4);
        uint64_t v = 0;
        r->ops.read(r->opaque, off, size, &v);
        return v;
    }
    void bar_write(uint64_t off, uint64_t v, unsigned size) {
        ts_region *r = g_map.at(kBar4);
        r->ops.write(r->opaque, off, size, v);
    }
    ts_object *gpex = nullptr;
};

TEST_F(GpexTest, RootFunctionAndEmptySlots) {
    EXPECT_EQ(cfg(0, 0), 0x00081b36u);
    EXPECT_EQ(cfg(0, 8) >> 8, 0x060000u);
    EXPECT_EQ(cfg(8, 0), 0xffffffffu) << "no device in slot 1";
    EXPECT_EQ(cfg(8, 0, 2), 0xffffu);
}

TEST_F(GpexTest, VirtioPciIdentityBarMappingAndIntx) {
    plugin->create_on_bus(gpex, "virtio-rng-pci", {{"addr", "3"}});
    const unsigned fn = 3 << 3;
    EXPECT_EQ(cfg(fn, 0), 0x10441af4u);
    EXPECT_EQ(cfg(fn, 0x2c), 0x11001af4u);
    EXPECT_EQ(cfg(fn, 0x3d, 1), 1u) << "INTA";
    // Size and place BAR 4 (64-bit), then enable memory decode.
    cfg_set(fn, 0x20, 0xffffffff);
    cfg_set(fn, 0x24, 0xffffffff);
    EXPECT_EQ(cfg(fn, 0x20), 0xffffc00cu);
    EXPECT_TRUE(g_map.empty());
    cfg_set(fn, 0x20, 0);
    cfg_set(fn, 0x24, 4);
    cfg_set(fn, 0x04, 0x6, 2);
    ASSERT_EQ(g_map.count(kBar4), 1u);
    // Modern common configuration: queue 0 of 1, VERSION_1 offered.
    EXPECT_EQ(bar_read(0x12, 2), 1u);
    bar_write(0x00, 1, 4);
    EXPECT_EQ(bar_read(0x04, 4) & 1, 1u) << "VERSION_1";
    EXPECT_EQ(bar_read(0x18, 2), 256u) << "queue size starts at the maximum";
    // Driver set-up with one buffer, then notify: used buffer -> ISR -> INTx.
    bar_write(0x14, 3, 1);
    bar_write(0x08, 1, 4);
    bar_write(0x0c, 1, 4);
    bar_write(0x14, 11, 1);
    EXPECT_EQ(bar_read(0x14, 1), 11u) << "FEATURES_OK kept";
    bar_write(0x16, 0, 2);
    bar_write(0x18, 8, 2);
    bar_write(0x20, kRam, 4);
    bar_write(0x24, 0, 4);
    bar_write(0x28, kRam + 0x1000, 8);
    bar_write(0x30, kRam + 0x2000, 8);
    bar_write(0x1c, 1, 2);
    bar_write(0x14, 15, 1);
    auto poke16 = [&](uint64_t a, uint16_t v) { std::memcpy(host->ram.data() + (a - kRam), &v, 2); };
    uint8_t d[16] = {};
    uint64_t buf = kRam + 0x8000;
    uint32_t len = 16;
    uint16_t flags = 2;  // device writes
    std::memcpy(d, &buf, 8);
    std::memcpy(d + 8, &len, 4);
    std::memcpy(d + 12, &flags, 2);
    std::memcpy(host->ram.data(), d, 16);
    poke16(kRam + 0x1000 + 4, 0);
    poke16(kRam + 0x1000 + 2, 1);
    bar_write(0x3000 + 4 * bar_read(0x1e, 2), 0, 2);
    uint16_t used;
    std::memcpy(&used, host->ram.data() + 0x2002, 2);
    EXPECT_EQ(used, 1);
    // Slot 3, INTA: line (3 + 0) % 4 = 3.
    EXPECT_EQ(host->irq(gpex, "irq", 3), 1);
    EXPECT_EQ(host->irq(gpex, "irq", 0), 0);
    // INTx disable masks it; reading the ISR acknowledges it.
    cfg_set(fn, 0x04, 0x406, 2);
    EXPECT_EQ(host->irq(gpex, "irq", 3), 0);
    cfg_set(fn, 0x04, 0x006, 2);
    EXPECT_EQ(host->irq(gpex, "irq", 3), 1);
    EXPECT_EQ(bar_read(0x1000, 1), 1u);
    EXPECT_EQ(host->irq(gpex, "irq", 3), 0);
    // Memory decode off unmaps the BAR.
    cfg_set(fn, 0x04, 0, 2);
    EXPECT_TRUE(g_map.empty());
}

TEST_F(GpexTest, AddressPropertyAndSlotConflicts) {
    plugin->create_on_bus(gpex, "virtio-rng-pci");
    EXPECT_EQ(cfg(1 << 3, 0), 0x10441af4u) << "first free slot is 1";
    ts_object *b = plugin->create("virtio-rng-pci", {{"addr", "1"}});
    ts_error err{};
    EXPECT_EQ(gpex->cls->plug(gpex->instance, b, &err), TS_ERROR);
    EXPECT_NE(std::string(err.message).find("in use"), std::string::npos) << err.message;
    ts_object *c = plugin->create("virtio-rng-pci", {{"addr", "0x20"}});
    EXPECT_EQ(gpex->cls->plug(gpex->instance, c, &err), TS_ERROR);
    EXPECT_NE(std::string(err.message).find("addr"), std::string::npos) << err.message;
}

}  // namespace
