// Logging: the -d mask and items, -D file, -dfilter, -msg timestamp=on, and
// the one-line error reports every module uses.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <cstdarg>

namespace tessera {

extern volatile uint64_t g_log_mask;

// Name used in error messages: the basename of argv[0] ("tessera",
// "tessera-system-riscv64").
void set_program_name(std::string_view argv0);
const std::string &program_name();

// "prog: message" on stderr (with a timestamp when -msg timestamp=on).
void error_report(std::string_view msg);
void warn_report(std::string_view msg);
void set_msg_timestamp(bool on);

// -d ITEM[,...]; throws UsageError for an unknown item; "help" handled by caller.
uint64_t parse_log_items(std::string_view spec);
std::string log_items_help();
// -D FILE (empty: stderr). Throws UsageError if it cannot be opened.
void set_log_file(const std::string &path);
// Writes to the -D file (or stderr) whatever the -d mask (trace output).
void log_write(std::string_view text);
void log_printf(uint64_t mask, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vprintf(uint64_t mask, const char *fmt, va_list ap);
// -dfilter RANGE[,...]: 0x1000+0x100, 0x1000-0x10ff, 0x1000..0x10ff
void set_log_filter(std::string_view spec);
bool log_filter_allows(uint64_t addr);

}  // namespace tessera
