// Shared between the HMP command files; not part of the monitor's interface.
#pragma once

#include "monitor/hmp.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tessera::hmp {

// A bad argument: the monitor prints the message, then
// `Try "help CMD" for more information` as the reference does.
struct ArgError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The reference's expression syntax (numbers in C notation, + and -,
// parentheses). Consumes from s; stops at the first thing that is not part
// of the expression. Throws ArgError.
uint64_t parse_expr(std::string_view &s);

std::string_view trim(std::string_view s);

// x and xp: "[/fmt] addr".
std::string memory_dump(HmpState &st, std::string_view args, bool physical, std::string_view cmd);

}  // namespace tessera::hmp
