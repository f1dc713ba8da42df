// Builds the machine from the configuration and runs it until it ends.
#pragma once

#include "main/config.hpp"

namespace tessera {

// The kernel's own types (the "none" machine...).
void register_builtin_types();

// Returns the process exit status.
int run_machine(Config &cfg);

}  // namespace tessera
