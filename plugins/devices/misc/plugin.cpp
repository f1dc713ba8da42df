// device-misc.so: the SiFive test finisher and the Goldfish RTC.
#include "goldfish-rtc/goldfish_rtc.hpp"
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

constexpr ts::ClassEntry kClasses[] = {
    {"riscv.sifive.test", &kTestClass},
    {"goldfish_rtc", &kRtcClass},
};
const void *get_class(const char *name) { return ts::find_class(kClasses, name); }

}  // namespace
}  // namespace misc

TESSERA_PLUGIN("device-misc", "0.1.0",
               "type device riscv.sifive.test - board SiFive test finisher (poweroff, reset)\n"
               "type device goldfish_rtc - board Goldfish real-time clock\n",
               misc::get_class);
