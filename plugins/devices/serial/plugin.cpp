// device-serial.so: properties, state declaration and the plugin descriptor.
#include "ns16550a.hpp"

#include <cstddef>

namespace serial {
namespace {

using S = Ns16550aState;

constexpr ts_prop_decl kProps[] = {
    ts::prop_uint("regshift", "0", 0, 4, "registers are 1 << regshift bytes apart"),
    ts::prop("chardev", TS_PROP_CHARDEV, nullptr, "character device backend"),
    ts::prop_uint("index", "0", 0, 255, "serial port number used when chardev is unset"),
};

constexpr std::array kFields = {
    TS_FIELD_N(S, rx, TS_STATE_BYTES, kFifoSize),
    TS_FIELD_N(S, tx, TS_STATE_BYTES, kFifoSize),
    TS_FIELD(S, rx_head, TS_STATE_U8),
    TS_FIELD(S, rx_count, TS_STATE_U8),
    TS_FIELD(S, tx_head, TS_STATE_U8),
    TS_FIELD(S, tx_count, TS_STATE_U8),
    TS_FIELD(S, divider, TS_STATE_U16),
    TS_FIELD(S, ier, TS_STATE_U8),
    TS_FIELD(S, fcr, TS_STATE_U8),
    TS_FIELD(S, lcr, TS_STATE_U8),
    TS_FIELD(S, mcr, TS_STATE_U8),
    TS_FIELD(S, lsr, TS_STATE_U8),
    TS_FIELD(S, msr, TS_STATE_U8),
    TS_FIELD(S, scr, TS_STATE_U8),
    TS_FIELD(S, thr_ipending, TS_STATE_U8),
    TS_FIELD(S, timeout_ipending, TS_STATE_U8),
};
constexpr ts_state_decl kState = ts::state_decl("ns16550a", 1, kFields, ts::post_load_hook<Ns16550a>);

const ts_device_class kClass = ts::device_class<Ns16550a>(kProps, &kState, nullptr, false);

constexpr ts::ClassEntry kClasses[] = {{"ns16550a", &kClass}};

const void *get_class(const char *name) { return ts::find_class(kClasses, name); }

}  // namespace
}  // namespace serial

TESSERA_PLUGIN("device-serial", "0.1.0",
               "type device ns16550a - board 16550A UART\n",
               serial::get_class);
