// Timers on each clock. Expired timers run on the main loop thread with the
// BQL held; a stopped virtual clock fires none. mod()/del() are thread-safe:
// a vCPU thread may reprogram a timer, and moving it to the front of its list
// wakes the main loop.
#pragma once

#include "loop/clock.hpp"

#include <cstdint>

namespace tessera {

using TimerCallback = void (*)(void *opaque);

class Timer {
public:
    Timer(Clock clock, TimerCallback cb, void *opaque);
    ~Timer();  // deletes it from its list
    Timer(const Timer &) = delete;
    Timer &operator=(const Timer &) = delete;

    // Arm (or re-arm) to fire once the clock reaches deadline_ns.
    void mod(int64_t deadline_ns);
    // Disarm; harmless when not armed.
    void del();
    bool pending() const;
    // Deadline when pending, -1 otherwise.
    int64_t expire_time() const;
    Clock clock() const { return clock_; }

private:
    friend struct TimerLists;
    Clock clock_;
    TimerCallback cb_;
    void *opaque_;
    // Guarded by the timer lists' mutex.
    int64_t deadline_ = -1;
    uint64_t seq_ = 0;  // FIFO among equal deadlines
    bool armed_ = false;
};

// --- For the main loop ---------------------------------------------------
// Nanoseconds until the earliest deadline on a running clock: 0 if one is
// due, -1 if none is armed.
int64_t timers_timeout_ns();
// Run every expired timer (caller holds the BQL). Returns how many ran.
int timers_run_expired();
// -icount: the main loop leaves the virtual clock's timers to the vCPU
// executor, which runs them at instruction-exact points with these.
int64_t timers_deadline(Clock c);  // earliest armed deadline, -1 if none
int timers_run_expired_on(Clock c);
// Called when a deadline moved earlier or the virtual clock restarted; the
// main loop installs its wakeup here.
void timers_set_notify(void (*notify)());
void timers_notify();

}  // namespace tessera
