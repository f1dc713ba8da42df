// The tessera.instrument.v1 capability of the RISC-V CPUs: connects the
// kernel's instrumentation hooks to the core's instrumented loop.
#pragma once

#include <tessera/instrument.h>

namespace rv {
class Hart;
}

namespace rvplugin {

// The plugin's CPU instance -> its hart (defined in plugin.cpp).
rv::Hart &hart_of(void *cpu);

const ts_cpu_instrument_ops *instrument_ops();

// Drops the instrumentation state of a CPU being destroyed.
void instrument_forget(void *cpu);

}  // namespace rvplugin
