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
constexpr Window kPciePio{0x3000000, 0x10000};       // reserved for the PCI work
constexpr Window kPlic{0xc000000, 0x600000};
constexpr Window kUart0{0x10000000, 0x100};
constexpr Window kVirtio{0x10001000, 0x1000};        // first of kVirtioCount, 0x1000 apart
constexpr Window kFwCfg{0x10100000, 0x18};
constexpr Window kFlash{0x20000000, 0x4000000};      // two banks of 32 MiB
constexpr Window kPcieEcam{0x30000000, 0x10000000};  // reserved for the PCI work
constexpr Window kPcieMmio{0x40000000, 0x40000000};  // reserved for the PCI work
constexpr uint64_t kDramBase = 0x80000000;

constexpr unsigned kVirtioCount = 8;
constexpr unsigned kUart0Irq = 10;
constexpr unsigned kRtcIrq = 11;
constexpr unsigned kVirtioIrq = 1;      // 1..8
constexpr unsigned kPlicSources = 96;   // riscv,ndev
constexpr unsigned kPlicPriorities = 7;
constexpr uint64_t kTimebase = 10000000;
constexpr unsigned kMaxCpus = 8;
constexpr uint32_t kCacheBlock = 64;   // Zicbom/Zicboz block size of tessera's CPUs

// CPU interrupt lines (mip bits).
constexpr int kMsip = 3, kMtip = 7, kSeip = 9, kMeip = 11;

}  // namespace virt
