// The riscv `virt` board.
#pragma once

#include "memmap.hpp"

#include <tessera/sdk/device.hpp>
#include <tessera/sdk/plugin.hpp>

#include <string>
#include <vector>

namespace virt {

struct Machine {
    ts_object *obj = nullptr;
    std::vector<ts_object *> cpus;
    ts_object *clint = nullptr, *plic = nullptr, *uart = nullptr, *test = nullptr, *rtc = nullptr;
    ts_object *gpio = nullptr;
    // The power button: a board output line into GPIO pin 0, released by a timer.
    ts::IrqOut power_button;
    ts::Timer power_release;
    void press_power_button();
    void release_power_button() { power_button.lower(); }
    std::vector<ts_object *> virtio;
    ts_object *pcie = nullptr;
    Window pcie_high{};   // 64-bit PCI memory window (none on rv32)
    uint64_t ram_size = 0;
    unsigned xlen = 64;
};

void build(Machine &m);
// Device tree from what build() instantiated.
void build_fdt(const Machine &m, const std::string &bootargs);

}  // namespace virt
