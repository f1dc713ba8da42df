#include "config_space.hpp"

namespace pci {

ConfigSpace::ConfigSpace() {
    // Command: IO, memory, bus master, INTx disable are the guest's to set.
    set_writable(kCommand, 1, kCmdIo | kCmdMem | kCmdMaster);
    set_writable(kCommand + 1, 1, kCmdIntxDisable >> 8);
    set_writable(kIntLine, 1);
    bytes_[kHeaderType] = 0;
    reset_ = bytes_;
}

void ConfigSpace::set_raw(unsigned off, unsigned size, uint32_t value) {
    for (unsigned i = 0; i < size && off + i < kConfigSize; i++)
        bytes_[off + i] = reset_[off + i] = static_cast<uint8_t>(value >> (8 * i));
}

void ConfigSpace::set_ids(uint16_t vendor, uint16_t device, uint8_t revision, uint32_t class_code,
                          uint16_t subsys_vendor, uint16_t subsys_id) {
    set_raw(kVendorId, 2, vendor);
    set_raw(kDeviceId, 2, device);
    set_raw(kRevision, 1, revision);
    set_raw(kClassProg, 3, class_code);
    set_raw(kSubsysVendor, 2, subsys_vendor);
    set_raw(kSubsysId, 2, subsys_id);
    reset_ = bytes_;
}

void ConfigSpace::set_int_pin(uint8_t pin) {
    bytes_[kIntPin] = pin;
    reset_ = bytes_;
}

void ConfigSpace::set_bar(unsigned n, Bar b) {
    bars_.at(n) = b;
    uint32_t flags = b.type == BarType::Io ? 1u : (b.type == BarType::Mem64 ? 4u : 0u) | (b.prefetch ? 8u : 0u);
    set_raw(kBar0 + 4 * n, 4, flags);
    if (b.type == BarType::Mem64) {
        bars_.at(n + 1) = Bar{};
        set_raw(kBar0 + 4 * (n + 1), 4, 0);
    }
    reset_ = bytes_;
}

unsigned ConfigSpace::add_capability(uint8_t id, unsigned len) {
    const unsigned off = cap_end_;
    cap_end_ = (cap_end_ + len + 3) & ~3u;
    bytes_[off] = id;
    bytes_[off + 1] = 0;
    if (last_cap_) bytes_[last_cap_ + 1] = static_cast<uint8_t>(off);
    else bytes_[kCapPtr] = static_cast<uint8_t>(off);
    last_cap_ = off;
    set_raw(kStatus, 2, (read(kStatus, 2) | kStatusCapList));
    reset_ = bytes_;
    return off;
}

void ConfigSpace::set_writable(unsigned off, unsigned len, uint8_t mask) {
    for (unsigned i = 0; i < len && off + i < kConfigSize; i++) wmask_[off + i] = mask;
}

uint32_t ConfigSpace::read(unsigned off, unsigned size) const {
    uint32_t v = 0;
    for (unsigned i = 0; i < size && off + i < kConfigSize; i++) v |= uint32_t(bytes_[off + i]) << (8 * i);
    return v;
}

void ConfigSpace::write(unsigned off, unsigned size, uint32_t value) {
    for (unsigned i = 0; i < size && off + i < kConfigSize; i++) {
        const unsigned at = off + i;
        const uint8_t b = static_cast<uint8_t>(value >> (8 * i));
        if (at >= kBar0 && at < kBar0 + 4 * kNumBars) continue;  // below
        bytes_[at] = static_cast<uint8_t>((bytes_[at] & ~wmask_[at]) | (b & wmask_[at]));
    }
    // BARs are written as dwords: the address bits above the size are kept,
    // so writing all-ones reads back ~(size-1) | flags (sizing).
    for (unsigned n = 0; n < kNumBars; n++) {
        const unsigned b0 = kBar0 + 4 * n;
        if (off + size <= b0 || off >= b0 + 4) continue;
        uint32_t cur = read(b0, 4), merged = cur;
        for (unsigned i = 0; i < 4; i++) {
            unsigned at = b0 + i;
            if (at >= off && at < off + size) {
                merged &= ~(0xffu << (8 * i));
                merged |= ((value >> (8 * (at - off))) & 0xff) << (8 * i);
            }
        }
        // The BAR this dword belongs to: n itself, or the low half of a 64-bit one.
        const bool high = n > 0 && bars_[n - 1].type == BarType::Mem64;
        const Bar &bar = high ? bars_[n - 1] : bars_[n];
        if (bar.type == BarType::None) continue;
        uint32_t mask, flags;
        if (high) {
            mask = static_cast<uint32_t>(~(bar.size - 1) >> 32);
            flags = 0;
        } else if (bar.type == BarType::Io) {
            mask = static_cast<uint32_t>(~(bar.size - 1)) & ~3u;
            flags = 1;
        } else {
            mask = static_cast<uint32_t>(~(bar.size - 1)) & ~0xfu;
            flags = cur & 0xf;
        }
        set_raw(b0, 4, (merged & mask) | flags);
    }
}

std::optional<uint64_t> ConfigSpace::bar_address(unsigned n) const {
    const Bar &b = bars_.at(n);
    if (b.type == BarType::None) return std::nullopt;
    const uint16_t cmd = command();
    if (b.type == BarType::Io ? !(cmd & kCmdIo) : !(cmd & kCmdMem)) return std::nullopt;
    uint64_t a = read(kBar0 + 4 * n, 4) & (b.type == BarType::Io ? ~3u : ~0xfu);
    if (b.type == BarType::Mem64) a |= uint64_t(read(kBar0 + 4 * (n + 1), 4)) << 32;
    // Unassigned (0) or mid-sizing (all ones above the size): not decoded.
    const uint64_t top = b.type == BarType::Mem64 ? ~(b.size - 1) : static_cast<uint32_t>(~(b.size - 1));
    if (a == 0 || (a | (b.size - 1) | 0xf) == (top | (b.size - 1) | 0xf)) return std::nullopt;
    return a;
}

void ConfigSpace::reset() { bytes_ = reset_; }

}  // namespace pci
