// The chardevs of the process, by id: created from -chardev options or from
// the legacy -serial/-monitor/-parallel specs.
#pragma once

#include "chardev/chardev.hpp"
#include "options/keyval.hpp"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace tessera {

// -chardev BACKEND,id=ID,...: opts holds "backend" (the implied key) and the
// backend's options; an "id" key in opts is ignored in favour of id. With
// mux=on the backend is created as "<id>-base" and the returned mux is "<id>".
// Errors are UsageError one-liners in the reference's words.
Chardev &chardev_new(std::string id, const KeyVals &opts);
Chardev *chardev_find(std::string_view id);
// chardev-remove; also closes host resources. False if no such id.
bool chardev_remove(std::string_view id);
void chardev_remove_all();
std::vector<std::string> chardev_ids();
// Backend names for "-chardev help".
std::vector<std::string> chardev_backend_names();

// The -chardev options a legacy spec stands for: "stdio", "null", "pty",
// "vc", "file:PATH", "pipe:PATH", "tcp:[HOST]:PORT[,opts]",
// "telnet:...", "udp:[REMOTE]:PORT[@[SRC]:SRCPORT]", "unix:PATH[,opts]",
// "/dev/..." (host tty), each optionally prefixed by "mon:" (adds mux=on).
KeyVals chardev_legacy_opts(std::string_view spec);
// Create the chardev for a legacy spec under id and return its id. "none"
// returns "" (nothing created); "chardev:NAME" returns NAME if it exists.
std::string chardev_from_legacy(std::string_view spec, std::string id);
// "mon:..." specs also want a monitor on the mux.
inline bool chardev_legacy_wants_monitor(std::string_view spec) { return spec.starts_with("mon:"); }

// Where informational lines ("char device redirected to /dev/pts/3 (label
// serial0)") go; stderr by default.
void chardev_set_info_hook(std::function<void(const std::string &)> hook);

}  // namespace tessera
