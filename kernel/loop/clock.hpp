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

// -icount: the virtual clock counts executed instructions, 2^shift ns each
// (shift < 0: auto, adjusted toward real time), so that runs are
// repeatable. The vCPU executor adds what each slice executed; while every
// CPU idles it warps the clock to the next deadline (sleep=off) or by the
// real time slept (sleep=on).
void clock_icount_enable(int shift, bool sleep);
bool clock_icount_enabled();
bool clock_icount_sleep();
void clock_icount_add(uint64_t insns);
// Instructions until the virtual clock reaches deadline_ns (at least 1).
uint64_t clock_icount_budget(int64_t deadline_ns);
void clock_icount_warp(int64_t ns);
// shift=auto: one step of the shift toward real time (at most every 100 ms).
void clock_icount_adjust();
uint64_t clock_icount_count();

// -rtc clock=vm: the host clock becomes origin_ns plus the virtual clock
// (it stops with the VM and, under -icount, counts instructions).
void clock_host_follow_virtual(int64_t origin_ns);

// Offset added to the host clock (-rtc base=...): ns.
void clock_host_set_offset(int64_t offset_ns);
int64_t clock_host_offset();

}  // namespace tessera
