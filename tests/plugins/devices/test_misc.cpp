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

// ---- SiFive GPIO (the virt board's power button) ----

class GpioTest : public MiscTest {
protected:
    void SetUp() override {
        MiscTest::SetUp();
        gpio = plugin->create("sifive.gpio", {{"ngpio", "8"}});
    }
    static constexpr uint64_t kInputVal = 0x00, kInputEn = 0x04, kOutputEn = 0x08, kOutputVal = 0x0c,
                              kPue = 0x10, kRiseIe = 0x18, kRiseIp = 0x1c, kFallIp = 0x24, kHighIe = 0x28,
                              kHighIp = 0x2c, kOutXor = 0x40;
    ts_object *gpio = nullptr;
};

TEST_F(GpioTest, BoardDrivenPinIsReadOnlyWhenInputEnabled) {
    host->set_input(gpio, "in", 0, 1);
    EXPECT_EQ(host->read(gpio, kInputVal), 0u);   // input_en resets to 0
    host->write(gpio, kInputEn, 0xff);
    EXPECT_EQ(host->read(gpio, kInputVal), 1u);
    host->set_input(gpio, "in", 0, 0);
    EXPECT_EQ(host->read(gpio, kInputVal), 0u);
}

TEST_F(GpioTest, RisingEdgeLatchesAndInterruptsUntilCleared) {
    host->write(gpio, kInputEn, 0xff);
    host->write(gpio, kRiseIe, 1);
    EXPECT_EQ(host->irq(gpio, "irq", 0), 0);
    host->set_input(gpio, "in", 0, 1);   // press
    EXPECT_EQ(host->irq(gpio, "irq", 0), 1);
    host->set_input(gpio, "in", 0, 0);   // release: the edge stays latched
    EXPECT_EQ(host->read(gpio, kRiseIp) & 1, 1u);
    EXPECT_EQ(host->read(gpio, kFallIp) & 1, 1u);
    EXPECT_EQ(host->irq(gpio, "irq", 0), 1);
    host->write(gpio, kRiseIp, 1);        // write 1 to clear
    EXPECT_EQ(host->read(gpio, kRiseIp) & 1, 0u);
    EXPECT_EQ(host->irq(gpio, "irq", 0), 0);
    EXPECT_EQ(host->irq(gpio, "irq", 1), 0);
}

TEST_F(GpioTest, HighLevelPendingComesBackWhileTheLevelHolds) {
    host->write(gpio, kInputEn, 0xff);
    host->write(gpio, kHighIe, 4);
    host->set_input(gpio, "in", 2, 1);
    EXPECT_EQ(host->irq(gpio, "irq", 2), 1);
    host->write(gpio, kHighIp, 4);
    EXPECT_EQ(host->read(gpio, kHighIp) & 4, 4u);   // still high: set again
    host->set_input(gpio, "in", 2, 0);
    host->write(gpio, kHighIp, 4);
    EXPECT_EQ(host->irq(gpio, "irq", 2), 0);
}

TEST_F(GpioTest, OutputsPullUpsAndXor) {
    host->write(gpio, kInputEn, 0xff);
    host->write(gpio, kPue, 0x10);                  // floating pin 4 pulled up
    EXPECT_EQ(host->read(gpio, kInputVal), 0x10u);
    host->write(gpio, kOutputEn, 0x03);
    host->write(gpio, kOutputVal, 0x01);
    host->write(gpio, kOutXor, 0x02);
    EXPECT_EQ(host->read(gpio, kInputVal), 0x13u);  // pins 0 and 1 driven high, 4 pulled up
    host->set_input(gpio, "in", 0, 0);              // the board cannot override an output
    EXPECT_EQ(host->read(gpio, kInputVal) & 1, 1u);
}

TEST_F(GpioTest, RegistersHoldOnlyImplementedPins) {
    host->write(gpio, kInputEn, 0xffffffff);
    EXPECT_EQ(host->read(gpio, kInputEn), 0xffu);   // 8 pins
    host->read(gpio, 0x80);
    EXPECT_TRUE(host->log_contains("unknown register"));
}

}  // namespace
