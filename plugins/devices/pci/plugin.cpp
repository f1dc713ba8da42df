// device-pci.so: gpex-pcihost and virtio-{net,blk,rng}-pci.
#include "virtio_pci.hpp"

#include "../virtio/blk/blk.hpp"
#include "../virtio/net/net.hpp"
#include "../virtio/rng/rng.hpp"

#include <cstring>

namespace pci {

template <> uint32_t VirtioPciOf<virtio::Net>::pci_class() { return 0x020000; }  // ethernet
template <> uint32_t VirtioPciOf<virtio::Blk>::pci_class() { return 0x010000; }  // SCSI storage, as the reference
template <> uint32_t VirtioPciOf<virtio::Rng>::pci_class() { return 0x00ff00; }  // unclassified

namespace {

struct NetPci : VirtioPciOf<virtio::Net> {
    static constexpr const char *type_name = "virtio-net-pci";
    using VirtioPciOf::VirtioPciOf;
};
struct BlkPci : VirtioPciOf<virtio::Blk> {
    static constexpr const char *type_name = "virtio-blk-pci";
    using VirtioPciOf::VirtioPciOf;
};
struct RngPci : VirtioPciOf<virtio::Rng> {
    static constexpr const char *type_name = "virtio-rng-pci";
    using VirtioPciOf::VirtioPciOf;
};

#define PCI_PROPS ts::prop_str("addr", nullptr, "slot and function on the bus, SLOT[.FN]"), \
                  ts::prop_bool("multifunction", "off", "accepted for compatibility")

constexpr ts_prop_decl kGpexProps[] = {
    ts::prop_uint("ecam-size", "0x10000000", 0x100000, 0x10000000, "ECAM window size (1 MiB per bus)"),
    ts::prop_uint("mmio32-base", "0", 0, INT64_MAX, "32-bit memory window (PCI == CPU address)"),
    ts::prop_uint("mmio32-size", "0", 0, INT64_MAX, "32-bit memory window size"),
    ts::prop_uint("mmio64-base", "0", 0, INT64_MAX, "64-bit memory window"),
    ts::prop_uint("mmio64-size", "0", 0, INT64_MAX, "64-bit memory window size"),
    ts::prop_uint("pio-base", "0", 0, INT64_MAX, "CPU address of I/O port 0"),
    ts::prop_uint("pio-size", "0", 0, INT64_MAX, "I/O window size"),
};
constexpr std::array kGpexFields = {TS_FIELD_N(GpexState, root_config, TS_STATE_BYTES, kConfigSize)};
constexpr ts_state_decl kGpexState = ts::state_decl("gpex-pcihost", 1, kGpexFields, ts::post_load_hook<Gpex>,
                                                    ts::pre_save_hook<Gpex>);
const ts_device_class kGpexClass = ts::device_class<Gpex>(kGpexProps, &kGpexState, nullptr, false);

constexpr ts_prop_decl kNetProps[] = {
    ts::prop("netdev", TS_PROP_NETDEV, nullptr, "the netdev backend"),
    ts::prop("mac", TS_PROP_MACADDR, nullptr, "MAC address (default 52:54:00:12:34:56, :57, ...)"),
    VIRTIO_NET_OFFLOAD_PROPS,
    PCI_PROPS,
};
constexpr ts_prop_decl kBlkProps[] = {
    ts::prop("drive", TS_PROP_DRIVE, nullptr, "block node"),
    ts::prop_str("serial", "", "disk serial number (GET_ID)"),
    ts::prop_int("bootindex", "-1", -1, 0xffff, "boot order among devices (-1: none)"),
    PCI_PROPS,
};
constexpr ts_prop_decl kRngProps[] = {
    ts::prop_uint("max-bytes", "9223372036854775807", 1, INT64_MAX, "bytes allowed per period"),
    ts::prop_uint("period", "65536", 1, 0xffffffff, "rate limit period (ms)"),
    PCI_PROPS,
};
using S = VirtioPciState;
constexpr std::array kVirtioPciFields = {
    TS_FIELD_N(S, config, TS_STATE_BYTES, kConfigSize),
    // The ring state as one block: it is tessera's own layout either way.
    TS_FIELD_N(S, queues, TS_STATE_BYTES, sizeof(S::queues)),
    TS_FIELD_N(S, queue_vector, TS_STATE_U16, virtio::kMaxQueues),
    TS_FIELD(S, driver_features, TS_STATE_U64),
    TS_FIELD(S, dfselect, TS_STATE_U32),
    TS_FIELD(S, gfselect, TS_STATE_U32),
    TS_FIELD(S, queue_sel, TS_STATE_U16),
    TS_FIELD(S, config_vector, TS_STATE_U16),
    TS_FIELD(S, status, TS_STATE_U8),
    TS_FIELD(S, isr, TS_STATE_U8),
    TS_FIELD(S, generation, TS_STATE_U8),
    TS_FIELD(S, intx, TS_STATE_U8),
    TS_FIELD_N(S, msix_table, TS_STATE_BYTES, sizeof(S::msix_table)),
    TS_FIELD_N(S, msix_pba, TS_STATE_U64, 1),
};
template <class T>
constexpr ts_state_decl virtio_pci_state(const char *name) {
    return ts::state_decl(name, 1, kVirtioPciFields, ts::post_load_hook<T>, ts::pre_save_hook<T>);
}
constexpr ts_state_decl kNetState = virtio_pci_state<NetPci>("virtio-net-pci");
constexpr ts_state_decl kBlkState = virtio_pci_state<BlkPci>("virtio-blk-pci");
constexpr ts_state_decl kRngState = virtio_pci_state<RngPci>("virtio-rng-pci");
const ts_device_class kNetClass = ts::device_class<NetPci>(kNetProps, &kNetState, "pci-bus", true);
const ts_device_class kBlkClass = ts::device_class<BlkPci>(kBlkProps, &kBlkState, "pci-bus", true);
const ts_device_class kRngClass = ts::device_class<RngPci>(kRngProps, &kRngState, "pci-bus", true);

constexpr ts::ClassEntry kClasses[] = {
    {"gpex-pcihost", &kGpexClass},
    {"virtio-net-pci", &kNetClass},
    {"virtio-blk-pci", &kBlkClass},
    {"virtio-rng-pci", &kRngClass},
};
const void *get_class(const char *name) { return ts::find_class(kClasses, name); }

template <class T>
Function *cast(void *p) {
    return static_cast<Function *>(static_cast<T *>(p));
}
struct FnCast {
    const char *type;
    Function *(*fn)(void *);
};
constexpr FnCast kCasts[] = {
    {NetPci::type_name, cast<NetPci>},
    {BlkPci::type_name, cast<BlkPci>},
    {RngPci::type_name, cast<RngPci>},
};

}  // namespace

Function *as_function(ts_object *child) {
    const char *type = ts::host().object_type(child);
    for (const auto &c : kCasts)
        if (type && std::strcmp(type, c.type) == 0) return c.fn(ts::host().object_instance(child));
    return nullptr;
}

}  // namespace pci

TESSERA_PLUGIN("device-pci", "0.1.0",
               "type device gpex-pcihost - board generic PCIe host bridge (ECAM)\n"
               "type device virtio-net-pci - network Virtio network device (PCI)\n"
               "type device virtio-blk-pci - storage Virtio block device (PCI)\n"
               "type device virtio-rng-pci - misc Virtio random number generator (PCI)\n",
               pci::get_class);
