#include "memory/address_space.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <mutex>

namespace tessera {
namespace {

using u128 = unsigned __int128;
using i128 = __int128;
constexpr u128 kSpaceEnd = u128(1) << 64;
constexpr int kMaxDepth = 64;  // alias loops end here instead of recursing forever

u128 extent(const Region &r) { return r.size == UINT64_MAX ? kSpaceEnd : u128(r.size); }

// Paints leaf regions into a sorted, non-overlapping list. Regions are
// visited in dispatch order, so whatever is painted first wins and later
// regions only fill the gaps.
class Painter {
public:
    void render(const Region &r, i128 base, u128 lo, u128 hi, int depth) {
        if (!r.enabled || depth > kMaxDepth)
            return;
        // Clip the window [lo, hi) to where this region lies.
        const i128 from = std::max<i128>(i128(lo), base);
        const i128 to = std::min<i128>(i128(hi), base + i128(extent(r)));
        if (from >= to)
            return;
        lo = u128(from);
        hi = u128(to);
        switch (r.kind) {
        case RegionKind::Ram:
        case RegionKind::Rom:
        case RegionKind::Mmio:
            paint(lo, hi, const_cast<Region *>(&r), uint64_t(i128(lo) - base));
            break;
        case RegionKind::Alias:
            if (r.alias_target)
                render(*r.alias_target, base - i128(r.alias_offset), lo, hi, depth + 1);
            break;
        case RegionKind::Container:
            for (const Subregion &c : r.children)
                render(*c.region, base + i128(c.offset), lo, hi, depth + 1);
            break;
        }
    }

    std::vector<FlatRange> finish() {
        // Merge neighbours that continue the same region (fewer TLB refills).
        std::vector<FlatRange> out;
        for (const FlatRange &f : ranges_) {
            if (!out.empty()) {
                FlatRange &b = out.back();
                if (b.region == f.region && u128(b.start) + b.length == f.start &&
                    b.offset + b.length == f.offset && b.length + f.length > b.length) {
                    b.length += f.length;
                    continue;
                }
            }
            out.push_back(f);
        }
        return out;
    }

private:
    void add(u128 s, u128 e, Region *leaf, uint64_t off) {
        // A 2^64-byte leaf cannot be described in 64 bits: drop its last byte.
        const uint64_t len = e - s >= kSpaceEnd ? UINT64_MAX : uint64_t(e - s);
        pending_.push_back({uint64_t(s), len, leaf, off});
    }

    void paint(u128 lo, u128 hi, Region *leaf, uint64_t leaf_off) {
        auto it = std::upper_bound(ranges_.begin(), ranges_.end(), lo,
                                   [](u128 a, const FlatRange &f) { return a < f.start; });
        u128 cur = lo;
        if (it != ranges_.begin())
            cur = std::max(cur, u128(std::prev(it)->start) + std::prev(it)->length);
        for (; it != ranges_.end() && it->start < hi && cur < hi; ++it) {
            if (it->start > cur)
                add(cur, it->start, leaf, leaf_off + uint64_t(cur - lo));
            cur = std::max(cur, u128(it->start) + it->length);
        }
        if (cur < hi)
            add(cur, hi, leaf, leaf_off + uint64_t(cur - lo));
        if (pending_.empty())
            return;
        ranges_.insert(ranges_.end(), pending_.begin(), pending_.end());
        pending_.clear();
        std::sort(ranges_.begin(), ranges_.end(),
                  [](const FlatRange &a, const FlatRange &b) { return a.start < b.start; });
    }

    std::vector<FlatRange> ranges_;
    std::vector<FlatRange> pending_;
};

struct LockHooks {
    void (*lock)() = nullptr;
    void (*unlock)() = nullptr;
};
std::atomic<LockHooks *> g_lock_hooks{nullptr};

// Holds the kernel lock (through the hooks) for one MMIO dispatch.
class MmioLock {
public:
    MmioLock() : hooks_(g_lock_hooks.load(std::memory_order_acquire)) {
        if (hooks_ && hooks_->lock)
            hooks_->lock();
    }
    ~MmioLock() {
        if (hooks_ && hooks_->unlock)
            hooks_->unlock();
    }
    MmioLock(const MmioLock &) = delete;
    MmioLock &operator=(const MmioLock &) = delete;

private:
    LockHooks *hooks_;
};

struct Listener {
    ts_ram_write_cb cb;
    void *opaque;
};
// Copy-on-write list: callbacks run without the mutex, so one may itself
// write guest memory or (un)register.
using Listeners = std::vector<Listener>;
std::mutex g_listeners_mutex;
std::shared_ptr<const Listeners> g_listeners;

std::shared_ptr<const Listeners> listeners() {
    std::lock_guard lock(g_listeners_mutex);
    return g_listeners;
}

void notify_ram_write(uint64_t gpa, uint64_t len) {
    if (const auto list = listeners())
        for (const Listener &l : *list)
            l.cb(l.opaque, gpa, len);
}

unsigned clamp_access(uint8_t v, unsigned fallback) {
    unsigned s = v ? v : fallback;
    s = std::min(s, 8u);
    while (s & (s - 1))  // round down to a power of two
        s &= s - 1;
    return s;
}

uint64_t bytes_to_value(const uint8_t *b, unsigned size, bool little) {
    uint64_t v = 0;
    for (unsigned i = 0; i < size; ++i)
        v |= uint64_t(b[little ? i : size - 1 - i]) << (8 * i);
    return v;
}

void value_to_bytes(uint64_t v, unsigned size, bool little, uint8_t *b) {
    for (unsigned i = 0; i < size; ++i)
        b[little ? i : size - 1 - i] = uint8_t(v >> (8 * i));
}

ts_memtx worse(ts_memtx a, ts_memtx b) { return std::max(a, b); }

// One device access of `size` bytes at `off`, of which bytes [skip, skip+n)
// belong to the guest's buffer (the rest only when widened to min_access).
ts_memtx mmio_access(const Region &r, uint64_t off, unsigned size, uint8_t *p, unsigned skip,
                     unsigned n, bool is_write) {
    uint8_t bytes[8] = {};
    const bool little = r.ops.big_endian == 0;
    if (is_write) {
        std::memcpy(bytes + skip, p, n);
        return r.ops.write ? r.ops.write(r.opaque, off, size, bytes_to_value(bytes, size, little))
                           : TS_MEMTX_OK;
    }
    uint64_t value = 0;
    ts_memtx res = r.ops.read ? r.ops.read(r.opaque, off, size, &value) : TS_MEMTX_OK;
    value_to_bytes(value, size, little, bytes);
    std::memcpy(p, bytes + skip, n);
    return res;
}

// Split [off, off+len) into naturally aligned accesses the device accepts:
// as wide as max_access allows, narrower where alignment or length demand,
// widened to min_access (and the extra bytes dropped) below it.
ts_memtx mmio_rw(const Region &r, uint64_t off, uint8_t *p, uint64_t len, bool is_write) {
    const unsigned max_a = clamp_access(r.ops.max_access, 8);
    const unsigned min_a = std::min(clamp_access(r.ops.min_access, 1), max_a);
    ts_memtx res = TS_MEMTX_OK;
    MmioLock lock;
    while (len) {
        unsigned size = max_a;
        while (size > 1 && (size > len || off % size))
            size >>= 1;
        unsigned n;
        if (size >= min_a) {
            res = worse(res, mmio_access(r, off, size, p, 0, size, is_write));
            n = size;
        } else {
            const uint64_t woff = off & ~uint64_t(min_a - 1);
            const unsigned skip = unsigned(off - woff);
            n = unsigned(std::min<uint64_t>(len, min_a - skip));
            res = worse(res, mmio_access(r, woff, min_a, p, skip, n, is_write));
        }
        off += n;
        p += n;
        len -= n;
    }
    return res;
}

}  // namespace

const FlatRange *FlatView::find(uint64_t addr) const {
    auto it = std::upper_bound(ranges.begin(), ranges.end(), addr,
                               [](uint64_t a, const FlatRange &f) { return a < f.start; });
    if (it == ranges.begin())
        return nullptr;
    --it;
    return addr <= it->last() ? &*it : nullptr;
}

std::vector<FlatRange> flatten(const Region &root) {
    Painter p;
    p.render(root, 0, 0, kSpaceEnd, 0);
    return p.finish();
}

void set_mmio_lock_hooks(void (*lock)(), void (*unlock)()) {
    // Hooks are set once at start-up; old ones stay valid for racing readers.
    static std::vector<std::unique_ptr<LockHooks>> all;
    static std::mutex m;
    std::lock_guard guard(m);
    all.push_back(std::make_unique<LockHooks>(LockHooks{lock, unlock}));
    g_lock_hooks.store(all.back().get(), std::memory_order_release);
}

void ram_write_listen(ts_ram_write_cb cb, void *opaque) {
    std::lock_guard lock(g_listeners_mutex);
    auto next = std::make_shared<Listeners>(g_listeners ? *g_listeners : Listeners{});
    next->push_back({cb, opaque});
    g_listeners = std::move(next);
}

void ram_write_unlisten(ts_ram_write_cb cb, void *opaque) {
    std::lock_guard lock(g_listeners_mutex);
    if (!g_listeners)
        return;
    auto next = std::make_shared<Listeners>(*g_listeners);
    std::erase_if(*next, [&](const Listener &l) { return l.cb == cb && l.opaque == opaque; });
    g_listeners = std::move(next);
}

}  // namespace tessera

using namespace tessera;

ts_address_space::ts_address_space(std::string_view name, Region &root) : name_(name), root_(root) {}

std::shared_ptr<const FlatView> ts_address_space::view() const {
    const uint64_t gen = map_generation();
    {
        std::lock_guard lock(view_mutex_);
        if (view_ && view_->generation == gen)
            return view_;
    }
    // Rebuild under the map mutex: the tree cannot change meanwhile, and the
    // generation read here matches the tree we flatten.
    std::lock_guard map_lock(detail::map_mutex());
    const uint64_t now = map_generation();
    std::lock_guard lock(view_mutex_);
    if (!view_ || view_->generation != now)
        view_ = std::make_shared<const FlatView>(FlatView{now, flatten(root_)});
    return view_;
}

ts_flat_range ts_address_space::lookup(uint64_t addr) const {
    const auto v = view();
    ts_flat_range out{};
    out.size = sizeof out;
    if (const FlatRange *f = v->find(addr)) {
        const Region &r = *f->region;
        out.kind = r.kind == RegionKind::Ram   ? TS_REGION_RAM
                   : r.kind == RegionKind::Rom ? TS_REGION_ROM
                                               : TS_REGION_MMIO;
        out.start = f->start;
        out.length = f->length;
        if (uint8_t *host = region_host_ptr(r))
            out.host = host + f->offset;
        out.writable = r.kind == RegionKind::Ram;
        return out;
    }
    // A hole: from the end of the previous range to the start of the next.
    auto next = std::upper_bound(v->ranges.begin(), v->ranges.end(), addr,
                                 [](uint64_t a, const FlatRange &f) { return a < f.start; });
    out.kind = TS_REGION_NONE;
    out.start = next == v->ranges.begin() ? 0 : std::prev(next)->last() + 1;
    const u128 end = next == v->ranges.end() ? kSpaceEnd : u128(next->start);
    out.length = end - out.start >= kSpaceEnd ? UINT64_MAX : uint64_t(end - out.start);
    return out;
}

ts_memtx ts_address_space::rw(uint64_t addr, void *buf, uint64_t len, bool is_write, Access access) {
    const auto v = view();
    auto *p = static_cast<uint8_t *>(buf);
    ts_memtx res = TS_MEMTX_OK;
    while (len) {
        const FlatRange *f = v->find(addr);
        uint64_t chunk;
        if (!f) {
            auto next = std::upper_bound(v->ranges.begin(), v->ranges.end(), addr,
                                         [](uint64_t a, const FlatRange &r) { return a < r.start; });
            chunk = next == v->ranges.end() ? len : std::min(len, next->start - addr);
            if (!is_write)
                std::memset(p, 0, chunk);
            res = worse(res, TS_MEMTX_DECODE_ERROR);
            if (access == Access::Guest) {
                // As the reference reports an access to nothing (-d guest_errors).
                char msg[160];
                std::snprintf(msg, sizeof msg,
                              "Invalid %s at addr 0x%" PRIX64 ", size %" PRIu64 ", region '(null)', reason: rejected",
                              is_write ? "write" : "read", addr, chunk);
                log_guest_error(msg);
            }
        } else {
            const uint64_t avail = f->last() - addr;  // bytes left in the range, minus one
            chunk = len - 1 <= avail ? len : avail + 1;
            Region &r = *f->region;
            const uint64_t off = f->offset + (addr - f->start);
            if (r.kind == RegionKind::Mmio) {
                res = worse(res, mmio_rw(r, off, p, chunk, is_write));
            } else if (!is_write) {
                std::memcpy(p, r.backing.data() + off, chunk);
            } else if (r.kind == RegionKind::Ram || access == Access::Loader) {
                std::memcpy(r.backing.data() + off, p, chunk);
                notify_ram_write(addr, chunk);
            } else {
                char msg[160];
                std::snprintf(msg, sizeof msg, "write to ROM '%s' at 0x%" PRIx64 ", size %" PRIu64 " ignored",
                              r.name.c_str(), addr, chunk);
                log_guest_error(msg);
            }
        }
        addr += chunk;
        p += chunk;
        len -= chunk;
    }
    return res;
}
