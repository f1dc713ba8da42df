#include "device_test.hpp"

namespace {

enum : uint64_t { RBR = 0, THR = 0, IER = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

class SerialTest : public DeviceTest {
protected:
    void SetUp() override {
        load(PLUGIN_SERIAL);
        uart = plugin->create("ns16550a");
    }
    uint64_t rd(uint64_t reg) { return host->read(uart, reg, 1); }
    void wr(uint64_t reg, uint64_t v) { host->write(uart, reg, v, 1); }
    int irq() { return host->irq(uart, "irq"); }
    ts_chardev_fe &line() { return host->serial(0); }

    ts_object *uart = nullptr;
};

TEST_F(SerialTest, ManifestNamesTheType) {
    EXPECT_NE(std::string(plugin->descriptor()->manifest).find("type device ns16550a - board"), std::string::npos);
    EXPECT_EQ(plugin->device_class("nope"), nullptr);
}

TEST_F(SerialTest, ResetValues) {
    EXPECT_EQ(rd(IIR), 0x01u);
    EXPECT_EQ(rd(LSR), 0x60u);
    EXPECT_EQ(rd(MSR), 0xb0u);
    EXPECT_EQ(rd(MCR), 0x08u);
    EXPECT_EQ(irq(), 0);
}

TEST_F(SerialTest, TransmitGoesToSerialPortZero) {
    for (char c : std::string("hi\n")) wr(THR, static_cast<uint8_t>(c));
    EXPECT_EQ(line().output, "hi\n");
    EXPECT_EQ(rd(LSR) & 0x60, 0x60u);
}

TEST_F(SerialTest, ChardevPropertyWins) {
    auto *u2 = plugin->create("ns16550a", {{"chardev", "c1"}});
    host->write(u2, THR, 'x', 1);
    EXPECT_EQ(host->chardev("c1").output, "x");
    EXPECT_EQ(line().output, "");
}

TEST_F(SerialTest, ReceiveWithoutFifoRaisesDataReady) {
    wr(IER, 0x01);
    EXPECT_EQ(can_receive(line()), 1u);
    feed(line(), "a");
    EXPECT_EQ(can_receive(line()), 0u);
    EXPECT_EQ(rd(LSR) & 0x01, 0x01u);
    EXPECT_EQ(irq(), 1);
    EXPECT_EQ(rd(IIR), 0x04u);
    EXPECT_EQ(rd(RBR), uint64_t('a'));
    EXPECT_EQ(irq(), 0);
    EXPECT_EQ(rd(LSR) & 0x01, 0u);
    EXPECT_GT(line().accept_input_calls, 0);
}

TEST_F(SerialTest, OverrunSetsLsrAndLineStatusInterrupt) {
    wr(IER, 0x04);
    feed(line(), "ab");  // the second byte overruns the holding register
    EXPECT_EQ(irq(), 1);
    EXPECT_EQ(rd(IIR), 0x06u);
    EXPECT_EQ(rd(LSR) & 0x03, 0x03u);
    EXPECT_EQ(rd(LSR) & 0x02, 0u) << "OE clears on read";
    EXPECT_EQ(irq(), 0);
}

TEST_F(SerialTest, FifoTriggerLevelAndTimeout) {
    wr(FCR, 0x81);  // FIFO on, trigger 8
    wr(IER, 0x01);
    EXPECT_EQ(can_receive(line()), 16u);
    feed(line(), "1234567");
    EXPECT_EQ(irq(), 0) << "below the trigger level";
    EXPECT_EQ(rd(IIR), 0xc1u);
    host->advance(TS_CLOCK_VIRTUAL, 10'000'000);  // > 4 chars at 9600 baud
    EXPECT_EQ(irq(), 1);
    EXPECT_EQ(rd(IIR), 0xccu);
    std::string got;
    while (rd(LSR) & 0x01) got += static_cast<char>(rd(RBR));
    EXPECT_EQ(got, "1234567");
    EXPECT_EQ(irq(), 0);
    feed(line(), "abcdefgh");
    EXPECT_EQ(irq(), 1);
    EXPECT_EQ(rd(IIR), 0xc4u);
}

TEST_F(SerialTest, FifoHoldsSixteenThenOverruns) {
    wr(FCR, 0x01);
    feed(line(), std::string(20, 'z'));
    EXPECT_EQ(can_receive(line()), 0u);
    EXPECT_EQ(rd(LSR) & 0x03, 0x03u);
    int n = 0;
    while (rd(LSR) & 0x01) rd(RBR), n++;
    EXPECT_EQ(n, 16);
    wr(FCR, 0x03);  // clearing RX works too
    EXPECT_EQ(can_receive(line()), 16u);
}

TEST_F(SerialTest, ThreInterruptAndIirAcknowledge) {
    wr(IER, 0x02);
    EXPECT_EQ(irq(), 1);
    EXPECT_EQ(rd(IIR), 0x02u);
    EXPECT_EQ(irq(), 0) << "reading IIR acknowledges THRE";
    EXPECT_EQ(rd(IIR), 0x01u);
    wr(THR, 'q');
    EXPECT_EQ(irq(), 1) << "THR empty again after sending";
}

TEST_F(SerialTest, TogglingIerRearmsThre) {
    wr(IER, 0x02);
    rd(IIR);
    EXPECT_EQ(irq(), 0);
    wr(IER, 0x00);
    wr(IER, 0x02);
    EXPECT_EQ(irq(), 1);
}

TEST_F(SerialTest, InterruptPriorityLineStatusBeforeData) {
    wr(IER, 0x07);
    feed(line(), "ab");
    EXPECT_EQ(rd(IIR), 0x06u);
    rd(LSR);
    EXPECT_EQ(rd(IIR), 0x04u);
    rd(RBR);
    EXPECT_EQ(rd(IIR), 0x02u);
}

TEST_F(SerialTest, LoopbackEchoesAndMapsModemLines) {
    wr(MCR, 0x10 | 0x02 | 0x01);
    EXPECT_EQ(can_receive(line()), 0u);
    wr(THR, 'L');
    EXPECT_EQ(line().output, "");
    EXPECT_EQ(rd(LSR) & 0x01, 1u);
    EXPECT_EQ(rd(RBR), uint64_t('L'));
    uint64_t msr = rd(MSR);
    EXPECT_EQ(msr & 0xf0, 0x30u) << "CTS from RTS, DSR from DTR";
    EXPECT_EQ(rd(MSR) & 0x0f, 0u) << "deltas clear on read";
    wr(MCR, 0x10 | 0x08);
    EXPECT_EQ(rd(MSR), 0x80u | 0x01 | 0x02 | 0x08);
    wr(MCR, 0x08);
    EXPECT_EQ(rd(MSR) & 0xf0, 0xb0u);
}

TEST_F(SerialTest, DivisorLatch) {
    wr(LCR, 0x83);
    wr(0, 0x01);
    wr(1, 0x02);
    EXPECT_EQ(rd(0), 0x01u);
    EXPECT_EQ(rd(1), 0x02u);
    wr(LCR, 0x03);
    EXPECT_EQ(rd(IER), 0u);
    EXPECT_EQ(rd(LCR), 0x03u);
    wr(SCR, 0x5a);
    EXPECT_EQ(rd(SCR), 0x5au);
}

TEST_F(SerialTest, RegshiftSpacesRegisters) {
    auto *u = plugin->create("ns16550a", {{"regshift", "2"}, {"index", "1"}});
    EXPECT_EQ(u->regions.at(0)->size, 32u);
    EXPECT_EQ(host->read(u, LSR << 2, 4), 0x60u);
    host->write(u, THR << 2, 'w', 4);
    EXPECT_EQ(host->serial(1).output, "w");
}

TEST_F(SerialTest, BackpressureKeepsBytesUntilTheBackendTakesThem) {
    wr(FCR, 0x01);
    line().accept_budget = 0;
    wr(THR, 'a');
    wr(THR, 'b');
    EXPECT_EQ(rd(LSR) & 0x60, 0u);
    line().accept_budget = SIZE_MAX;
    host->advance(TS_CLOCK_VIRTUAL, 5'000'000);
    EXPECT_EQ(line().output, "ab");
    EXPECT_EQ(rd(LSR) & 0x60, 0x60u);
}

TEST_F(SerialTest, UnknownOffsetsAreHarmless) {
    EXPECT_EQ(host->read(uart, 7, 1), 0u);  // SCR, fine
    wr(LSR, 0xff);
    EXPECT_TRUE(host->log_contains("read-only"));
}

}  // namespace
