// -icount's virtual clock (kernel/loop/clock.cpp): instructions times 2^shift
// ns, continuous across stop/start, warped while idle; its timers are left
// to the vCPU executor. A process of its own: -icount cannot be turned off.
#include "loop/clock.hpp"
#include "loop/timer.hpp"

#include <gtest/gtest.h>

using namespace tessera;

namespace {

int g_fired = 0;
void fire(void *) { g_fired++; }

TEST(Icount, VirtualTimeIsInstructionsTimesShift) {
    clock_icount_enable(2, false);
    ASSERT_TRUE(clock_icount_enabled());
    EXPECT_FALSE(clock_icount_sleep());
    clock_virtual_start();
    EXPECT_EQ(clock_ns(Clock::Virtual), 0);
    clock_icount_add(10);
    EXPECT_EQ(clock_ns(Clock::Virtual), 40);
    // 60 ns to go at 4 ns each; a deadline already passed still gives one.
    EXPECT_EQ(clock_icount_budget(100), 15u);
    EXPECT_EQ(clock_icount_budget(101), 16u);
    EXPECT_EQ(clock_icount_budget(10), 1u);
    clock_icount_warp(60);
    EXPECT_EQ(clock_ns(Clock::Virtual), 100);
    clock_virtual_stop();
    clock_icount_add(1000);  // while stopped: the clock stays
    EXPECT_EQ(clock_ns(Clock::Virtual), 100);
    clock_icount_warp(5);    // ignored while stopped
    clock_virtual_start();
    EXPECT_EQ(clock_ns(Clock::Virtual), 100);
    clock_icount_add(1);
    EXPECT_EQ(clock_ns(Clock::Virtual), 104);

    // The main loop leaves virtual timers to the executor.
    Timer t(Clock::Virtual, fire, nullptr);
    t.mod(104);
    EXPECT_EQ(timers_deadline(Clock::Virtual), 104);
    EXPECT_EQ(timers_timeout_ns(), -1);
    EXPECT_EQ(timers_run_expired(), 0);
    EXPECT_EQ(g_fired, 0);
    EXPECT_EQ(timers_run_expired_on(Clock::Virtual), 1);
    EXPECT_EQ(g_fired, 1);
    EXPECT_EQ(timers_deadline(Clock::Virtual), -1);

    // -rtc clock=vm: the host clock is an origin plus virtual time.
    clock_host_follow_virtual(1'000'000'000);
    EXPECT_EQ(clock_ns(Clock::Host), 1'000'000'104);
    clock_icount_add(1);
    EXPECT_EQ(clock_ns(Clock::Host), 1'000'000'108);
}

}  // namespace
