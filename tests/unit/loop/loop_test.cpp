#include "loop/bql.hpp"
#include "loop/clock.hpp"
#include "loop/main_loop.hpp"
#include "loop/timer.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

using namespace tessera;
using namespace std::chrono_literals;

namespace {

constexpr int64_t kMs = 1'000'000;

// Iterate the loop until pred() or a 2 s timeout; tests never hang.
template <class Pred>
bool spin_until(Pred pred, std::chrono::milliseconds limit = 2000ms)
{
    auto end = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > end)
            return false;
        main_loop().iterate(10 * kMs);
    }
    return true;
}

void spin_for(std::chrono::milliseconds d)
{
    auto end = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < end)
        main_loop().iterate(5 * kMs);
}

struct Record {
    std::vector<int> order;
    bool bql_held = true;
};
struct Tag {
    Record *rec;
    int n;
};
void record_cb(void *p)
{
    auto *t = static_cast<Tag *>(p);
    t->rec->order.push_back(t->n);
    t->rec->bql_held &= bql_locked();
}

// Runs the loop on its own thread for the scope (like the kernel does).
class LoopThread {
public:
    LoopThread() : thread_([] { main_loop().run(); }) {}
    ~LoopThread()
    {
        main_loop().quit();
        thread_.join();
    }

private:
    std::thread thread_;
};

}  // namespace

TEST(Bql, GuardAndOwnership)
{
    EXPECT_FALSE(bql_locked());
    {
        BqlGuard g;
        EXPECT_TRUE(bql_locked());
        std::thread([] { EXPECT_FALSE(bql_locked()); }).join();
    }
    EXPECT_FALSE(bql_locked());
}

TEST(Clock, VirtualStopsAndResumesWhereItStopped)
{
    clock_virtual_start();
    std::this_thread::sleep_for(2ms);
    clock_virtual_stop();
    int64_t frozen = clock_ns(Clock::Virtual);
    std::this_thread::sleep_for(5ms);
    EXPECT_EQ(clock_ns(Clock::Virtual), frozen);
    EXPECT_FALSE(clock_virtual_running());
    clock_virtual_start();
    int64_t resumed = clock_ns(Clock::Virtual);
    EXPECT_GE(resumed, frozen);
    EXPECT_LT(resumed - frozen, 4 * kMs);  // did not count the pause
    EXPECT_GT(clock_ns(Clock::Realtime), 0);
}

TEST(Clock, HostOffset)
{
    int64_t before = clock_ns(Clock::Host);
    clock_host_set_offset(int64_t(3600) * 1'000'000'000);
    int64_t after = clock_ns(Clock::Host);
    clock_host_set_offset(0);
    EXPECT_NEAR(double(after - before), 3600e9, 1e9);
    // Wall clock: within a day of the system's idea of now.
    EXPECT_NEAR(double(clock_ns(Clock::Host)) / 1e9, double(time(nullptr)), 2.0);
}

TEST(Timer, FireInDeadlineOrderWithBql)
{
    Record rec;
    Tag a{&rec, 1}, b{&rec, 2}, c{&rec, 3};
    Timer t3(Clock::Realtime, record_cb, &c), t1(Clock::Realtime, record_cb, &a),
        t2(Clock::Realtime, record_cb, &b);
    int64_t now = clock_ns(Clock::Realtime);
    t3.mod(now + 6 * kMs);
    t1.mod(now + 2 * kMs);
    t2.mod(now + 4 * kMs);
    EXPECT_TRUE(t1.pending());
    EXPECT_EQ(t2.expire_time(), now + 4 * kMs);
    ASSERT_TRUE(spin_until([&] { return rec.order.size() == 3; }));
    EXPECT_EQ(rec.order, (std::vector<int>{1, 2, 3}));
    EXPECT_TRUE(rec.bql_held);
    EXPECT_FALSE(t1.pending());
    EXPECT_EQ(t1.expire_time(), -1);
}

TEST(Timer, DelAndReMod)
{
    Record rec;
    Tag a{&rec, 1}, b{&rec, 2};
    Timer t1(Clock::Realtime, record_cb, &a), t2(Clock::Realtime, record_cb, &b);
    int64_t now = clock_ns(Clock::Realtime);
    t1.mod(now + 1 * kMs);
    t2.mod(now + 2 * kMs);
    t1.del();
    t1.del();  // harmless
    EXPECT_FALSE(t1.pending());
    ASSERT_TRUE(spin_until([&] { return rec.order.size() == 1; }));
    spin_for(10ms);
    EXPECT_EQ(rec.order, std::vector<int>{2});
    // A destroyed timer leaves its list.
    {
        Timer gone(Clock::Realtime, record_cb, &a);
        gone.mod(clock_ns(Clock::Realtime));
    }
    spin_for(5ms);
    EXPECT_EQ(rec.order, std::vector<int>{2});
}

TEST(Timer, HostClockTimer)
{
    Record rec;
    Tag a{&rec, 7};
    Timer t(Clock::Host, record_cb, &a);
    t.mod(clock_ns(Clock::Host) + kMs);
    ASSERT_TRUE(spin_until([&] { return rec.order.size() == 1; }));
}

TEST(Timer, ModEarlierFromAnotherThreadWakesLoop)
{
    std::promise<void> fired;
    Timer t(Clock::Realtime, [](void *p) { static_cast<std::promise<void> *>(p)->set_value(); }, &fired);
    t.mod(clock_ns(Clock::Realtime) + 60'000 * kMs);  // a minute away
    LoopThread loop;
    std::this_thread::sleep_for(20ms);  // the loop now polls with a long timeout
    auto start = std::chrono::steady_clock::now();
    t.mod(clock_ns(Clock::Realtime) + 5 * kMs);
    ASSERT_EQ(fired.get_future().wait_for(2s), std::future_status::ready);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

TEST(Timer, VirtualTimersWaitWhileStopped)
{
    clock_virtual_stop();
    Record rec;
    Tag a{&rec, 1};
    Timer t(Clock::Virtual, record_cb, &a);
    t.mod(clock_ns(Clock::Virtual) + 1 * kMs);
    spin_for(30ms);
    EXPECT_TRUE(rec.order.empty());
    EXPECT_TRUE(t.pending());
    clock_virtual_start();
    ASSERT_TRUE(spin_until([&] { return rec.order.size() == 1; }));
}

TEST(MainLoop, BottomHalfFromAnotherThread)
{
    struct State {
        std::promise<std::thread::id> ran;
        bool bql = false;
        std::atomic<int> count{0};
    } st;
    Bh *bh = main_loop().bh_new(
        [](void *p) {
            auto *s = static_cast<State *>(p);
            s->bql = bql_locked();
            if (s->count++ == 0)
                s->ran.set_value(std::this_thread::get_id());
        },
        &st);
    std::thread::id loop_id;
    {
        std::thread loop_thread([&] {
            loop_id = std::this_thread::get_id();
            main_loop().run();
        });
        std::thread([&] { main_loop().bh_schedule(bh); }).join();
        auto fut = st.ran.get_future();
        ASSERT_EQ(fut.wait_for(2s), std::future_status::ready);
        main_loop().quit();
        loop_thread.join();
        EXPECT_EQ(fut.get(), loop_id);
    }
    EXPECT_TRUE(st.bql);
    EXPECT_EQ(st.count.load(), 1);
    main_loop().bh_free(bh);
    spin_for(5ms);
}

TEST(MainLoop, QuitFromAnotherThreadEndsRun)
{
    auto fut = std::async(std::launch::async, [] { main_loop().run(); });
    std::this_thread::sleep_for(10ms);
    main_loop().quit();
    EXPECT_EQ(fut.wait_for(2s), std::future_status::ready);
}

TEST(MainLoop, FdHandlersReadWriteAndRemove)
{
    int p[2];
    ASSERT_EQ(pipe(p), 0);
    struct State {
        std::string got;
        int writable = 0;
    } st;
    main_loop().set_fd_handler(
        p[0],
        [](void *s, int fd) {
            char buf[16];
            ssize_t n = read(fd, buf, sizeof buf);
            if (n > 0)
                static_cast<State *>(s)->got.append(buf, size_t(n));
        },
        nullptr, &st);
    EXPECT_TRUE(main_loop().has_fd_handler(p[0]));
    ASSERT_EQ(write(p[1], "hi", 2), 2);
    ASSERT_TRUE(spin_until([&] { return st.got == "hi"; }));

    main_loop().set_fd_handler(p[1], nullptr, [](void *s, int) { static_cast<State *>(s)->writable++; }, &st);
    ASSERT_TRUE(spin_until([&] { return st.writable > 0; }));
    main_loop().set_fd_handler(p[1], nullptr, nullptr, nullptr);
    main_loop().set_fd_handler(p[0], nullptr, nullptr, nullptr);
    EXPECT_FALSE(main_loop().has_fd_handler(p[0]));
    int before = st.writable;
    ASSERT_EQ(write(p[1], "x", 1), 1);
    spin_for(20ms);
    EXPECT_EQ(st.got, "hi");
    EXPECT_EQ(st.writable, before);
    close(p[0]);
    close(p[1]);
}

TEST(MainLoop, TerminationSignalRunsCallbackOnLoop)
{
    std::vector<SignalEvent> seen;
    bool bql = false;
    main_loop().install_termination_signals([&](const SignalEvent &ev) {
        seen.push_back(ev);
        bql = bql_locked();
    });
    ASSERT_EQ(kill(getpid(), SIGTERM), 0);
    ASSERT_TRUE(spin_until([&] { return !seen.empty(); }));
    EXPECT_EQ(seen[0].signo, SIGTERM);
    EXPECT_EQ(seen[0].pid, getpid());
    EXPECT_TRUE(bql);
    std::string msg = termination_message(seen[0]);
    EXPECT_EQ(msg.rfind("terminating on signal 15 from pid " + std::to_string(getpid()) + " (", 0), 0u) << msg;
    std::string self;
    std::ifstream cmdline("/proc/self/cmdline");
    std::getline(cmdline, self, '\0');
    EXPECT_TRUE(msg.ends_with("(" + self + ")")) << msg;
    EXPECT_EQ(termination_message({2, 0}), "terminating on signal 2");
    main_loop().install_termination_signals([](const SignalEvent &) {});
}
