// The one exception type for bad user input in option, config and JSON parsing.
#pragma once

#include <stdexcept>

namespace tessera {

// A user-facing error: one line, no program-name prefix (main adds it).
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace tessera
