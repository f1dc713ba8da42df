// device-virtio.so: the virtio-mmio transport and the devices for its bus.
#include "blk/blk.hpp"
#include "console/console.hpp"
#include "mmio/mmio.hpp"
#include "net/net.hpp"
#include "rng/rng.hpp"

#include <cstddef>
#include <cstring>

namespace virtio {
namespace {

// ---- virtio-mmio -------------------------------------------------------------------

constexpr ts_prop_decl kMmioProps[] = {
    ts::prop_bool("force-legacy", "on", "legacy (version 1) register layout; the reference's default"),
};

using Q = VirtqueueState;
#define QUEUE_FIELDS(i)                                                                               \
    TS_FIELD(MmioState, queues[i].desc, TS_STATE_U64), TS_FIELD(MmioState, queues[i].avail, TS_STATE_U64), \
        TS_FIELD(MmioState, queues[i].used, TS_STATE_U64), TS_FIELD(MmioState, queues[i].num, TS_STATE_U32), \
        TS_FIELD(MmioState, queues[i].ready, TS_STATE_U32),                                          \
        TS_FIELD(MmioState, queues[i].last_avail, TS_STATE_U32),                                     \
        TS_FIELD(MmioState, queues[i].used_idx, TS_STATE_U32), TS_FIELD(MmioState, queues[i].pfn, TS_STATE_U32), \
        TS_FIELD(MmioState, queues[i].align, TS_STATE_U32)
static_assert(kMaxQueues == 8);
constexpr std::array kMmioFields = {
    QUEUE_FIELDS(0), QUEUE_FIELDS(1), QUEUE_FIELDS(2), QUEUE_FIELDS(3),
    QUEUE_FIELDS(4), QUEUE_FIELDS(5), QUEUE_FIELDS(6), QUEUE_FIELDS(7),
    TS_FIELD(MmioState, driver_features, TS_STATE_U64),
    TS_FIELD(MmioState, status, TS_STATE_U32),
    TS_FIELD(MmioState, device_features_sel, TS_STATE_U32),
    TS_FIELD(MmioState, driver_features_sel, TS_STATE_U32),
    TS_FIELD(MmioState, queue_sel, TS_STATE_U32),
    TS_FIELD(MmioState, interrupt_status, TS_STATE_U32),
    TS_FIELD(MmioState, guest_page_size, TS_STATE_U32),
    TS_FIELD(MmioState, config_generation, TS_STATE_U32),
};
constexpr ts_state_decl kMmioState = ts::state_decl("virtio-mmio", 1, kMmioFields, ts::post_load_hook<Mmio>);
const ts_device_class kMmioClass = ts::device_class<Mmio>(kMmioProps, &kMmioState, nullptr, false);

// ---- devices ------------------------------------------------------------------------------

constexpr ts_prop_decl kBlkProps[] = {
    ts::prop("drive", TS_PROP_DRIVE, nullptr, "block node"),
    ts::prop_str("serial", "", "disk serial number (GET_ID)"),
    // Firmware boot order; the riscv boards boot -kernel/-bios, as the
    // reference's do, so no firmware here reads it (management tools set it).
    ts::prop_int("bootindex", "-1", -1, 0xffff, "boot order among devices (-1: none)"),
};
const ts_device_class kBlkClass = ts::device_class<Blk>(kBlkProps, TS_STATE_NONE, "virtio-bus", true);

constexpr ts_prop_decl kRngProps[] = {
    ts::prop_uint("max-bytes", "9223372036854775807", 1, INT64_MAX, "bytes allowed per period"),
    ts::prop_uint("period", "65536", 1, 0xffffffff, "rate limit period (ms)"),
};
const ts_device_class kRngClass = ts::device_class<Rng>(kRngProps, TS_STATE_NONE, "virtio-bus", true);

constexpr ts_prop_decl kNetProps[] = {
    ts::prop("netdev", TS_PROP_NETDEV, nullptr, "the netdev backend"),
    ts::prop("mac", TS_PROP_MACADDR, nullptr, "MAC address (default 52:54:00:12:34:56, :57, ...)"),
    VIRTIO_NET_OFFLOAD_PROPS,
};
const ts_device_class kNetClass = ts::device_class<Net>(kNetProps, TS_STATE_NONE, "virtio-bus", true);

const ts_device_class kSerialClass = ts::device_class<VirtSerial>({}, TS_STATE_NONE, "virtio-bus", true);

constexpr ts_prop_decl kConsoleProps[] = {
    ts::prop("chardev", TS_PROP_CHARDEV, nullptr, "character device backend"),
    ts::prop_str("name", nullptr, "port name"),
    ts::prop_uint("nr", "4294967295", 0, 0xffffffff, "port number (only port 0 without multiport)"),
};
const ts_device_class kConsoleClass =
    ts::device_class<VirtConsole>(kConsoleProps, TS_STATE_NONE, "virtio-serial-bus", true);

constexpr ts::ClassEntry kClasses[] = {
    {"virtio-mmio", &kMmioClass},
    {"virtio-blk-device", &kBlkClass},
    {"virtio-rng-device", &kRngClass},
    {"virtio-net-device", &kNetClass},
    {"virtio-serial-device", &kSerialClass},
    {"virtconsole", &kConsoleClass},
};
const void *get_class(const char *name) { return ts::find_class(kClasses, name); }

// Instance pointers are the T* create() returned; convert per type.
template <class T>
virtio::Device *cast(void *p) {
    return static_cast<virtio::Device *>(static_cast<T *>(p));
}
struct DeviceCast {
    const char *type;
    virtio::Device *(*fn)(void *);
};
constexpr DeviceCast kCasts[] = {
    {Blk::type_name, cast<Blk>},
    {Rng::type_name, cast<Rng>},
    {Net::type_name, cast<Net>},
    {VirtSerial::type_name, cast<VirtSerial>},
};

}  // namespace

Device *as_virtio_device(ts_object *child) {
    const char *type = ts::host().object_type(child);
    for (const auto &c : kCasts)
        if (type && std::strcmp(type, c.type) == 0) return c.fn(ts::host().object_instance(child));
    return nullptr;
}

}  // namespace virtio

TESSERA_PLUGIN("device-virtio", "0.1.0",
               "type device virtio-mmio - board virtio MMIO transport\n"
               "type device virtio-blk-device - storage Virtio block device\n"
               "type device virtio-rng-device - misc Virtio random number generator\n"
               "type device virtio-net-device - network Virtio network device\n"
               "type device virtio-serial-device - misc Virtio serial bus (one console port)\n"
               "type device virtconsole - misc Virtio console port\n",
               virtio::get_class);
