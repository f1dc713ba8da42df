// Page-table entry bits (privileged spec, "Sv32" section).
#pragma once

#include <cstdint>

namespace rv {
constexpr uint64_t PTE_V = 1, PTE_R = 2, PTE_W = 4, PTE_X = 8, PTE_U = 16, PTE_G = 32, PTE_A = 64, PTE_D = 128;
}  // namespace rv
