// Parsed option arguments: the reference's "key=value,..." lists, their JSON
// forms, sizes and booleans. Interface shared by every kernel module that
// takes an option argument.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "options/error.hpp"

namespace tessera {

// An ordered list of key=value pairs. Keys may repeat (last wins for get()).
struct KeyVals {
    std::vector<std::pair<std::string, std::string>> items;
    // Set by parse_keyval when help was asked for; the bare help item itself
    // is not stored in items.
    bool help = false;

    const std::string *find(std::string_view key) const;
    std::string get(std::string_view key, std::string_view fallback = {}) const;
    bool has(std::string_view key) const { return find(key) != nullptr; }
    void set(std::string key, std::string value);   // replace (all duplicates) or append
    bool erase(std::string_view key);
    // True when the argument was "help" or "?" (as the value of the implied key
    // or a bare "help"/"?" item), as the reference accepts it; also when an
    // item help=on was set by hand.
    bool wants_help() const;

    // Typed reads of a present key (nullopt when absent). Bad values throw
    // UsageError naming the parameter: "parameter 'size': invalid size ...".
    std::optional<bool> get_bool(std::string_view key) const;
    std::optional<uint64_t> get_size(std::string_view key, char default_suffix = 0) const;
    std::optional<int64_t> get_int(std::string_view key) const;
    std::optional<uint64_t> get_uint(std::string_view key) const;
};

// Parse "a=1,b=2" with the reference's rules: ",," is a literal comma; a
// first item without '=' is the value of implied_key (if non-empty); a later
// bare "flag" means flag=on and "noflag" means flag=off (legacy form, only
// when allow_bare_flags; otherwise "expected '=' after parameter"); empty
// keys are errors; a trailing comma is ignored. JSON objects ('{'-prefixed)
// are accepted when json_ok, nested objects flattened with dots
// ("file.filename"), arrays with numeric indices ("a.0"); JSON booleans
// become "on"/"off", numbers keep their JSON spelling, null is an error.
KeyVals parse_keyval(std::string_view text, std::string_view implied_key = {},
                     bool json_ok = false, bool allow_bare_flags = true);

// Sizes: plain bytes or with suffix k/K, M, G, T, P, E (powers of 1024), "b"
// allowed; default_suffix applies when no suffix is given (e.g. 'M' for -m).
// A decimal fraction needs a unit ("1.5G"); hex ("0x1000") takes no suffix.
// Throws UsageError naming what was wrong.
uint64_t parse_size(std::string_view text, char default_suffix = 0);
// on/off, yes/no, true/false, y/n (reference's spellings). Throws UsageError.
bool parse_bool(std::string_view text);
// Integers: decimal, 0x hex, 0 octal, optional sign (parse_uint refuses
// '-'). Throws UsageError for garbage and overflow.
int64_t parse_int(std::string_view text);
uint64_t parse_uint(std::string_view text);

// Escape a value for re-emission in a keyval list (',' -> ',,').
std::string escape_keyval(std::string_view value);

}  // namespace tessera
