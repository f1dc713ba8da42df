// Address spaces: a root region flattened into sorted, non-overlapping ranges
// for lookup and access. The C ABI's opaque ts_address_space.
//
// Readers (vCPU threads, DMA) use an immutable snapshot of the flat view that
// is swapped atomically; after a tree change the first reader rebuilds it
// under the map mutex, so nobody ever sees a half-built view.
#pragma once

#include "memory/region.hpp"

#include <tessera/host.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tessera {

// One piece of the flattened map: [start, start + length) shows `region`
// (RAM, ROM or MMIO, aliases resolved) from `offset` on.
struct FlatRange {
    uint64_t start;
    uint64_t length;
    Region *region;
    uint64_t offset;
    uint64_t last() const { return start + (length - 1); }
};

struct FlatView {
    uint64_t generation;
    std::vector<FlatRange> ranges;  // sorted by start
    // The range holding addr, or nullptr for a hole.
    const FlatRange *find(uint64_t addr) const;
};

// Flatten a region tree (exposed for tests and `info mtree -f`). Call with
// the map mutex held, or when no other thread edits the tree.
std::vector<FlatRange> flatten(const Region &root);

// Who is accessing: guest-like accessors cannot write ROM; loaders can.
enum class Access { Guest, Loader };

}  // namespace tessera

struct ts_address_space {
    ts_address_space(std::string_view name, tessera::Region &root);
    ts_address_space(const ts_address_space &) = delete;
    ts_address_space &operator=(const ts_address_space &) = delete;

    const std::string &name() const { return name_; }
    tessera::Region &root() const { return root_; }

    // The current flat view (rebuilt if the map changed since the last one).
    std::shared_ptr<const tessera::FlatView> view() const;

    // The range holding addr. A hole gives kind TS_REGION_NONE with start and
    // length describing the hole.
    ts_flat_range lookup(uint64_t addr) const;

    // Read or write guest memory. Accesses may span ranges. Holes read as 0
    // and give TS_MEMTX_DECODE_ERROR (the rest is still done); ROM writes are
    // ignored and logged unless access is Loader; MMIO is split into the
    // device's access sizes, under the MMIO lock hooks. RAM writes notify
    // the RAM-write listeners.
    ts_memtx rw(uint64_t addr, void *buf, uint64_t len, bool is_write,
                tessera::Access access = tessera::Access::Guest);
    ts_memtx read(uint64_t addr, std::span<uint8_t> out) { return rw(addr, out.data(), out.size(), false); }
    ts_memtx write(uint64_t addr, std::span<const uint8_t> in,
                   tessera::Access access = tessera::Access::Guest) {
        return rw(addr, const_cast<uint8_t *>(in.data()), in.size(), true, access);
    }

private:
    std::string name_;
    tessera::Region &root_;
    // The current snapshot. A plain mutex guards the pointer copy only (a
    // few ns; sanitizers see it, unlike libstdc++'s atomic<shared_ptr>).
    mutable std::mutex view_mutex_;
    mutable std::shared_ptr<const tessera::FlatView> view_;
};

namespace tessera {

using AddressSpace = ::ts_address_space;

// Called around each MMIO callback so the kernel can hold its lock (the hooks
// must cope with the caller already holding it). Default: no locking.
void set_mmio_lock_hooks(void (*lock)(), void (*unlock)());

// Notified after non-CPU writes into RAM or ROM (DMA, loaders) via rw().
void ram_write_listen(ts_ram_write_cb cb, void *opaque);
void ram_write_unlisten(ts_ram_write_cb cb, void *opaque);

// `info mtree`: each address space's tree, then regions reached only through
// aliases. `info mtree -f` with flat = true.
std::string mtree_text(std::span<const AddressSpace *const> spaces, bool flat = false);

}  // namespace tessera
