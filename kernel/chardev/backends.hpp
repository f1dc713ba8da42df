// Internal to kernel/chardev: the backend constructors the registry's table
// points at. Each takes the -chardev options (already checked against the
// backend's key list) and throws UsageError one-liners.
#pragma once

#include "chardev/chardev.hpp"
#include "options/keyval.hpp"

#include <memory>
#include <string>

namespace tessera {

using ChardevPtr = std::unique_ptr<Chardev>;

ChardevPtr make_null_chardev(const std::string &id, const KeyVals &opts);
ChardevPtr make_stdio_chardev(const std::string &id, const KeyVals &opts);
ChardevPtr make_file_chardev(const std::string &id, const KeyVals &opts);
ChardevPtr make_pipe_chardev(const std::string &id, const KeyVals &opts);
ChardevPtr make_serial_chardev(const std::string &id, const KeyVals &opts);
ChardevPtr make_pty_chardev(const std::string &id, const KeyVals &opts);
ChardevPtr make_socket_chardev(const std::string &id, const KeyVals &opts);
ChardevPtr make_udp_chardev(const std::string &id, const KeyVals &opts);
ChardevPtr make_ringbuf_chardev(const std::string &id, const KeyVals &opts);

// Where informational lines go ("char device redirected to ..."): stderr
// unless the registry's hook says otherwise.
void chardev_info(const std::string &line);

// Bool option with a default, UsageError on a bad spelling.
bool opt_bool(const KeyVals &opts, std::string_view key, bool fallback);
// Required string option: "chardev: <backend>: no <what> given" when absent.
std::string opt_required(const KeyVals &opts, std::string_view key, std::string_view backend,
                         std::string_view what);

}  // namespace tessera
