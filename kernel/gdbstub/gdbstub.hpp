// The gdb remote serial protocol server: harts as threads, registers through
// the CPU class's gdb_* functions, memory through translate() and the system
// address space, breakpoints/watchpoints/stepping through the CPU's
// "tessera.debug.v1" capability (tessera/debug.h).
//
// Everything runs on the main loop with the kernel lock held.
#pragma once

#include "gdbstub/packet.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace tessera {

enum class RunState;

// -gdb SPEC (-s is "tcp::1234") and HMP "gdbserver SPEC". "tcp:..." gets
// server=on,wait=off (as in the reference), so does "unix:PATH" without a
// server= option. The chardev is created as "gdb"; a running server is
// replaced (its chardev removed). "none" stops the server. Throws UsageError
// (a bad spec leaves a running server alone).
void gdbstub_start(std::string_view spec);
// On an existing chardev (left in place by gdbstub_stop). Throws UsageError
// when a server runs already.
void gdbstub_start_chardev(const std::string &chardev_id);
// Detach the server (its breakpoints go, the VM's run state stays) and
// remove the chardev gdbstub_start made. No-op when none runs.
void gdbstub_stop();
bool gdbstub_running();

// One debugger conversation over any byte transport.
class GdbStub {
public:
    explicit GdbStub(std::function<void(std::string_view)> write);
    ~GdbStub();
    GdbStub(const GdbStub &) = delete;
    GdbStub &operator=(const GdbStub &) = delete;

    // A debugger connected: the VM stops (as the reference does).
    void connected();
    // It went away without detaching: breakpoints go, the VM stays as it is.
    void disconnected();
    void input(std::string_view bytes);

    // Runs one packet and returns the reply payload; nullopt when the reply
    // comes later (a stop reply after c/s). Public for tests.
    std::optional<std::string> handle(std::string_view packet);

    // The main loop learned that cpu stopped for a debug reason.
    void debug_stop(unsigned cpu);
    void run_state_changed(RunState s);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;  // keeps this header free of kernel headers
};

}  // namespace tessera
