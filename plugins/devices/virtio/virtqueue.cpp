// Split virtqueues (virtio 1.2, 2.7). Every index, length and address the
// guest gives is checked before use.
#include "virtio.hpp"

#include <array>
#include <string>

namespace virtio {

namespace {
constexpr uint16_t kDescNext = 1, kDescWrite = 2, kDescIndirect = 4;
constexpr uint16_t kAvailNoInterrupt = 1;
// A chain may not describe more than this (bounds host work per request).
constexpr uint64_t kMaxChainBytes = 1ull << 32;
constexpr uint32_t kMaxIndirect = 4096;  // entries in one indirect table

uint16_t read_u16(uint64_t addr) {
    std::array<uint8_t, 2> b{};
    guest_read(addr, b);
    return static_cast<uint16_t>(get_le(b, 0, 2));
}
std::string hex(uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}
}  // namespace

void guest_read(uint64_t addr, std::span<uint8_t> dst) {
    if (dst.empty()) return;
    const ts_host &h = ts::host();
    if (h.as_rw(h.system_as(), addr, dst.data(), dst.size(), 0) != TS_MEMTX_OK)
        throw GuestError("cannot read " + std::to_string(dst.size()) + " bytes at " + hex(addr));
}

void guest_write(uint64_t addr, std::span<const uint8_t> src) {
    if (src.empty()) return;
    const ts_host &h = ts::host();
    // as_rw takes a non-const buffer for both directions.
    if (h.as_rw(h.system_as(), addr, const_cast<uint8_t *>(src.data()), src.size(), 1) != TS_MEMTX_OK)
        throw GuestError("cannot write " + std::to_string(src.size()) + " bytes at " + hex(addr));
}

namespace {
// Walk segs from byte `offset`, calling op(addr, len, pos) per piece.
template <class Op>
size_t walk(const std::vector<Segment> &segs, uint64_t offset, size_t len, Op &&op) {
    size_t done = 0;
    for (const Segment &s : segs) {
        if (done == len) break;
        if (offset >= s.len) {
            offset -= s.len;
            continue;
        }
        size_t n = static_cast<size_t>(std::min<uint64_t>(s.len - offset, len - done));
        op(s.addr + offset, n, done);
        done += n;
        offset = 0;
    }
    return done;
}
}  // namespace

size_t Chain::read(uint64_t offset, std::span<uint8_t> dst) const {
    return walk(out, offset, dst.size(), [&](uint64_t a, size_t n, size_t pos) { guest_read(a, dst.subspan(pos, n)); });
}

size_t Chain::write(uint64_t offset, std::span<const uint8_t> src) const {
    return walk(in, offset, src.size(), [&](uint64_t a, size_t n, size_t pos) { guest_write(a, src.subspan(pos, n)); });
}

std::optional<Chain> Virtqueue::pop() {
    if (!ready()) return std::nullopt;
    const uint32_t num = s_.num;
    uint16_t avail_idx = read_u16(s_.avail + 2);
    uint16_t last = static_cast<uint16_t>(s_.last_avail);
    if (avail_idx == last) return std::nullopt;
    if (static_cast<uint16_t>(avail_idx - last) > num)
        throw GuestError("avail index " + std::to_string(avail_idx) + " is more than the queue size ahead of " +
                         std::to_string(last));
    uint16_t head = read_u16(s_.avail + 4 + 2ull * (last % num));
    if (head >= num) throw GuestError("avail ring entry " + std::to_string(head) + " is beyond the queue size");

    Chain c;
    c.head = head;
    walk_table(c, s_.desc, num, head, false);
    s_.last_avail = static_cast<uint16_t>(last + 1);
    return c;
}

// Follow a chain through a descriptor table of `size` entries from `first`.
// An indirect descriptor (last in its chain) switches to its own table; those
// do not nest.
void Virtqueue::walk_table(Chain &c, uint64_t table, uint32_t size, uint32_t first, bool nested) {
    const char *where = nested ? "indirect descriptor " : "descriptor ";
    uint32_t i = first;
    for (uint32_t count = 0;; count++) {
        if (count >= size) throw GuestError(std::string(where) + "chain from " + std::to_string(first) + " loops");
        std::array<uint8_t, 16> d{};
        guest_read(table + 16ull * i, d);
        Segment seg{get_le(d, 0, 8), static_cast<uint32_t>(get_le(d, 8, 4))};
        auto flags = static_cast<uint16_t>(get_le(d, 12, 2));
        auto next = static_cast<uint16_t>(get_le(d, 14, 2));
        if (seg.addr + seg.len < seg.addr) throw GuestError(where + std::to_string(i) + " wraps around");
        if (flags & kDescIndirect) {
            if (!indirect_) throw GuestError("indirect descriptor, but the feature was not negotiated");
            if (nested) throw GuestError("nested indirect descriptor table");
            if (flags & kDescNext) throw GuestError("indirect descriptor with NEXT set");
            if (seg.len == 0 || seg.len % 16 || seg.len / 16 > kMaxIndirect)
                throw GuestError("indirect table of " + std::to_string(seg.len) + " bytes");
            walk_table(c, seg.addr, seg.len / 16, 0, true);
            return;
        }
        if (flags & kDescWrite) {
            c.in.push_back(seg);
            c.in_len += seg.len;
        } else {
            if (!c.in.empty()) throw GuestError("readable " + (where + std::to_string(i)) + " after a writable one");
            c.out.push_back(seg);
            c.out_len += seg.len;
        }
        if (c.in_len + c.out_len > kMaxChainBytes) throw GuestError("descriptor chain longer than 4 GiB");
        if (!(flags & kDescNext)) return;
        if (next >= size)
            throw GuestError(where + std::to_string(i) + " links to " + std::to_string(next) + ", beyond its table");
        i = next;
    }
}

void Virtqueue::push(const Chain &c, uint32_t written) { push_batch({&c, 1}, {&written, 1}); }

bool Virtqueue::has_avail() {
    if (!ready()) return false;
    return read_u16(s_.avail + 2) != static_cast<uint16_t>(s_.last_avail);
}

void Virtqueue::push_batch(std::span<const Chain> chains, std::span<const uint32_t> written) {
    const uint32_t num = s_.num;
    uint16_t idx = static_cast<uint16_t>(s_.used_idx);
    for (size_t i = 0; i < chains.size(); i++) {
        std::array<uint8_t, 8> elem{};
        put_le(elem, 0, chains[i].head, 4);
        put_le(elem, 4, written[i], 4);
        guest_write(s_.used + 4 + 8ull * (idx % num), elem);
        idx = static_cast<uint16_t>(idx + 1);
    }
    std::array<uint8_t, 2> b{};
    put_le(b, 0, idx, 2);
    guest_write(s_.used + 2, b);
    s_.used_idx = idx;
}

bool Virtqueue::interrupts_suppressed() const {
    try {
        return read_u16(s_.avail) & kAvailNoInterrupt;
    } catch (const GuestError &) {
        return false;
    }
}

}  // namespace virtio
