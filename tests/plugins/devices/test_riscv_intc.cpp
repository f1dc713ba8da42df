#include "device_test.hpp"

namespace {

// Virt-style PLIC offsets.
constexpr uint64_t kPending = 0x1000, kEnable = 0x2000, kEnableStride = 0x80, kContext = 0x200000,
                   kContextStride = 0x1000;

class PlicTest : public DeviceTest {
protected:
    void SetUp() override {
        load(PLUGIN_RISCV_INTC);
        plic = plugin->create("riscv.sifive.plic", {{"num-sources", "96"}, {"hart-config", "MS,MS"}});
    }
    void priority(unsigned src, uint32_t p) { host->write(plic, 4 * src, p); }
    void enable(unsigned ctx, unsigned src, bool on = true) {
        uint64_t off = kEnable + ctx * kEnableStride + (src / 32) * 4;
        uint64_t v = host->read(plic, off);
        v = on ? (v | (1u << (src % 32))) : (v & ~(1u << (src % 32)));
        host->write(plic, off, v);
    }
    void threshold(unsigned ctx, uint32_t t) { host->write(plic, kContext + ctx * kContextStride, t); }
    uint32_t claim(unsigned ctx) { return static_cast<uint32_t>(host->read(plic, kContext + ctx * kContextStride + 4)); }
    void complete(unsigned ctx, uint32_t src) { host->write(plic, kContext + ctx * kContextStride + 4, src); }
    int ctx_irq(unsigned ctx) { return host->irq(plic, "ctx", static_cast<int>(ctx)); }
    void line(unsigned src, int level) { host->set_input(plic, "irq", static_cast<int>(src), level); }

    ts_object *plic = nullptr;
};

TEST_F(PlicTest, LayoutFromHartConfig) {
    EXPECT_EQ(plic->outs.at("ctx").size(), 4u);
    EXPECT_EQ(plic->ins.at("irq").count, 96);
    EXPECT_EQ(plic->regions.at(0)->size, kContext + 4 * kContextStride);
}

TEST_F(PlicTest, BadHartConfigIsAClearError) {
    std::string err = plugin->try_create("riscv.sifive.plic", {{"hart-config", "MX"}});
    EXPECT_NE(err.find("invalid mode 'X'"), std::string::npos) << err;
}

TEST_F(PlicTest, PriorityBaseAddressesSourceOne) {
    auto *p = plugin->create("riscv.sifive.plic", {{"priority-base", "16"}, {"num-sources", "8"}});
    host->write(p, 16, 3);  // source 1
    host->write(p, 12, 3);  // source 0: reserved
    EXPECT_EQ(host->read(p, 16), 3u);
    EXPECT_EQ(host->read(p, 12), 0u);
    EXPECT_NE(plugin->try_create("riscv.sifive.plic", {{"priority-base", "0"}}).find("at least 4"), std::string::npos);
}

TEST_F(PlicTest, PriorityWindowReachesRiscvNdev) {
    priority(96, 1);  // Linux programs sources 1..riscv,ndev (96 on the reference's virt)
    EXPECT_EQ(host->read(plic, 4 * 96), 1u);
    EXPECT_FALSE(host->log_contains("unknown register"));
}

TEST_F(PlicTest, PriorityRegistersAreWarl) {
    priority(10, 0xffffffff);
    EXPECT_EQ(host->read(plic, 40), 7u);
    priority(0, 5);
    EXPECT_EQ(host->read(plic, 0), 0u) << "source 0 does not exist";
}

TEST_F(PlicTest, ClaimCompleteCycle) {
    priority(10, 1);
    enable(0, 10);
    line(10, 1);
    EXPECT_EQ(host->read(plic, kPending) & (1u << 10), 1u << 10);
    EXPECT_EQ(ctx_irq(0), 1);
    EXPECT_EQ(ctx_irq(1), 0) << "not enabled for the S context";
    EXPECT_EQ(claim(0), 10u);
    EXPECT_EQ(ctx_irq(0), 0);
    EXPECT_EQ(host->read(plic, kPending) & (1u << 10), 0u);
    EXPECT_EQ(claim(0), 0u) << "nothing else pending";
    line(10, 0);
    complete(0, 10);
    EXPECT_EQ(ctx_irq(0), 0);
}

TEST_F(PlicTest, LevelStillHighAfterCompleteRetriggers) {
    priority(5, 2);
    enable(0, 5);
    line(5, 1);
    EXPECT_EQ(claim(0), 5u);
    EXPECT_EQ(ctx_irq(0), 0);
    complete(0, 5);
    EXPECT_EQ(ctx_irq(0), 1);
    EXPECT_EQ(claim(0), 5u);
}

TEST_F(PlicTest, HighestPriorityFirstLowestIdOnTies) {
    for (unsigned s : {3u, 4u, 40u}) enable(0, s), line(s, 1);
    priority(3, 1);
    priority(4, 1);
    priority(40, 3);
    EXPECT_EQ(claim(0), 40u);
    EXPECT_EQ(claim(0), 3u);
    EXPECT_EQ(claim(0), 4u);
}

TEST_F(PlicTest, ThresholdMasks) {
    priority(7, 2);
    enable(0, 7);
    line(7, 1);
    threshold(0, 2);
    EXPECT_EQ(ctx_irq(0), 0) << "priority must exceed the threshold";
    EXPECT_EQ(claim(0), 0u);
    threshold(0, 1);
    EXPECT_EQ(ctx_irq(0), 1);
}

TEST_F(PlicTest, EnablesArePerContext) {
    priority(33, 1);
    enable(3, 33);  // hart 1, S mode
    line(33, 1);
    EXPECT_EQ(ctx_irq(0), 0);
    EXPECT_EQ(ctx_irq(2), 0);
    EXPECT_EQ(ctx_irq(3), 1);
    EXPECT_EQ(claim(2), 0u);
    EXPECT_EQ(claim(3), 33u);
    complete(0, 33);  // not enabled in context 0: ignored
    line(33, 0);
    complete(3, 33);
    EXPECT_EQ(ctx_irq(3), 0);
}

TEST_F(PlicTest, EnableBitZeroAndUnimplementedSourcesReadZero) {
    host->write(plic, kEnable, 0xffffffff);
    EXPECT_EQ(host->read(plic, kEnable), 0xfffffffeu);
    host->write(plic, kEnable + 8, 0xffffffff);
    EXPECT_EQ(host->read(plic, kEnable + 8), 0xffffffffu);  // sources 64..95
    host->write(plic, kEnable + 12, 0xffffffff);
    EXPECT_EQ(host->read(plic, kEnable + 12), 0u);
}

TEST_F(PlicTest, PendingIsReadOnly) {
    host->write(plic, kPending, 0xffffffff);
    EXPECT_EQ(host->read(plic, kPending), 0u);
    EXPECT_TRUE(host->log_contains("read-only"));
}

class AclintTest : public DeviceTest {
protected:
    void SetUp() override {
        load(PLUGIN_RISCV_INTC);
        host->add_cpus(2);
    }
};

TEST_F(AclintTest, MswiDrivesMsipPerHart) {
    auto *swi = plugin->create("riscv.aclint.swi", {{"num-harts", "2"}});
    EXPECT_EQ(swi->regions.at(0)->size, 0x4000u);
    host->write(swi, 4, 0xffffffff);
    EXPECT_EQ(host->read(swi, 4), 1u);
    EXPECT_EQ(host->irq(swi, "msip", 0), 0);
    EXPECT_EQ(host->irq(swi, "msip", 1), 1);
    host->write(swi, 4, 0);
    EXPECT_EQ(host->irq(swi, "msip", 1), 0);
}

// loadvm drives every line to its saved level behind the device's back; a
// guest write after that must still reach the line (an output that skipped
// "unchanged" levels left a restored MSIP high for ever: OpenSBI spun on it).
TEST_F(AclintTest, LinesFollowWritesAfterTheKernelDroveThem) {
    auto *swi = plugin->create("riscv.aclint.swi", {{"num-harts", "2"}});
    swi->outs.at("msip").at(1)->level = 1;  // as loadvm restores it
    host->write(swi, 4, 0);
    EXPECT_EQ(host->irq(swi, "msip", 1), 0);
}

TEST_F(AclintTest, MtimeCountsAtTimebase) {
    auto *mt = plugin->create("riscv.aclint.mtimer", {{"num-harts", "2"}});
    EXPECT_EQ(mt->regions.at(0)->size, 0x8000u);
    EXPECT_EQ(host->read(mt, 0x7ff8, 8), 0u);
    host->advance(TS_CLOCK_VIRTUAL, 1'000'000);  // 1 ms at 10 MHz
    EXPECT_EQ(host->read(mt, 0x7ff8, 8), 10000u);
    EXPECT_EQ(host->read(mt, 0x7ff8, 4), 10000u);
    EXPECT_EQ(host->read(mt, 0x7ffc, 4), 0u);
    host->write(mt, 0x7ff8, 0x100000000ull, 8);
    EXPECT_EQ(host->read(mt, 0x7ffc, 4), 1u);
}

TEST_F(AclintTest, TimerFiresAtTheRightVirtualTime) {
    auto *mt = plugin->create("riscv.aclint.mtimer", {{"num-harts", "2"}});
    host->write(mt, 8, 1000, 8);  // hart 1: 1000 ticks = 100 us
    host->write(mt, 0, ~0ull, 8);
    EXPECT_EQ(host->irq(mt, "mtip", 1), 0);
    host->advance(TS_CLOCK_VIRTUAL, 99'999);
    EXPECT_EQ(host->irq(mt, "mtip", 1), 0);
    host->advance(TS_CLOCK_VIRTUAL, 1);
    EXPECT_EQ(host->irq(mt, "mtip", 1), 1);
    EXPECT_EQ(host->irq(mt, "mtip", 0), 0);
    // Moving mtimecmp into the future lowers MTIP; halves can be written.
    host->write(mt, 12, 1, 4);
    EXPECT_EQ(host->read(mt, 8, 8), 0x1000003e8ull);
    EXPECT_EQ(host->irq(mt, "mtip", 1), 0);
}

TEST_F(AclintTest, InstallsTimeSourceIntoCpus) {
    plugin->create("riscv.aclint.mtimer", {{"num-harts", "2"}, {"timebase-frequency", "1000000"}});
    ASSERT_NE(host->cpus[1]->read_time, nullptr);
    EXPECT_EQ(host->cpus[1]->timebase_hz, 1000000u);
    host->advance(TS_CLOCK_VIRTUAL, 5'000);
    EXPECT_EQ(host->cpus[0]->time(), 5u);
}

TEST_F(AclintTest, TimebaseFreqIsTheReferenceName) {
    auto *mt = plugin->create("riscv.aclint.mtimer", {{"timebase-freq", "1000"}});
    host->advance(TS_CLOCK_VIRTUAL, 3'000'000);
    EXPECT_EQ(host->read(mt, 0x7ff8, 8), 3u);
    EXPECT_NE(plugin->try_create("riscv.aclint.swi", {{"sswi", "1"}}).find("not supported"), std::string::npos);
}

TEST_F(AclintTest, SifiveClintLayout) {
    auto *clint = plugin->create("riscv.sifive.clint", {{"num-harts", "2"}});
    EXPECT_EQ(clint->regions.at(0)->size, 0x10000u);
    host->write(clint, 0, 1);
    EXPECT_EQ(host->irq(clint, "msip", 0), 1);
    host->advance(TS_CLOCK_VIRTUAL, 200);
    EXPECT_EQ(host->read(clint, 0xbff8, 8), 2u);
    host->write(clint, 0x4008, 5, 8);
    EXPECT_EQ(host->irq(clint, "mtip", 1), 0);
    host->advance(TS_CLOCK_VIRTUAL, 300);
    EXPECT_EQ(host->irq(clint, "mtip", 1), 1);
}

TEST_F(AclintTest, ResetClearsMtime) {
    auto *mt = plugin->create("riscv.aclint.mtimer");
    host->advance(TS_CLOCK_VIRTUAL, 1'000'000);
    mt->cls->base.reset(mt->instance);
    EXPECT_EQ(host->read(mt, 0x7ff8, 8), 0u);
}

}  // namespace
