// The human monitor (HMP): a line-oriented command interpreter on a chardev.
// This is the kernel's minimal monitor (quit, info, stop/cont, reset); the
// monitor issue grows it (QMP, x/xp, gdbserver...).
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace tessera {

class Hmp {
public:
    explicit Hmp(std::function<void(std::string_view)> out);
    // Bytes typed by the user; complete lines are executed.
    void input(std::string_view bytes);
    // Runs one command line; returns its output (also used by tests).
    std::string execute(std::string_view line);
    void print_banner();
    void prompt();

private:
    std::function<void(std::string_view)> out_;
    std::string line_;
    bool last_cr_ = false;
};

// Starts an HMP instance on the chardev with that id (a mux gets a new
// front end). Throws UsageError if there is no such chardev.
void monitor_hmp_start(const std::string &chardev_id);

}  // namespace tessera
