// vCPU threads and the machine's run state. One thread per CPU runs guest
// code through the target's ts_cpu_class::exec without the kernel lock.
#pragma once

#include <tessera/classes.h>

#include <cstdint>
#include <functional>
#include <string>

namespace tessera {

enum class RunState { Prelaunch, Running, Paused, Shutdown, GuestPanicked, Debug };
const char *runstate_name(RunState s);
RunState runstate();

// Registers a realized CPU object (board calls host->cpu_new).
void vcpu_register(ts_object *cpu_obj, const ts_cpu_class *cls);
unsigned vcpu_count();
ts_object *vcpu_object(unsigned i);
void *vcpu_instance(unsigned i);
const ts_cpu_class *vcpu_class(unsigned i);

// -icount or -accel tcg,thread=single (what: the option, for messages):
// every CPU must offer tessera.icount.v1 (UsageError otherwise);
// vcpus_create_threads then makes one thread running them all in turn (and,
// under -icount, the virtual clock's timers between the slices).
void vcpu_single_thread_prepare(const char *what);
// Starts the threads (they wait until vm_start).
void vcpus_create_threads();
// Resume/stop guest execution; stop waits until every vCPU has left exec().
// Both must be called with the kernel lock held (it is dropped while waiting).
void vm_start();
void vm_stop(RunState next = RunState::Paused);
// Wake a halted CPU (interrupt arrived). Thread-safe.
void vcpu_wake(ts_object *cpu_obj);
// Joins the threads at exit.
void vcpus_destroy();

// Set by -name debug-threads=on: threads are named "CPU n/TCG".
void vcpu_set_thread_names(bool on);

// Called on the vCPU's thread when its exec reports TS_CPU_DEBUG (the
// handler hands the event to the main loop).
void vcpu_set_debug_handler(std::function<void(unsigned cpu)> h);

// Listeners told the new run state after every vm_start (Running) and
// vm_stop (its `next`, once the vCPUs have left exec), in the order added,
// on the caller's thread with the kernel lock held. QMP (its STOP/RESUME/
// SHUTDOWN events) and the gdbstub (stop replies) each add one.
void vcpu_add_state_listener(std::function<void(RunState)> listener);

}  // namespace tessera
