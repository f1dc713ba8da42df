#include "platform_bus.hpp"

#include <algorithm>
#include <string>

namespace virt {

namespace {
constexpr uint64_t kPage = 0x1000;
uint64_t round_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }
std::string hex(uint64_t v) {
    char b[24];
    std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
    return b;
}
}  // namespace

const ts_device_class kPlatformBusClass = ts::device_class<PlatformBus>({}, TS_STATE_NONE, nullptr, false);

void PlatformBus::realize() {
    const auto &h = ts::host();
    container_ = h.region_container(object(), "platform-bus", size);
    if (!container_) throw ts::Error("platform-bus: cannot create its window");
    h.device_add_region(object(), container_);
    ts_error err{};
    if (h.bus_add(object(), kPlatformBusType, "platform-bus.0", &err) != TS_OK) throw ts::Error(err.message);
}

// A free spot: the requested address, or the first page-aligned gap.
uint64_t PlatformBus::place(uint64_t want, bool have_want, uint64_t len) const {
    auto overlaps = [&](uint64_t s) {
        return std::any_of(used_.begin(), used_.end(), [&](const Used &u) { return s < u.end && u.start < s + len; });
    };
    if (have_want) {
        if (want < base || want - base > size || len > size - (want - base))
            throw ts::Error("addr=" + hex(want) + " is outside the platform bus window " + hex(base) + ".." +
                            hex(base + size - 1));
        if (overlaps(want)) throw ts::Error("addr=" + hex(want) + " overlaps another platform bus device");
        return want;
    }
    for (uint64_t s = base; s + len <= base + size; s += round_up(len, kPage))
        if (!overlaps(s)) return s;
    throw ts::Error("the platform bus window is full");
}

void PlatformBus::plug(ts_object *child) {
    const auto &h = ts::host();
    ts_region *r = h.device_region(child, 0);
    if (!r) throw ts::Error("a platform bus device must export an MMIO region");
    uint64_t want = 0;
    const bool have_want = h.prop_get_uint(child, "addr", &want) == TS_OK;
    const uint64_t len = h.region_size(r);
    const uint64_t at = place(want, have_want, len);
    h.region_add(container_, at - base, r, 0);
    used_.push_back({at, at + len});
    // Devices without an `irq` output simply get no line.
    if (next_irq_ < irq_count) {
        ts_error err{};
        if (h.gpio_connect(child, "irq", 0, plic, "irq", int(irq_base + next_irq_), &err) == TS_OK) next_irq_++;
    }
}

ts_object *platform_bus_create(ts_object *machine, ts_object *plic, uint64_t base, uint64_t size,
                               unsigned irq_base, unsigned irq_count) {
    const auto &h = ts::host();
    ts_error err{};
    ts_object *d = h.object_new(machine, PlatformBus::type_name, nullptr, &err);
    if (!d) throw ts::Error(std::string("virt: ") + err.message);
    auto *bus = static_cast<PlatformBus *>(h.object_instance(d));
    bus->base = base;
    bus->size = size;
    bus->plic = plic;
    bus->irq_base = irq_base;
    bus->irq_count = irq_count;
    if (h.object_realize(d, &err) != TS_OK) throw ts::Error(std::string("virt: ") + err.message);
    h.region_add(h.system_memory(), base, h.device_region(d, 0), 0);
    return d;
}

}  // namespace virt
