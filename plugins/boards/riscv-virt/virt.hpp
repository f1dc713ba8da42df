// The riscv `virt` board.
#pragma once

#include <tessera/sdk/plugin.hpp>

#include <string>
#include <vector>

namespace virt {

struct Machine {
    ts_object *obj = nullptr;
    std::vector<ts_object *> cpus;
    ts_object *clint = nullptr, *plic = nullptr, *uart = nullptr, *test = nullptr, *rtc = nullptr;
    std::vector<ts_object *> virtio;
    uint64_t ram_size = 0;
    unsigned xlen = 64;
};

void build(Machine &m);
// Device tree from what build() instantiated.
void build_fdt(const Machine &m, const std::string &bootargs);

}  // namespace virt
