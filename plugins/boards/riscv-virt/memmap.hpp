// The reference's riscv `virt` memory map and interrupt numbers, as data.
#pragma once

#include <cstdint>

namespace virt {

struct Window {
    uint64_t base, size;
};

constexpr Window kMrom{0x1000, 0xf000};
constexpr Window kTest{0x100000, 0x1000};
constexpr Window kRtc{0x101000, 0x1000};
constexpr Window kClint{0x2000000, 0x10000};
constexpr Window kPlatformBus{0x4000000, 0x2000000};  // user-created MMIO devices
constexpr Window kPciePio{0x3000000, 0x10000};       // PCI I/O ports 0..0xffff
constexpr Window kPlic{0xc000000, 0x600000};
constexpr Window kUart0{0x10000000, 0x100};
constexpr Window kGpio{0x10060000, 0x1000};      // SiFive GPIO: the power button (not in the reference)
constexpr Window kVirtio{0x10001000, 0x1000};        // first of kVirtioCount, 0x1000 apart
constexpr Window kFwCfg{0x10100000, 0x18};
constexpr Window kFlash{0x20000000, 0x4000000};      // two banks of 32 MiB
constexpr Window kPcieEcam{0x30000000, 0x10000000};  // 256 buses
constexpr Window kPcieMmio{0x40000000, 0x40000000};  // 32-bit BARs, PCI == CPU address
// 64-bit BARs: this size, at the first multiple of it above RAM (as the reference).
constexpr uint64_t kPcieMmioHighSize = 0x400000000;
constexpr uint64_t kDramBase = 0x80000000;

constexpr unsigned kVirtioCount = 8;
constexpr unsigned kUart0Irq = 10;
constexpr unsigned kRtcIrq = 11;
constexpr unsigned kGpioIrq = 12;      // 12..19, one per pin
constexpr unsigned kGpioPins = 8;
constexpr unsigned kPowerButtonPin = 0;
constexpr int64_t kPowerButtonHoldNs = 1000000000;  // long enough for a guest that polls
constexpr unsigned kVirtioIrq = 1;      // 1..8
constexpr unsigned kPcieIrq = 32;       // 32..35: INTA..INTD after the swizzle
constexpr unsigned kPlatformBusIrq = 64;  // 64..95
constexpr unsigned kPlatformBusIrqs = 32;
constexpr unsigned kPlicSources = 96;   // riscv,ndev
constexpr unsigned kPlicPriorities = 7;
constexpr uint64_t kTimebase = 10000000;
constexpr unsigned kMaxCpus = 8;
constexpr uint32_t kCacheBlock = 64;   // Zicbom/Zicboz block size of tessera's CPUs

// CPU interrupt lines (mip bits).
constexpr int kMsip = 3, kMtip = 7, kSeip = 9, kMeip = 11;

}  // namespace virt
