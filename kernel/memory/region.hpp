// Memory regions: the C ABI's opaque ts_region. A region is RAM, ROM, MMIO,
// an alias into another region, or a container of subregions placed at
// offsets with priorities. Address spaces flatten a tree of them.
//
// Tree changes (add, remove, enable) must come from one thread at a time (the
// kernel lock holder); they take the memory map mutex and bump the global map
// generation, so address spaces rebuild their flat view on next use.
#pragma once

#include "memory/host_memory.hpp"

#include <tessera/types.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace tessera {

enum class RegionKind { Ram, Rom, Mmio, Alias, Container };

struct Subregion {
    ts_region *region;
    uint64_t offset;
    int priority;
};

}  // namespace tessera

struct ts_region {
    tessera::RegionKind kind;
    std::string name;
    uint64_t size;             // UINT64_MAX means the whole 2^64 space
    void *owner = nullptr;     // the ts_object that made it, for info mtree
    bool enabled = true;
    ts_region *parent = nullptr;  // container it is mapped in, if any

    tessera::HostMemory backing;  // RAM, ROM
    ts_mmio_ops ops{};            // MMIO
    void *opaque = nullptr;
    ts_region *alias_target = nullptr;  // ALIAS
    uint64_t alias_offset = 0;
    // CONTAINER: kept in dispatch order: higher priority first, and among
    // equal priorities the later-added first (it wins, as in the reference).
    std::vector<tessera::Subregion> children;

    ~ts_region();
};

namespace tessera {

using Region = ::ts_region;
using RegionPtr = std::unique_ptr<Region>;

// Constructors. RAM/ROM throw UsageError when host memory cannot be mapped.
RegionPtr make_ram(std::string_view name, uint64_t size, const HostMemoryOptions &opts = {},
                   void *owner = nullptr);
RegionPtr make_rom(std::string_view name, uint64_t size, void *owner = nullptr);
RegionPtr make_mmio(std::string_view name, uint64_t size, const ts_mmio_ops &ops, void *opaque,
                    void *owner = nullptr);
RegionPtr make_alias(std::string_view name, Region &target, uint64_t offset, uint64_t size,
                     void *owner = nullptr);
RegionPtr make_container(std::string_view name, uint64_t size, void *owner = nullptr);

// Tree edits. A region has at most one parent; adding one that is already
// mapped elsewhere moves it. Throws std::logic_error for a non-container
// parent or a cycle.
void region_add(Region &parent, uint64_t offset, Region &child, int priority = 0);
void region_remove(Region &parent, Region &child);
void region_set_enabled(Region &r, bool enabled);
void region_set_alias_offset(Region &alias, uint64_t offset);

// Where the region's bytes live (RAM, ROM), else nullptr.
uint8_t *region_host_ptr(const Region &r);

// Bumped under the map mutex on every tree change. map_generation_ptr() is
// what the host table exports to targets.
uint64_t map_generation();
const volatile uint64_t *map_generation_ptr();

// Guest-error logging (writes to ROM, MMIO errors): the kernel installs a sink
// that honours -d guest_errors. Default: discard.
using LogSink = void (*)(std::string_view message);
void set_guest_error_sink(LogSink sink);
void log_guest_error(std::string_view message);

namespace detail {
// Guards the region tree; held while editing it and while flattening it.
std::mutex &map_mutex();
void bump_generation();  // call with map_mutex held
}  // namespace detail

}  // namespace tessera
