// Internal snapshots of the whole machine, as the monitor's savevm, loadvm,
// delvm and info snapshots and the -loadvm option offer them: the VM state
// (vmstate.hpp) goes into the first writable disk that supports snapshots
// (qcow2), and every writable disk takes a snapshot of the same name.
//
// Called on the main loop thread with the kernel lock held. Errors are
// SnapshotError with the reference's words (the monitor prefixes "Error: ").
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace tessera {

struct SnapshotError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// name empty: "vm-YYYYMMDDHHMMSS". A snapshot of the same name or id is
// replaced, as the reference's savevm does. The VM is paused meanwhile and
// runs again afterwards if it was running.
void savevm(std::string_view name);
// Reverts every disk and the machine to snapshot `name` (a name or an id).
// Everything is checked before anything changes.
void loadvm(std::string_view name);
// Deletes snapshot `name` from every disk that has it.
void delvm(std::string_view name);
// The monitor's `info snapshots`.
std::string snapshots_info_text();

}  // namespace tessera
