// device-misc.so: the SiFive test finisher, the Goldfish RTC and the SiFive GPIO controller.
#include "goldfish-rtc/goldfish_rtc.hpp"
#include "sifive-gpio/sifive_gpio.hpp"
#include "sifive-test/sifive_test.hpp"

#include <cstddef>

namespace misc {
namespace {

const ts_device_class kTestClass = ts::device_class<SifiveTest>({}, TS_STATE_NONE, nullptr, false);

using R = GoldfishRtcState;
constexpr std::array kRtcFields = {
    TS_FIELD(R, tick_offset, TS_STATE_U64), TS_FIELD(R, alarm_next, TS_STATE_U64),
    TS_FIELD(R, alarm_running, TS_STATE_U32), TS_FIELD(R, irq_pending, TS_STATE_U32),
    TS_FIELD(R, irq_enabled, TS_STATE_U32), TS_FIELD(R, time_high, TS_STATE_U32),
};
constexpr ts_state_decl kRtcState = ts::state_decl("goldfish_rtc", 1, kRtcFields, ts::post_load_hook<GoldfishRtc>);
constexpr ts_prop_decl kRtcProps[] = {
    ts::prop_bool("big-endian", "off", "big-endian registers"),
};
const ts_device_class kRtcClass = ts::device_class<GoldfishRtc>(kRtcProps, &kRtcState, nullptr, false);

using G = SifiveGpioState;
constexpr std::array kGpioFields = {
    TS_FIELD(G, input_en, TS_STATE_U32), TS_FIELD(G, output_en, TS_STATE_U32), TS_FIELD(G, output_val, TS_STATE_U32),
    TS_FIELD(G, pue, TS_STATE_U32),      TS_FIELD(G, ds, TS_STATE_U32),        TS_FIELD(G, rise_ie, TS_STATE_U32),
    TS_FIELD(G, rise_ip, TS_STATE_U32),  TS_FIELD(G, fall_ie, TS_STATE_U32),   TS_FIELD(G, fall_ip, TS_STATE_U32),
    TS_FIELD(G, high_ie, TS_STATE_U32),  TS_FIELD(G, high_ip, TS_STATE_U32),   TS_FIELD(G, low_ie, TS_STATE_U32),
    TS_FIELD(G, low_ip, TS_STATE_U32),   TS_FIELD(G, iof_en, TS_STATE_U32),    TS_FIELD(G, iof_sel, TS_STATE_U32),
    TS_FIELD(G, out_xor, TS_STATE_U32),  TS_FIELD(G, in_level, TS_STATE_U32),  TS_FIELD(G, in_driven, TS_STATE_U32),
    TS_FIELD(G, last, TS_STATE_U32),
};
constexpr ts_state_decl kGpioState = ts::state_decl("sifive.gpio", 1, kGpioFields, ts::post_load_hook<SifiveGpio>);
constexpr ts_prop_decl kGpioProps[] = {
    ts::prop_uint("ngpio", "16", 1, 32, "number of pins (and of interrupt outputs)"),
};
const ts_device_class kGpioClass = ts::device_class<SifiveGpio>(kGpioProps, &kGpioState, nullptr, false);

constexpr ts::ClassEntry kClasses[] = {
    {"sifive.gpio", &kGpioClass},
    {"riscv.sifive.test", &kTestClass},
    {"goldfish_rtc", &kRtcClass},
};
const void *get_class(const char *name) { return ts::find_class(kClasses, name); }

}  // namespace
}  // namespace misc

TESSERA_PLUGIN("device-misc", "0.1.0",
               "type device riscv.sifive.test - board SiFive test finisher (poweroff, reset)\n"
               "type device goldfish_rtc - board Goldfish real-time clock\n"
               "type device sifive.gpio - board SiFive GPIO controller\n",
               misc::get_class);
