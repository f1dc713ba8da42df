#include "memory/region.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <stdexcept>

namespace tessera {
namespace {

alignas(8) uint64_t g_generation = 1;
std::atomic<LogSink> g_guest_error_sink{nullptr};

RegionPtr make(RegionKind kind, std::string_view name, uint64_t size, void *owner) {
    auto r = std::make_unique<Region>();
    r->kind = kind;
    r->name = std::string(name);
    r->size = size;
    r->owner = owner;
    return r;
}

void detach_locked(Region &child) {
    if (Region *p = child.parent) {
        std::erase_if(p->children, [&](const Subregion &s) { return s.region == &child; });
        child.parent = nullptr;
    }
}

}  // namespace

namespace detail {
// Constant-initialised, so it outlives every region, even static ones.
constinit std::mutex g_map_mutex;
std::mutex &map_mutex() { return g_map_mutex; }
void bump_generation() { std::atomic_ref<uint64_t>(g_generation).fetch_add(1, std::memory_order_release); }
}  // namespace detail

uint64_t map_generation() { return std::atomic_ref<uint64_t>(g_generation).load(std::memory_order_acquire); }
const volatile uint64_t *map_generation_ptr() { return &g_generation; }

void set_guest_error_sink(LogSink sink) { g_guest_error_sink.store(sink); }
void log_guest_error(std::string_view message) {
    if (LogSink sink = g_guest_error_sink.load())
        sink(message);
}

RegionPtr make_ram(std::string_view name, uint64_t size, const HostMemoryOptions &opts, void *owner) {
    auto r = make(RegionKind::Ram, name, size, owner);
    r->backing = HostMemory(name, size, opts);
    return r;
}

RegionPtr make_rom(std::string_view name, uint64_t size, void *owner) {
    auto r = make(RegionKind::Rom, name, size, owner);
    r->backing = HostMemory(name, size);
    return r;
}

RegionPtr make_mmio(std::string_view name, uint64_t size, const ts_mmio_ops &ops, void *opaque,
                    void *owner) {
    auto r = make(RegionKind::Mmio, name, size, owner);
    // Copy only what the caller's struct has (older plugins fill less).
    std::memcpy(&r->ops, &ops, std::min<size_t>(ops.size ? ops.size : sizeof ops, sizeof ops));
    r->ops.size = sizeof r->ops;
    r->opaque = opaque;
    return r;
}

RegionPtr make_alias(std::string_view name, Region &target, uint64_t offset, uint64_t size, void *owner) {
    auto r = make(RegionKind::Alias, name, size, owner);
    r->alias_target = &target;
    r->alias_offset = offset;
    return r;
}

RegionPtr make_container(std::string_view name, uint64_t size, void *owner) {
    return make(RegionKind::Container, name, size, owner);
}

void region_add(Region &parent, uint64_t offset, Region &child, int priority) {
    if (parent.kind != RegionKind::Container)
        throw std::logic_error("memory region '" + parent.name + "' is not a container");
    std::lock_guard lock(detail::map_mutex());
    for (const Region *p = &parent; p; p = p->parent)
        if (p == &child)
            throw std::logic_error("memory region '" + child.name + "' would contain itself");
    detach_locked(child);
    // Insert before the first child of lower or equal priority: the newest of
    // equal priority comes first and so wins.
    auto it = std::find_if(parent.children.begin(), parent.children.end(),
                           [&](const Subregion &s) { return priority >= s.priority; });
    parent.children.insert(it, Subregion{&child, offset, priority});
    child.parent = &parent;
    detail::bump_generation();
}

void region_remove(Region &parent, Region &child) {
    std::lock_guard lock(detail::map_mutex());
    if (child.parent != &parent)
        return;
    detach_locked(child);
    detail::bump_generation();
}

void region_set_enabled(Region &r, bool enabled) {
    std::lock_guard lock(detail::map_mutex());
    if (r.enabled == enabled)
        return;
    r.enabled = enabled;
    detail::bump_generation();
}

void region_set_alias_offset(Region &alias, uint64_t offset) {
    std::lock_guard lock(detail::map_mutex());
    alias.alias_offset = offset;
    detail::bump_generation();
}

uint8_t *region_host_ptr(const Region &r) {
    return (r.kind == RegionKind::Ram || r.kind == RegionKind::Rom) ? r.backing.data() : nullptr;
}

}  // namespace tessera

ts_region::~ts_region() {
    std::lock_guard lock(tessera::detail::map_mutex());
    tessera::detach_locked(*this);
    for (auto &c : children)
        c.region->parent = nullptr;
    tessera::detail::bump_generation();
}
