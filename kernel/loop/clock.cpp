#include "loop/clock.hpp"

#include "loop/timer.hpp"

#include <atomic>
#include <ctime>
#include <mutex>

namespace tessera {
namespace {

int64_t read_clock(clockid_t id)
{
    timespec ts{};
    clock_gettime(id, &ts);
    return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

struct VirtualClock {
    std::mutex lock;
    bool running = false;
    int64_t frozen = 0;  // value while stopped
    int64_t bias = 0;    // value = monotonic + bias while running (icount: bias + insns << shift)
    // -icount
    bool icount = false, sleep = true, adaptive = false;
    int shift = 0;
    uint64_t insns = 0;
    int64_t last_adjust = 0, real_base = 0, last_delta = 0;
    int64_t now_locked() const {
        if (!running) return frozen;
        return icount ? bias + int64_t(insns << shift) : read_clock(CLOCK_MONOTONIC) + bias;
    }
};
VirtualClock g_virtual;
std::atomic<int64_t> g_host_offset{0};
std::atomic<bool> g_host_follows_virtual{false};
std::atomic<int64_t> g_host_origin{0};

}  // namespace

int64_t clock_ns(Clock c)
{
    switch (c) {
    case Clock::Realtime:
        return read_clock(CLOCK_MONOTONIC);
    case Clock::Virtual: {
        std::lock_guard g(g_virtual.lock);
        return g_virtual.now_locked();
    }
    case Clock::Host:
        if (g_host_follows_virtual.load(std::memory_order_relaxed))
            return g_host_origin.load(std::memory_order_relaxed) + clock_ns(Clock::Virtual);
        return read_clock(CLOCK_REALTIME) + g_host_offset.load(std::memory_order_relaxed);
    }
    return 0;
}

void clock_virtual_stop()
{
    std::lock_guard g(g_virtual.lock);
    if (!g_virtual.running)
        return;
    g_virtual.frozen = g_virtual.now_locked();
    g_virtual.running = false;
}

void clock_virtual_start()
{
    {
        std::lock_guard g(g_virtual.lock);
        if (g_virtual.running)
            return;
        g_virtual.bias = g_virtual.icount ? g_virtual.frozen - int64_t(g_virtual.insns << g_virtual.shift)
                                          : g_virtual.frozen - read_clock(CLOCK_MONOTONIC);
        g_virtual.running = true;
    }
    // Virtual timers may be due now: let the main loop recompute its timeout.
    timers_notify();
}

bool clock_virtual_running()
{
    std::lock_guard g(g_virtual.lock);
    return g_virtual.running;
}

void clock_virtual_set(int64_t ns)
{
    std::lock_guard g(g_virtual.lock);
    if (!g_virtual.running) g_virtual.frozen = ns;
}

void clock_icount_enable(int shift, bool sleep)
{
    std::lock_guard g(g_virtual.lock);
    g_virtual.icount = true;
    g_virtual.adaptive = shift < 0;
    g_virtual.shift = shift < 0 ? 3 : shift;  // auto starts at 8 ns per instruction, as the reference
    g_virtual.sleep = sleep;
    g_virtual.last_adjust = g_virtual.real_base = read_clock(CLOCK_MONOTONIC);
}

bool clock_icount_enabled()
{
    std::lock_guard g(g_virtual.lock);
    return g_virtual.icount;
}

bool clock_icount_sleep()
{
    std::lock_guard g(g_virtual.lock);
    return g_virtual.sleep;
}

uint64_t clock_icount_count()
{
    std::lock_guard g(g_virtual.lock);
    return g_virtual.insns;
}

void clock_icount_add(uint64_t insns)
{
    std::lock_guard g(g_virtual.lock);
    g_virtual.insns += insns;
}

uint64_t clock_icount_budget(int64_t deadline_ns)
{
    std::lock_guard g(g_virtual.lock);
    int64_t left = deadline_ns - g_virtual.now_locked();
    if (left <= 0)
        return 1;
    uint64_t n = (uint64_t(left) + (uint64_t{1} << g_virtual.shift) - 1) >> g_virtual.shift;
    return n ? n : 1;
}

void clock_icount_warp(int64_t ns)
{
    std::lock_guard g(g_virtual.lock);
    if (g_virtual.running && ns > 0)
        g_virtual.bias += ns;
}

void clock_icount_adjust()
{
    std::lock_guard g(g_virtual.lock);
    if (!g_virtual.adaptive || !g_virtual.running)
        return;
    int64_t real = read_clock(CLOCK_MONOTONIC);
    if (real - g_virtual.last_adjust < 100'000'000)
        return;
    g_virtual.last_adjust = real;
    // Compare with real time since -icount began: ahead and drifting
    // further -> fewer ns per instruction; behind and falling back -> more.
    int64_t now = g_virtual.now_locked(), delta = now - (real - g_virtual.real_base);
    int shift = g_virtual.shift;
    if (delta > 0 && delta > g_virtual.last_delta && shift > 0)
        shift--;
    else if (delta < 0 && delta < g_virtual.last_delta && shift < 10)
        shift++;
    g_virtual.last_delta = delta;
    if (shift != g_virtual.shift) {
        // Continuous: the same value under the new shift.
        g_virtual.shift = shift;
        g_virtual.bias = now - int64_t(g_virtual.insns << shift);
    }
}

void clock_host_follow_virtual(int64_t origin_ns)
{
    g_host_origin.store(origin_ns);
    g_host_follows_virtual.store(true);
    timers_notify();
}

void clock_host_set_offset(int64_t offset_ns)
{
    g_host_offset.store(offset_ns, std::memory_order_relaxed);
    timers_notify();
}

int64_t clock_host_offset() { return g_host_offset.load(std::memory_order_relaxed); }

}  // namespace tessera
