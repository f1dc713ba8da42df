#include "goldfish_rtc.hpp"

#include <tessera/sdk/regs.hpp>

namespace misc {

namespace {
constexpr ts::Reg<GoldfishRtc> kRegs[] = {
    ts::reg<&GoldfishRtc::rd_time_low, &GoldfishRtc::wr_time_low>(0x00, "TIME_LOW"),
    ts::reg<&GoldfishRtc::rd_time_high, &GoldfishRtc::wr_time_high>(0x04, "TIME_HIGH"),
    ts::reg<&GoldfishRtc::rd_alarm_low, &GoldfishRtc::wr_alarm_low>(0x08, "ALARM_LOW"),
    ts::reg<&GoldfishRtc::rd_alarm_high, &GoldfishRtc::wr_alarm_high>(0x0c, "ALARM_HIGH"),
    ts::reg<&GoldfishRtc::rd_irq_enabled, &GoldfishRtc::wr_irq_enabled>(0x10, "IRQ_ENABLED"),
    ts::reg<nullptr, &GoldfishRtc::wr_clear_alarm>(0x14, "CLEAR_ALARM"),
    ts::reg<&GoldfishRtc::rd_alarm_status, nullptr>(0x18, "ALARM_STATUS"),
    ts::reg<nullptr, &GoldfishRtc::wr_clear_interrupt>(0x1c, "CLEAR_INTERRUPT"),
};
}  // namespace

uint64_t GoldfishRtc::read(uint64_t offset, unsigned size) { return ts::reg_read(kRegs, *this, offset, size); }
void GoldfishRtc::write(uint64_t offset, unsigned size, uint64_t value) {
    ts::reg_write(kRegs, *this, offset, size, value);
}

uint64_t GoldfishRtc::now() const { return static_cast<uint64_t>(ts::host().clock_ns(TS_CLOCK_HOST)) + s.tick_offset; }
void GoldfishRtc::set_now(uint64_t t) { s.tick_offset += t - now(); }

// Reading the low half latches the high half, so a 64-bit read is consistent.
uint64_t GoldfishRtc::rd_time_low() {
    uint64_t t = now();
    s.time_high = static_cast<uint32_t>(t >> 32);
    return t & 0xffffffff;
}
void GoldfishRtc::wr_time_low(uint64_t v) { set_now((now() & ~0xffffffffull) | v); }
void GoldfishRtc::wr_time_high(uint64_t v) { set_now((now() & 0xffffffffull) | (v << 32)); }

void GoldfishRtc::wr_alarm_high(uint64_t v) { s.alarm_next = (s.alarm_next & 0xffffffffull) | (v << 32); }
// Writing the low half arms the alarm.
void GoldfishRtc::wr_alarm_low(uint64_t v) {
    s.alarm_next = (s.alarm_next & ~0xffffffffull) | v;
    rearm();
}

void GoldfishRtc::rearm() {
    if (s.alarm_next <= now()) {
        clear_alarm();
        s.irq_pending = 1;
        update_irq();
        return;
    }
    timer_.mod(static_cast<int64_t>(s.alarm_next - s.tick_offset));
    s.alarm_running = 1;
}

void GoldfishRtc::post_load() {
    if (s.alarm_running) rearm();
    update_irq();
}

void GoldfishRtc::clear_alarm() {
    timer_.del();
    s.alarm_running = 0;
}

void GoldfishRtc::on_alarm() {
    s.alarm_running = 0;
    s.irq_pending = 1;
    update_irq();
}

void GoldfishRtc::wr_irq_enabled(uint64_t v) {
    s.irq_enabled = v & 1;
    update_irq();
}
void GoldfishRtc::wr_clear_alarm(uint64_t) { clear_alarm(); }
void GoldfishRtc::wr_clear_interrupt(uint64_t) {
    s.irq_pending = 0;
    update_irq();
}

void GoldfishRtc::reset() {
    // The time offset survives a reset; alarm and interrupt state do not.
    clear_alarm();
    s.alarm_next = 0;
    s.irq_pending = 0;
    s.irq_enabled = 0;
    s.time_high = 0;
    update_irq();
}

void GoldfishRtc::realize() {
    irq_ = ts::gpio_out(object(), "irq", 1).at(0);
    timer_ = ts::Timer::make<&GoldfishRtc::on_alarm>(TS_CLOCK_HOST, this);
    static const ts_mmio_ops le_ops = ts::mmio_ops<GoldfishRtc>(4, 4);
    static const ts_mmio_ops be_ops = [] {
        ts_mmio_ops o = ts::mmio_ops<GoldfishRtc>(4, 4);
        o.big_endian = 1;
        return o;
    }();
    add_mmio(type_name, kSize, prop_bool("big-endian") ? be_ops : le_ops, this);
}

}  // namespace misc
