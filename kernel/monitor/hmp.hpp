// The human monitor (HMP): a line-oriented command interpreter on a chardev,
// matching the reference's command syntax and output shape.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace tessera {

// What the monitor reaches through other kernel modules that are built after
// it (QMP, gdbstub). The program wires these once at start-up; unset hooks
// make the commands do nothing (tests install fakes).
struct HmpHooks {
    std::function<void(std::string_view)> emit_event;  // qmp_emit_event("POWERDOWN")
    // gdbstub_start(spec); spec "none" stops the server if one runs.
    // Throws (UsageError) when the device cannot be opened.
    std::function<void(std::string_view)> gdbserver;
    std::string name;  // -name ("" = none)
    std::string uuid = "00000000-0000-0000-0000-000000000000";
};
void hmp_set_hooks(HmpHooks hooks);

// Per-monitor state the reference keeps across commands.
struct HmpState {
    unsigned cpu = 0;    // `cpu N`: used by x, info registers, info cpus
    char fmt = 'x';      // last x/xp format
    unsigned size = 4;   // last x/xp unit size in bytes
};

class Hmp {
public:
    explicit Hmp(std::function<void(std::string_view)> out);
    // Bytes typed by the user; complete lines are executed.
    void input(std::string_view bytes);
    // Runs one command line; returns its output (also used by tests).
    std::string execute(std::string_view line);
    void print_banner();
    void prompt();
    const HmpState &state() const { return state_; }

private:
    std::function<void(std::string_view)> out_;
    std::string line_;
    bool last_cr_ = false;
    HmpState state_;
};

// Starts an HMP instance on the chardev with that id (a mux gets a new
// front end). Throws UsageError if there is no such chardev.
void monitor_hmp_start(const std::string &chardev_id);

}  // namespace tessera
