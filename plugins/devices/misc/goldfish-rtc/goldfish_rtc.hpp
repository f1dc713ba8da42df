// Goldfish RTC (goldfish_rtc): nanoseconds of host wall-clock time with an
// offset the guest can set, and a one-shot alarm interrupt.
#pragma once

#include <tessera/sdk/device.hpp>

namespace misc {

struct GoldfishRtcState {
    uint64_t tick_offset;  // added to the host clock (ns)
    uint64_t alarm_next;
    uint32_t alarm_running;
    uint32_t irq_pending;
    uint32_t irq_enabled;
    uint32_t time_high;    // latched by a TIME_LOW read
};

class GoldfishRtc : public ts::Device {
public:
    static constexpr const char *type_name = "goldfish_rtc";
    static constexpr uint64_t kSize = 0x1000;
    GoldfishRtcState s{};

    explicit GoldfishRtc(ts_object *obj) : Device(obj) {}
    void realize();
    void reset();
    uint64_t read(uint64_t offset, unsigned size);
    void write(uint64_t offset, unsigned size, uint64_t value);

    uint64_t rd_time_low();
    uint64_t rd_time_high() { return s.time_high; }
    void wr_time_low(uint64_t v);
    void wr_time_high(uint64_t v);
    uint64_t rd_alarm_low() { return s.alarm_next & 0xffffffff; }
    uint64_t rd_alarm_high() { return s.alarm_next >> 32; }
    void wr_alarm_low(uint64_t v);
    void wr_alarm_high(uint64_t v);
    uint64_t rd_irq_enabled() { return s.irq_enabled; }
    void wr_irq_enabled(uint64_t v);
    void wr_clear_alarm(uint64_t);
    uint64_t rd_alarm_status() { return s.alarm_running; }
    void wr_clear_interrupt(uint64_t);

    // After a snapshot load: re-arm the alarm timer, restore the line.
    void post_load();
    void rearm();

private:
    uint64_t now() const;
    void set_now(uint64_t t);
    void clear_alarm();
    void on_alarm();
    void update_irq() { irq_.set(s.irq_pending && s.irq_enabled); }

    ts::IrqOut irq_;
    ts::Timer timer_;
};

}  // namespace misc
