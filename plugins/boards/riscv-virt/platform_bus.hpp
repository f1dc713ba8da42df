// The platform bus: where user-created MMIO devices go on `virt`
// (`-device T[,addr=A]`), as the reference's platform-bus window. A device on
// it exports its registers as region 0 and may declare an `addr` property
// (a guest physical address inside the window); its `irq` output line 0 is
// wired to the next free PLIC source of the bus's range.
#pragma once

#include <tessera/sdk/device.hpp>

#include <cstdint>
#include <vector>

namespace virt {

constexpr const char *kPlatformBusType = "platform-bus";

struct PlatformBus : ts::Device {
    static constexpr const char *type_name = "platform-bus-device";
    explicit PlatformBus(ts_object *o) : Device(o) {}

    // Set by the board before realize.
    uint64_t base = 0, size = 0;
    ts_object *plic = nullptr;
    unsigned irq_base = 0, irq_count = 0;

    void realize();
    void plug(ts_object *child);

private:
    uint64_t place(uint64_t want, bool have_want, uint64_t len) const;
    struct Used {
        uint64_t start, end;  // guest addresses, end exclusive
    };
    std::vector<Used> used_;
    ts_region *container_ = nullptr;
    unsigned next_irq_ = 0;
};

extern const ts_device_class kPlatformBusClass;

// Creates, realizes and maps the bus at `base`, IRQs from `irq_base`.
ts_object *platform_bus_create(ts_object *machine, ts_object *plic, uint64_t base, uint64_t size,
                               unsigned irq_base, unsigned irq_count);

}  // namespace virt
