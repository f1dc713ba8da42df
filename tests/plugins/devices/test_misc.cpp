#include "device_test.hpp"

namespace {

class MiscTest : public DeviceTest {
protected:
    void SetUp() override { load(PLUGIN_MISC); }
};

TEST_F(MiscTest, SifiveTestPass) {
    auto *t = plugin->create("riscv.sifive.test");
    host->write(t, 0, 0x5555);
    ASSERT_EQ(host->shutdowns.size(), 1u);
    EXPECT_EQ(host->shutdowns[0], std::make_pair(TS_SHUTDOWN_GUEST_POWEROFF, 0));
}

TEST_F(MiscTest, SifiveTestFailCarriesExitCode) {
    auto *t = plugin->create("riscv.sifive.test");
    host->write(t, 0, (42u << 16) | 0x3333);
    ASSERT_EQ(host->shutdowns.size(), 1u);
    EXPECT_EQ(host->shutdowns[0], std::make_pair(TS_SHUTDOWN_GUEST_POWEROFF, 42));
}

TEST_F(MiscTest, SifiveTestReset) {
    auto *t = plugin->create("riscv.sifive.test");
    host->write(t, 0, 0x7777);
    EXPECT_EQ(host->resets, 1);
    EXPECT_TRUE(host->shutdowns.empty());
}

TEST_F(MiscTest, SifiveTestOtherWritesAreGuestErrors) {
    auto *t = plugin->create("riscv.sifive.test");
    host->write(t, 0, 0x1234);
    host->write(t, 8, 0x5555);
    EXPECT_TRUE(host->shutdowns.empty());
    EXPECT_EQ(host->resets, 0);
    EXPECT_TRUE(host->log_contains("not a finisher command"));
    EXPECT_EQ(host->read(t, 0), 0u);
}

class RtcTest : public MiscTest {
protected:
    void SetUp() override {
        MiscTest::SetUp();
        host->set_clock(TS_CLOCK_HOST, 1'700'000'000'000'000'000);
        rtc = plugin->create("goldfish_rtc");
    }
    uint64_t time() {
        uint64_t lo = host->read(rtc, 0x00);
        return (host->read(rtc, 0x04) << 32) | lo;
    }
    ts_object *rtc = nullptr;
};

TEST_F(RtcTest, TimeFollowsHostClock) {
    EXPECT_EQ(time(), 1'700'000'000'000'000'000u);
    host->advance(TS_CLOCK_HOST, 5);
    EXPECT_EQ(time(), 1'700'000'000'000'000'005u);
}

TEST_F(RtcTest, BigEndianProperty) {
    auto *be = plugin->create("goldfish_rtc", {{"big-endian", "on"}});
    EXPECT_EQ(be->regions.at(0)->ops.big_endian, 1);
    EXPECT_EQ(rtc->regions.at(0)->ops.big_endian, 0);
}

TEST_F(RtcTest, GuestCanSetTime) {
    host->write(rtc, 0x04, 0);
    host->write(rtc, 0x00, 1000);
    EXPECT_EQ(time(), 1000u);
    host->advance(TS_CLOCK_HOST, 10);
    EXPECT_EQ(time(), 1010u);
}

TEST_F(RtcTest, AlarmRaisesIrqWhenEnabled) {
    uint64_t at = time() + 1'000'000;
    host->write(rtc, 0x10, 1);
    host->write(rtc, 0x0c, at >> 32);
    host->write(rtc, 0x08, at & 0xffffffff);
    EXPECT_EQ(host->read(rtc, 0x18), 1u);
    host->advance(TS_CLOCK_HOST, 999'999);
    EXPECT_EQ(host->irq(rtc, "irq"), 0);
    host->advance(TS_CLOCK_HOST, 1);
    EXPECT_EQ(host->irq(rtc, "irq"), 1);
    EXPECT_EQ(host->read(rtc, 0x18), 0u);
    host->write(rtc, 0x1c, 1);
    EXPECT_EQ(host->irq(rtc, "irq"), 0);
}

TEST_F(RtcTest, AlarmInThePastFiresAtOnceAndClearAlarmCancels) {
    host->write(rtc, 0x10, 1);
    host->write(rtc, 0x0c, 0);
    host->write(rtc, 0x08, 5);
    EXPECT_EQ(host->irq(rtc, "irq"), 1);
    host->write(rtc, 0x1c, 1);
    uint64_t at = time() + 100;
    host->write(rtc, 0x0c, at >> 32);
    host->write(rtc, 0x08, at & 0xffffffff);
    host->write(rtc, 0x14, 1);
    host->advance(TS_CLOCK_HOST, 1000);
    EXPECT_EQ(host->irq(rtc, "irq"), 0);
}

}  // namespace
