// Trace events (-trace, -d trace:PATTERN): a fixed, documented list of kernel
// events (docs in trace_events.cpp and `-trace help`), each off until
// enabled by a glob pattern. Output goes to the -D log (or stderr), or to
// -trace file=.
#pragma once

#include <cstdarg>
#include <string>
#include <string_view>

namespace tessera {

enum class TraceEvent {
    PluginLoad,        // a plugin was loaded (dlopen + init)
    PluginRefused,     // discovery refused a plugin file
    VmStateChange,     // the run state changed
    SystemReset,       // the machine was reset
    BlockdevOpen,      // a block node was opened
    ChardevNew,        // a chardev was created
    Count,
};

// -trace [enable=]PATTERN[,events=FILE][,file=FILE]; throws UsageError.
void trace_configure(std::string_view arg);
// Enables every event matching a glob ("vm_*"); returns how many matched.
int trace_enable(std::string_view pattern);
std::string trace_help();
bool trace_enabled(TraceEvent e);
void trace(TraceEvent e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace tessera
