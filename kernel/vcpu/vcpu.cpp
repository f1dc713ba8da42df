#include "vcpu/vcpu.hpp"

#include "log/trace.hpp"
#include "loop/bql.hpp"
#include "loop/clock.hpp"
#include "loop/timer.hpp"
#include "options/error.hpp"
#include "qom/object.hpp"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tessera {

namespace {

struct Vcpu {
    ts_object *obj;
    const ts_cpu_class *cls;
    void *cpu;
    unsigned index;
    std::thread thread;
    bool in_exec = false;      // guarded by g_mutex
    bool wake = false;         // guarded by g_mutex
    bool halted = false;       // -icount: waits for work (executor thread only)
    const ts_cpu_icount_ops *icount = nullptr;
};

std::vector<std::unique_ptr<Vcpu>> g_cpus;
std::mutex g_mutex;                  // guards run flags below and Vcpu::in_exec/wake
std::condition_variable g_cv;        // state changes (start, stop, wake, exit)
bool g_running = false;
bool g_quit = false;
bool g_thread_names = false;
RunState g_state = RunState::Prelaunch;
std::function<void(unsigned)> g_debug_handler;
std::vector<std::function<void(RunState)>> g_state_listeners;

void notify_state(RunState s) {
    for (auto &l : g_state_listeners) l(s);
}

void vcpu_thread(Vcpu *v) {
    if (g_thread_names) {
        std::string n = "CPU " + std::to_string(v->index) + "/TCG";
        pthread_setname_np(pthread_self(), n.substr(0, 15).c_str());
    }
    std::unique_lock lk(g_mutex);
    for (;;) {
        g_cv.wait(lk, [&] { return g_quit || g_running; });
        if (g_quit) break;
        v->in_exec = true;
        lk.unlock();
        ts_cpu_exit r = v->cls->exec(v->cpu);
        lk.lock();
        v->in_exec = false;
        g_cv.notify_all();
        if (r == TS_CPU_HALTED) {
            // Sleep until an interrupt or a state change; has_work is checked
            // without our mutex so an IRQ raised just before we slept still
            // counts (vcpu_wake sets `wake` under the mutex).
            while (!g_quit && g_running && !v->wake) {
                lk.unlock();
                bool work = v->cls->has_work(v->cpu);
                lk.lock();
                if (work || v->wake) break;
                g_cv.wait(lk);
            }
            v->wake = false;
        } else if (r == TS_CPU_DEBUG) {
            g_running = false;
            if (g_debug_handler) {
                auto h = g_debug_handler;
                unsigned idx = v->index;
                lk.unlock();
                h(idx);
                lk.lock();
            }
        }
    }
}

// ---- One thread for every CPU, in slices (-icount, -accel tcg,thread=single)

// Instructions a CPU runs before the next one's turn. Under -icount virtual
// time stands still within a slice (it is what the executed instructions
// made it), so this is also the clock's resolution while guest code runs.
constexpr uint64_t kIcountSlice = 4096;
// Without -icount, slices long enough to keep the switching cheap (about a
// millisecond of guest code).
constexpr uint64_t kSingleSlice = 200'000;

bool icount_debug_stop(Vcpu &v, std::unique_lock<std::mutex> &lk) {
    g_running = false;
    if (g_debug_handler) {
        auto h = g_debug_handler;
        unsigned idx = v.index;
        lk.unlock();
        h(idx);
        lk.lock();
    }
    return true;
}

// Every CPU idles: move virtual time to the next deadline at once
// (sleep=off), or let it pass in real time (sleep=on); an interrupt from
// outside (vcpu_wake) ends the wait.
void icount_idle(std::unique_lock<std::mutex> &lk) {
    int64_t deadline = timers_deadline(Clock::Virtual), now = clock_ns(Clock::Virtual);
    bool woken = false;
    for (auto &v : g_cpus) woken |= v->wake;
    if (woken) return;
    if (!clock_icount_sleep()) {
        if (deadline >= 0) {
            clock_icount_warp(deadline - now);
            return;
        }
        // Nothing will ever happen on the virtual clock: wait for the outside.
        g_cv.wait_for(lk, std::chrono::milliseconds(10));
        return;
    }
    int64_t t0 = clock_ns(Clock::Realtime);
    auto limit = deadline < 0 ? std::chrono::nanoseconds(10'000'000)
                              : std::chrono::nanoseconds(std::max<int64_t>(0, deadline - now));
    g_cv.wait_for(lk, limit);
    int64_t slept = clock_ns(Clock::Realtime) - t0;
    if (deadline >= 0) slept = std::min(slept, deadline - now);
    clock_icount_warp(slept);
}

void single_thread() {
    if (g_thread_names) pthread_setname_np(pthread_self(), "ALL CPUs/TCG");
    const bool counted = clock_icount_enabled();
    std::unique_lock lk(g_mutex);
    for (;;) {
        g_cv.wait(lk, [] { return g_quit || g_running; });
        if (g_quit) break;
        bool ran = false;
        for (auto &vp : g_cpus) {
            Vcpu &v = *vp;
            if (!g_running || g_quit) break;
            if (v.halted) {
                if (!v.wake) {
                    lk.unlock();
                    bool work = v.cls->has_work(v.cpu);
                    lk.lock();
                    if (!work && !v.wake) continue;
                }
                v.halted = false;
            }
            v.wake = false;
            uint64_t budget = kSingleSlice;
            if (counted) {
                int64_t deadline = timers_deadline(Clock::Virtual);
                budget = deadline < 0 ? kIcountSlice : std::min(kIcountSlice, clock_icount_budget(deadline));
            }
            v.in_exec = true;
            lk.unlock();
            uint64_t done = 0;
            ts_cpu_exit r = v.icount->exec_budget(v.cpu, budget, &done);
            if (counted) clock_icount_add(done);
            lk.lock();
            v.in_exec = false;
            g_cv.notify_all();
            ran = true;
            if (r == TS_CPU_HALTED) v.halted = true;
            else if (r == TS_CPU_DEBUG && icount_debug_stop(v, lk)) break;
        }
        if (g_quit || !g_running) continue;
        if (!counted) {
            // The main loop runs the timers; idle until an interrupt wakes a CPU.
            bool woken = false;
            for (auto &v : g_cpus) woken |= v->wake;
            if (!ran && !woken) g_cv.wait_for(lk, std::chrono::milliseconds(10));
            continue;
        }
        lk.unlock();
        int64_t deadline = timers_deadline(Clock::Virtual);
        if (deadline >= 0 && deadline <= clock_ns(Clock::Virtual)) {
            bql_lock();
            timers_run_expired_on(Clock::Virtual);
            bql_unlock();
        }
        clock_icount_adjust();
        lk.lock();
        if (!ran && g_running && !g_quit) icount_idle(lk);
    }
}

}  // namespace

void vcpu_single_thread_prepare(const char *what) {
    for (auto &v : g_cpus) {
        auto *ops = v->cls->get_capability
                        ? static_cast<const ts_cpu_icount_ops *>(v->cls->get_capability(v->cpu, TS_CPU_ICOUNT_V1))
                        : nullptr;
        if (!ops || ops->size < sizeof(ts_cpu_icount_ops) || !ops->exec_budget)
            throw UsageError(std::string(what) + ": CPU '" + v->obj->path + "' cannot run in counted slices");
        v->icount = ops;
    }
}

const char *runstate_name(RunState s) {
    switch (s) {
    case RunState::Prelaunch: return "prelaunch";
    case RunState::Running: return "running";
    case RunState::Paused: return "paused";
    case RunState::Shutdown: return "shutdown";
    case RunState::GuestPanicked: return "guest-panicked";
    case RunState::Debug: return "debug";
    }
    return "?";
}

RunState runstate() { return g_state; }

void vcpu_register(ts_object *cpu_obj, const ts_cpu_class *cls) {
    auto v = std::make_unique<Vcpu>();
    v->obj = cpu_obj;
    v->cls = cls;
    v->cpu = cpu_obj->instance;
    v->index = static_cast<unsigned>(g_cpus.size());
    g_cpus.push_back(std::move(v));
}

unsigned vcpu_count() { return static_cast<unsigned>(g_cpus.size()); }
ts_object *vcpu_object(unsigned i) { return i < g_cpus.size() ? g_cpus[i]->obj : nullptr; }
void *vcpu_instance(unsigned i) { return i < g_cpus.size() ? g_cpus[i]->cpu : nullptr; }
const ts_cpu_class *vcpu_class(unsigned i) { return i < g_cpus.size() ? g_cpus[i]->cls : nullptr; }

void vcpus_create_threads() {
    if (!g_cpus.empty() && g_cpus.front()->icount) {
        g_cpus.front()->thread = std::thread(single_thread);
        return;
    }
    for (auto &v : g_cpus) v->thread = std::thread(vcpu_thread, v.get());
}

void vm_start() {
    if (g_state == RunState::Running) return;
    clock_virtual_start();
    {
        std::lock_guard lk(g_mutex);
        g_running = true;
        g_state = RunState::Running;
        // A halted CPU re-checks for work after every start: a reset may
        // have changed its state, and its thread may have slept through the
        // stop (stop and start both landing while it asked has_work()).
        for (auto &v : g_cpus) v->wake = true;
    }
    trace(TraceEvent::VmStateChange, "state=%s", runstate_name(RunState::Running));
    g_cv.notify_all();
    notify_state(RunState::Running);
}

void vm_stop(RunState next) {
    {
        std::lock_guard lk(g_mutex);
        g_running = false;
        g_state = next;
    }
    trace(TraceEvent::VmStateChange, "state=%s", runstate_name(next));
    for (auto &v : g_cpus) v->cls->kick(v->cpu);
    g_cv.notify_all();
    // vCPUs may need the kernel lock to finish an MMIO access: drop it while
    // waiting for them to leave exec.
    const bool had_bql = bql_locked();
    if (had_bql) bql_unlock();
    {
        std::unique_lock lk(g_mutex);
        g_cv.wait(lk, [] {
            for (auto &v : g_cpus)
                if (v->in_exec) return false;
            return true;
        });
    }
    if (had_bql) bql_lock();
    clock_virtual_stop();
    notify_state(next);
}

void vcpu_wake(ts_object *cpu_obj) {
    {
        std::lock_guard lk(g_mutex);
        for (auto &v : g_cpus)
            if (v->obj == cpu_obj) v->wake = true;
    }
    g_cv.notify_all();
}

void vcpus_destroy() {
    {
        std::lock_guard lk(g_mutex);
        g_quit = true;
        g_running = false;
    }
    for (auto &v : g_cpus) v->cls->kick(v->cpu);
    g_cv.notify_all();
    const bool had_bql = bql_locked();
    if (had_bql) bql_unlock();
    for (auto &v : g_cpus)
        if (v->thread.joinable()) v->thread.join();
    if (had_bql) bql_lock();
}

void vcpu_set_thread_names(bool on) { g_thread_names = on; }
void vcpu_set_debug_handler(std::function<void(unsigned)> h) { g_debug_handler = std::move(h); }
void vcpu_add_state_listener(std::function<void(RunState)> listener) {
    g_state_listeners.push_back(std::move(listener));
}

}  // namespace tessera
