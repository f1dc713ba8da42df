// The three clocks of the ABI's ts_clock. Values are nanoseconds.
#pragma once

#include <cstdint>

namespace tessera {

enum class Clock : int {
    Realtime = 0,  // host monotonic, always runs
    Virtual = 1,   // runs only while the VM runs; starts stopped at 0
    Host = 2,      // host wall clock (UTC ns since the epoch) plus an offset
};
inline constexpr int kClockCount = 3;

int64_t clock_ns(Clock c);

// Freeze/resume the virtual clock (VM stop/cont). Idempotent. The value is
// monotonic across pauses: it resumes where it stopped.
void clock_virtual_stop();
void clock_virtual_start();
bool clock_virtual_running();
// Sets the stopped virtual clock (loadvm); ignored while it runs.
void clock_virtual_set(int64_t ns);

// Offset added to the host clock (-rtc base=...): ns.
void clock_host_set_offset(int64_t offset_ns);
int64_t clock_host_offset();

}  // namespace tessera
