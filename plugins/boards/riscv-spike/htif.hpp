// HTIF, the Berkeley host-target interface of spike: the guest writes a
// command to `tohost` (device << 56 | cmd << 48 | payload) and reads replies
// from `fromhost`. Supported: exit (device 0, payload bit 0), the proxied
// write(2) syscall to stdout (device 0, magic memory), console putchar/getchar
// (device 1).
#pragma once

#include <tessera/sdk/plugin.hpp>

#include <deque>

namespace spike {

class Htif {
public:
    explicit Htif(ts_object *owner);
    // The MMIO region covering tohost and fromhost at the given offsets.
    ts_region *region(uint64_t size, uint64_t tohost_off, uint64_t fromhost_off);

private:
    static ts_memtx read(void *opaque, uint64_t off, unsigned size, uint64_t *val);
    static ts_memtx write(void *opaque, uint64_t off, unsigned size, uint64_t val);
    static size_t can_receive(void *opaque);
    static void receive(void *opaque, const uint8_t *buf, size_t len);
    void command(uint64_t value);
    void syscall(uint64_t magic_addr);
    void out(const uint8_t *buf, size_t len);

    ts_object *owner_;
    ts_chardev_fe *console_ = nullptr;
    uint64_t tohost_ = 0, fromhost_ = 0, tohost_off_ = 8, fromhost_off_ = 0;
    std::deque<uint8_t> input_;
    bool getc_pending_ = false;
};

}  // namespace spike
