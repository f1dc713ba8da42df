#include "loop/timer.hpp"

#include <array>
#include <atomic>
#include <limits>
#include <mutex>
#include <set>

namespace tessera {

namespace {
struct ByDeadline {
    bool operator()(const Timer *a, const Timer *b) const;
};
}  // namespace

struct TimerLists {
    std::mutex lock;
    std::array<std::set<Timer *, ByDeadline>, kClockCount> lists;
    uint64_t next_seq = 0;

    static int64_t deadline(const Timer *t) { return t->deadline_; }
    static uint64_t seq(const Timer *t) { return t->seq_; }

    // Returns true when t became the first of its list.
    bool arm(Timer *t, int64_t deadline)
    {
        auto &list = lists[int(t->clock_)];
        if (t->armed_)
            list.erase(t);
        t->deadline_ = deadline;
        t->seq_ = next_seq++;
        t->armed_ = true;
        auto where = list.insert(t).first;  // before begin(): == has no evaluation order
        return where == list.begin();
    }
    void disarm(Timer *t)
    {
        if (!t->armed_)
            return;
        lists[int(t->clock_)].erase(t);
        t->armed_ = false;
        t->deadline_ = -1;
    }
    // Pops the first expired timer of a list, nullptr if none.
    Timer *pop_expired(Clock c, int64_t now, TimerCallback &cb, void *&opaque)
    {
        auto &list = lists[int(c)];
        if (list.empty() || (*list.begin())->deadline_ > now)
            return nullptr;
        Timer *t = *list.begin();
        list.erase(list.begin());
        t->armed_ = false;
        t->deadline_ = -1;
        cb = t->cb_;
        opaque = t->opaque_;
        return t;
    }
};

namespace {
// A namespace-scope object (not a function-local static): it must outlive
// every Timer, including those owned by function-local statics such as the
// chardev registry, which are destroyed first.
TimerLists g_lists;
TimerLists &lists() { return g_lists; }
std::atomic<void (*)()> g_notify{nullptr};

bool ByDeadline::operator()(const Timer *a, const Timer *b) const
{
    int64_t da = TimerLists::deadline(a), db = TimerLists::deadline(b);
    return da != db ? da < db : TimerLists::seq(a) < TimerLists::seq(b);
}

bool clock_runs(Clock c) { return c != Clock::Virtual || clock_virtual_running(); }
// Whether the main loop runs this clock's timers (not the virtual clock's under -icount).
bool main_loop_runs(Clock c) { return clock_runs(c) && !(c == Clock::Virtual && clock_icount_enabled()); }

int run_expired(Clock c)
{
    int ran = 0;
    // One sample of the clock per pass: a timer re-armed by its callback
    // for a later time waits for the next pass.
    int64_t now = clock_ns(c);
    for (;;) {
        if (!clock_runs(c))
            break;
        TimerCallback cb;
        void *opaque;
        {
            std::lock_guard g(lists().lock);
            if (!lists().pop_expired(c, now, cb, opaque))
                break;
        }
        cb(opaque);
        ran++;
    }
    return ran;
}
}  // namespace

Timer::Timer(Clock clock, TimerCallback cb, void *opaque) : clock_(clock), cb_(cb), opaque_(opaque) {}

Timer::~Timer() { del(); }

void Timer::mod(int64_t deadline_ns)
{
    bool first;
    {
        std::lock_guard g(lists().lock);
        first = lists().arm(this, deadline_ns);
    }
    if (first)
        timers_notify();
}

void Timer::del()
{
    std::lock_guard g(lists().lock);
    lists().disarm(this);
}

bool Timer::pending() const
{
    std::lock_guard g(lists().lock);
    return armed_;
}

int64_t Timer::expire_time() const
{
    std::lock_guard g(lists().lock);
    return armed_ ? deadline_ : -1;
}

int64_t timers_timeout_ns()
{
    int64_t best = -1;
    for (int i = 0; i < kClockCount; i++) {
        Clock c = Clock(i);
        if (!main_loop_runs(c))
            continue;
        int64_t deadline;
        {
            std::lock_guard g(lists().lock);
            auto &list = lists().lists[i];
            if (list.empty())
                continue;
            deadline = TimerLists::deadline(*list.begin());
        }
        int64_t left = std::max<int64_t>(0, deadline - clock_ns(c));
        best = best < 0 ? left : std::min(best, left);
    }
    return best;
}

int timers_run_expired()
{
    int ran = 0;
    for (int i = 0; i < kClockCount; i++)
        if (main_loop_runs(Clock(i)))
            ran += run_expired(Clock(i));
    return ran;
}

int timers_run_expired_on(Clock c) { return run_expired(c); }

int64_t timers_deadline(Clock c)
{
    std::lock_guard g(lists().lock);
    auto &list = lists().lists[int(c)];
    return list.empty() ? -1 : TimerLists::deadline(*list.begin());
}

void timers_set_notify(void (*notify)()) { g_notify.store(notify); }

void timers_notify()
{
    if (auto n = g_notify.load())
        n();
}

}  // namespace tessera
