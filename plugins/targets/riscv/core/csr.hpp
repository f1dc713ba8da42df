// CSR names and debugger access (the CSR table itself lives in csr.cpp).
#pragma once

#include <cstdint>

namespace rv {

class Hart;

// Name of a CSR number, nullptr if unknown.
const char *csr_name(unsigned num);
bool csr_present(const Hart &h, unsigned num);
// Side-effect-light access for gdb and state dumps; false if absent.
bool csr_debug_read(Hart &h, unsigned num, uint64_t &out);
bool csr_debug_write(Hart &h, unsigned num, uint64_t v);

}  // namespace rv
