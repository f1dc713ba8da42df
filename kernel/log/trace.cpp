#include "log/trace.hpp"

#include "log/log.hpp"
#include "options/keyval.hpp"

#include <fnmatch.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <mutex>

namespace tessera {

namespace {

struct EventInfo {
    const char *name;
    const char *doc;
};
// The documented list: name, then what it reports.
constexpr std::array<EventInfo, size_t(TraceEvent::Count)> kEvents = {{
    {"plugin_load", "a plugin was loaded: path, plugin name"},
    {"plugin_refused", "discovery refused a plugin file: path, reason"},
    {"vm_state_change", "the run state changed: new state"},
    {"system_reset", "the machine was reset"},
    {"blockdev_open", "a block node was opened: node name, driver"},
    {"chardev_new", "a chardev was created: id, backend"},
}};

std::array<std::atomic<bool>, size_t(TraceEvent::Count)> g_on{};
FILE *g_file = nullptr;
std::mutex g_lock;

}  // namespace

int trace_enable(std::string_view pattern) {
    std::string p(pattern);
    int n = 0;
    for (size_t i = 0; i < kEvents.size(); i++)
        if (fnmatch(p.c_str(), kEvents[i].name, 0) == 0) {
            g_on[i] = true;
            n++;
        }
    return n;
}

void trace_configure(std::string_view arg) {
    KeyVals kv = parse_keyval(arg, "enable");
    for (const auto &[k, v] : kv.items)
        if (k != "enable" && k != "events" && k != "file")
            throw UsageError("-trace " + std::string(arg) + ": Invalid parameter '" + k + "'");
    auto enable = [&](const std::string &pat) {
        if (trace_enable(pat) == 0)
            throw UsageError("-trace " + std::string(arg) + ": trace event '" + pat + "' does not exist ('-trace help' lists them)");
    };
    if (kv.has("enable")) enable(kv.get("enable"));
    if (kv.has("events")) {
        std::ifstream f(kv.get("events"));
        if (!f) throw UsageError("-trace " + std::string(arg) + ": cannot open events file '" + kv.get("events") + "'");
        for (std::string line; std::getline(f, line);)
            if (!line.empty() && line[0] != '#') enable(line);
    }
    if (kv.has("file")) {
        std::lock_guard g(g_lock);
        if (g_file) fclose(g_file);
        g_file = fopen(kv.get("file").c_str(), "w");
        if (!g_file) throw UsageError("-trace " + std::string(arg) + ": cannot open trace file '" + kv.get("file") + "'");
        setvbuf(g_file, nullptr, _IOLBF, 0);
    }
}

std::string trace_help() {
    std::string s = "Trace events (enable with -trace PATTERN or -d trace:PATTERN, globs allowed):\n";
    for (const auto &e : kEvents) s += std::string(e.name) + std::string(18 - std::string_view(e.name).size(), ' ') + e.doc + "\n";
    return s;
}

bool trace_enabled(TraceEvent e) { return g_on[size_t(e)].load(std::memory_order_relaxed); }

void trace(TraceEvent e, const char *fmt, ...) {
    if (!trace_enabled(e)) return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct timeval tv;
    gettimeofday(&tv, nullptr);
    std::lock_guard g(g_lock);
    // The reference's simple backend layout: pid@seconds.micros:event args
    char line[700];
    snprintf(line, sizeof line, "%d@%ld.%06ld:%s %s\n", int(getpid()), long(tv.tv_sec), long(tv.tv_usec),
             kEvents[size_t(e)].name, msg);
    if (g_file) fputs(line, g_file);
    else log_write(line);
}

}  // namespace tessera
