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
    int64_t bias = 0;    // value = monotonic + bias while running
};
VirtualClock g_virtual;
std::atomic<int64_t> g_host_offset{0};

}  // namespace

int64_t clock_ns(Clock c)
{
    switch (c) {
    case Clock::Realtime:
        return read_clock(CLOCK_MONOTONIC);
    case Clock::Virtual: {
        std::lock_guard g(g_virtual.lock);
        return g_virtual.running ? read_clock(CLOCK_MONOTONIC) + g_virtual.bias : g_virtual.frozen;
    }
    case Clock::Host:
        return read_clock(CLOCK_REALTIME) + g_host_offset.load(std::memory_order_relaxed);
    }
    return 0;
}

void clock_virtual_stop()
{
    std::lock_guard g(g_virtual.lock);
    if (!g_virtual.running)
        return;
    g_virtual.frozen = read_clock(CLOCK_MONOTONIC) + g_virtual.bias;
    g_virtual.running = false;
}

void clock_virtual_start()
{
    {
        std::lock_guard g(g_virtual.lock);
        if (g_virtual.running)
            return;
        g_virtual.bias = g_virtual.frozen - read_clock(CLOCK_MONOTONIC);
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

void clock_host_set_offset(int64_t offset_ns)
{
    g_host_offset.store(offset_ns, std::memory_order_relaxed);
    timers_notify();
}

int64_t clock_host_offset() { return g_host_offset.load(std::memory_order_relaxed); }

}  // namespace tessera
