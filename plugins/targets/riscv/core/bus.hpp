// What the core needs from the machine: physical memory and the time base.
// The plugin implements it over the kernel's address space; tests and rvrun
// implement it over a flat buffer.
#pragma once

#include <cstdint>

namespace rv {

// A run of directly addressable guest RAM/ROM; host points at `base`.
struct RamRange {
    uint8_t *host = nullptr;
    uint64_t base = 0;
    uint64_t len = 0;
    bool writable = false;
};

class Bus {
public:
    virtual ~Bus() = default;
    // RAM fast path: the range holding pa, or false (MMIO or unmapped).
    virtual bool lookup(uint64_t pa, RamRange &out) = 0;
    // MMIO (and any access the fast path cannot serve). false: access fault.
    virtual bool read(uint64_t pa, unsigned size, uint64_t &val) = 0;
    virtual bool write(uint64_t pa, unsigned size, uint64_t val) = 0;
    // The `time` CSR source, in timebase ticks.
    virtual uint64_t time() { return 0; }
    // Sstc: ask to be kicked when time() reaches deadline (UINT64_MAX: never).
    virtual void arm_timer(uint64_t /*deadline*/) {}
    // Changes whenever the memory map changes; cached RAM pointers are dropped.
    virtual uint64_t generation() { return 0; }
};

}  // namespace rv
