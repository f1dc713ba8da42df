// vCPU threads and restarts. A halted CPU must run again after vm_stop +
// vm_start even when both happen while its thread is between "nothing to
// do" and going to sleep (a guest reset through sifive_test hung that way).
#include "vcpu/vcpu.hpp"
#include "qom/object.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

using namespace tessera;

namespace {

std::atomic<int> g_execs{0};
std::atomic<bool> g_restart_inside_has_work{false};

ts_cpu_exit fake_exec(void *) {
    g_execs++;
    return TS_CPU_HALTED;  // like a hart sitting in WFI
}
void fake_kick(void *) {}
int fake_has_work(void *) {
    // Stop and restart the VM exactly in the window where the vCPU thread
    // has dropped its lock to ask for work.
    if (g_restart_inside_has_work.exchange(false)) {
        vm_stop(RunState::Paused);
        vm_start();
    }
    return 0;
}

TEST(Vcpu, RestartWakesAHaltedCpu) {
    static ts_cpu_class cls{};
    cls.size = sizeof cls;
    cls.exec = fake_exec;
    cls.kick = fake_kick;
    cls.has_work = fake_has_work;
    static ts_object obj;
    static int inst;
    obj.instance = &inst;
    vcpu_register(&obj, &cls);
    vcpus_create_threads();
    vm_start();
    auto wait_for = [](int n) {
        for (int i = 0; i < 200 && g_execs < n; i++) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        return g_execs >= n;
    };
    ASSERT_TRUE(wait_for(1));
    // The thread is now asleep in its halted loop; a stop/start cycle must
    // put it back into exec.
    int before = g_execs;
    vm_stop(RunState::Paused);
    vm_start();
    EXPECT_TRUE(wait_for(before + 1)) << "halted CPU not restarted";
    // The racy window: the restart happens inside has_work().
    before = g_execs;
    g_restart_inside_has_work = true;
    vcpu_wake(&obj);  // makes the thread leave its sleep and call has_work again
    EXPECT_TRUE(wait_for(before + 2)) << "restart during has_work was lost";
    vcpus_destroy();
}

}  // namespace
