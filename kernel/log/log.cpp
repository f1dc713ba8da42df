#include "log/log.hpp"

#include "log/trace.hpp"
#include "options/keyval.hpp"

#include <array>
#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <sys/time.h>
#include <vector>

#include <tessera/types.h>

namespace tessera {

volatile uint64_t g_log_mask = 0;

namespace {
std::string g_prog = "tessera";
bool g_timestamp = false;
FILE *g_logfile = nullptr;
std::mutex g_log_lock;
struct Range {
    uint64_t lo, hi;
};
std::vector<Range> g_filter;

struct LogItem {
    uint64_t mask;
    std::string_view name, help;
};
constexpr std::array kItems = {
    LogItem{TS_LOG_OUT_ASM, "out_asm", "show generated host assembly code for each compiled TB"},
    LogItem{TS_LOG_IN_ASM, "in_asm", "show target assembly code for each compiled TB"},
    LogItem{TS_LOG_INT, "int", "show interrupts/exceptions in short format"},
    LogItem{TS_LOG_EXEC, "exec", "show trace before each executed TB (lots of logs)"},
    LogItem{TS_LOG_CPU, "cpu", "show CPU registers before entering a TB (lots of logs)"},
    LogItem{TS_LOG_MMU, "mmu", "log MMU-related activities"},
    LogItem{TS_LOG_PAGE, "page", "dump pages at beginning of user mode emulation"},
    LogItem{TS_LOG_NOCHAIN, "nochain", "do not chain compiled TBs so that \"exec\" and \"cpu\" show complete traces"},
    LogItem{TS_LOG_GUEST_ERROR, "guest_errors", "log when the guest OS does something invalid (eg accessing a non-existent register)"},
    LogItem{TS_LOG_UNIMP, "unimp", "log unimplemented functionality"},
    LogItem{TS_LOG_PLUGIN, "plugin", "output from TCG plugins"},
    LogItem{TS_LOG_STRACE, "strace", "log every user-mode syscall, its input, and its result"},
};

std::string stamp() {
    if (!g_timestamp) return {};
    struct timeval tv;
    gettimeofday(&tv, nullptr);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char buf[64];
    size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, sizeof buf - n, ".%06ldZ ", long(tv.tv_usec));
    return buf;
}
}  // namespace

void set_program_name(std::string_view argv0) {
    auto s = argv0.rfind('/');
    g_prog = std::string(s == std::string_view::npos ? argv0 : argv0.substr(s + 1));
}
const std::string &program_name() { return g_prog; }
void set_msg_timestamp(bool on) { g_timestamp = on; }

void error_report(std::string_view msg) {
    std::string line = stamp() + g_prog + ": " + std::string(msg) + "\n";
    fputs(line.c_str(), stderr);
}

void warn_report(std::string_view msg) { error_report("warning: " + std::string(msg)); }

uint64_t parse_log_items(std::string_view spec) {
    uint64_t mask = 0;
    while (!spec.empty()) {
        size_t c = spec.find(',');
        std::string_view item = spec.substr(0, c);
        spec.remove_prefix(c == std::string_view::npos ? spec.size() : c + 1);
        if (item.empty()) continue;
        if (item == "all") {
            for (auto &i : kItems) mask |= i.mask;
            continue;
        }
        if (item.substr(0, 6) == "trace:") {
            if (trace_enable(item.substr(6)) == 0)
                throw UsageError("-d " + std::string(item) + ": trace event '" + std::string(item.substr(6)) +
                                 "' does not exist ('-trace help' lists them)");
            continue;
        }
        bool found = false;
        for (auto &i : kItems)
            if (i.name == item) {
                mask |= i.mask;
                found = true;
            }
        if (!found)
            throw UsageError("-d " + std::string(item) + ": unknown log item ('-d help' lists them)");
    }
    return mask;
}

std::string log_items_help() {
    std::string s = "Log items (comma separated):\n";
    for (auto &i : kItems) {
        std::string n(i.name);
        s += n + std::string(n.size() < 13 ? 13 - n.size() : 1, ' ') + std::string(i.help) + "\n";
    }
    s += "trace:PATTERN   enable trace events\n\nUse \"-d trace:help\" to get a list of trace events.\n";
    return s;
}

void set_log_file(const std::string &path) {
    std::lock_guard g(g_log_lock);
    if (g_logfile) fclose(g_logfile);
    g_logfile = nullptr;
    if (path.empty()) return;
    g_logfile = fopen(path.c_str(), "w");
    if (!g_logfile) throw UsageError("could not open log file '" + path + "'");
    setvbuf(g_logfile, nullptr, _IOLBF, 0);
}

void log_vprintf(uint64_t mask, const char *fmt, va_list ap) {
    if (!(g_log_mask & mask)) return;
    std::lock_guard g(g_log_lock);
    FILE *f = g_logfile ? g_logfile : stderr;
    vfprintf(f, fmt, ap);
}

void log_write(std::string_view text) {
    std::lock_guard g(g_log_lock);
    FILE *f = g_logfile ? g_logfile : stderr;
    fwrite(text.data(), 1, text.size(), f);
}

void log_printf(uint64_t mask, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    log_vprintf(mask, fmt, ap);
    va_end(ap);
}

void set_log_filter(std::string_view spec) {
    g_filter.clear();
    while (!spec.empty()) {
        size_t c = spec.find(',');
        std::string item(spec.substr(0, c));
        spec.remove_prefix(c == std::string_view::npos ? spec.size() : c + 1);
        size_t p;
        Range r{};
        auto num = [&](std::string_view s) { return parse_uint(s); };
        if ((p = item.find("..")) != std::string::npos) {
            r = {num(std::string_view(item).substr(0, p)), num(std::string_view(item).substr(p + 2))};
        } else if ((p = item.find('+')) != std::string::npos) {
            uint64_t lo = num(std::string_view(item).substr(0, p)), len = num(std::string_view(item).substr(p + 1));
            if (len == 0) throw UsageError("-dfilter: range length cannot be zero: " + item);
            r = {lo, lo + len - 1};
        } else if ((p = item.find('-', 1)) != std::string::npos) {
            uint64_t lo = num(std::string_view(item).substr(0, p)), len = num(std::string_view(item).substr(p + 1));
            if (len == 0 || len > lo + 1) throw UsageError("-dfilter: bad range: " + item);
            r = {lo - len + 1, lo};
        } else {
            throw UsageError("-dfilter: bad range: " + item + " (use START+LEN, START-LEN or START..END)");
        }
        if (r.hi < r.lo) throw UsageError("-dfilter: bad range: " + item);
        g_filter.push_back(r);
    }
}

bool log_filter_allows(uint64_t addr) {
    if (g_filter.empty()) return true;
    for (auto &r : g_filter)
        if (addr >= r.lo && addr <= r.hi) return true;
    return false;
}

}  // namespace tessera
