// A PCI function's configuration space (PCI 3.0 type 0 header in a 4 KiB
// PCIe space): which bits the guest may write, BAR sizing and decoding, the
// capability list. Pure logic, no host calls, so tests use it directly.
#pragma once

#include <algorithm>
#include <array>
#include <span>
#include <cstdint>
#include <optional>

namespace pci {

// Standard header offsets.
inline constexpr unsigned kVendorId = 0x00, kDeviceId = 0x02, kCommand = 0x04, kStatus = 0x06, kRevision = 0x08,
                          kClassProg = 0x09, kHeaderType = 0x0e, kBar0 = 0x10, kSubsysVendor = 0x2c,
                          kSubsysId = 0x2e, kCapPtr = 0x34, kIntLine = 0x3c, kIntPin = 0x3d;
inline constexpr uint16_t kCmdIo = 1, kCmdMem = 2, kCmdMaster = 4, kCmdIntxDisable = 0x400;
inline constexpr uint16_t kStatusCapList = 0x10, kStatusIntx = 0x08;
inline constexpr unsigned kConfigSize = 4096, kNumBars = 6;

enum class BarType { None, Io, Mem32, Mem64 };

struct Bar {
    BarType type = BarType::None;
    uint64_t size = 0;  // power of 2
    bool prefetch = false;
};

class ConfigSpace {
public:
    ConfigSpace();

    // Identity (read-only to the guest).
    void set_ids(uint16_t vendor, uint16_t device, uint8_t revision, uint32_t class_code, uint16_t subsys_vendor,
                 uint16_t subsys_id);
    // INTx pin 1..4 (INTA..INTD), 0: none.
    void set_int_pin(uint8_t pin);
    // Declare BAR n (a 64-bit BAR also takes n+1).
    void set_bar(unsigned n, Bar b);
    // Appends a capability of len bytes (id, next filled in); returns its
    // offset. Bytes after the 2-byte header are read-only unless made writable.
    unsigned add_capability(uint8_t id, unsigned len);
    void set_writable(unsigned off, unsigned len, uint8_t mask = 0xff);

    uint32_t read(unsigned off, unsigned size) const;
    // Guest write, masked by the writable bits; BAR sizing handled.
    void write(unsigned off, unsigned size, uint32_t value);

    // Where BAR n decodes now, or nothing (disabled, unassigned, sizing).
    std::optional<uint64_t> bar_address(unsigned n) const;
    const Bar &bar(unsigned n) const { return bars_.at(n); }
    uint16_t command() const { return static_cast<uint16_t>(read(kCommand, 2)); }

    // Device-side set-up (no masks): the value is also the reset value.
    void set_raw(unsigned off, unsigned size, uint32_t value);
    void reset();  // command, BARs and writable fields back to their reset values
    // Snapshots: every byte as the guest sees it (BAR sizing included).
    std::span<const uint8_t> raw() const { return bytes_; }
    void load_raw(std::span<const uint8_t, kConfigSize> b) { std::copy(b.begin(), b.end(), bytes_.begin()); }

private:
    std::array<uint8_t, kConfigSize> bytes_{}, wmask_{}, w1c_{}, reset_{};
    std::array<Bar, kNumBars> bars_{};
    unsigned cap_end_ = 0x40, last_cap_ = 0;
};

}  // namespace pci
