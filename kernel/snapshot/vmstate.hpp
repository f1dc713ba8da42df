// The whole machine's state as one byte stream: the virtual clock, the
// contents of every RAM and ROM region, and for every realized object its
// declared state (ts_state_decl, matched field by field by name) and the
// levels of its IRQ outputs. savevm writes it into a disk image; loadvm and
// -loadvm read it back into a machine made from the same command line.
//
// The caller stops the vCPUs first (vm_stop) and holds the kernel lock.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <stdexcept>
#include <string>

struct ts_object;
struct ts_region;

namespace tessera {

// Bad or mismatching saved state: the message says what, in one line.
struct VmStateError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class VmStateSink {
public:
    virtual ~VmStateSink() = default;
    virtual void write(std::span<const uint8_t> bytes) = 0;
};

// Random access, so a load can check everything before changing anything.
class VmStateSource {
public:
    virtual ~VmStateSource() = default;
    // Throws VmStateError when pos + buf.size() lies beyond the state.
    virtual void read(uint64_t pos, std::span<uint8_t> buf) = 0;
};

// Writes the state of the machine under `objects` (normally the root) with
// its memory under `memory` (the system memory region). Returns the bytes
// written. Zero pages of RAM take no room.
uint64_t vmstate_save(VmStateSink &out, ts_object *objects, ts_region *memory, int64_t virtual_clock_ns);

// Reads it back. Everything is checked (sections, object paths, field
// names, types and sizes, RAM sizes) before the machine is touched; then
// before_apply runs (savevm reverts the disks there) and
// the virtual clock (which must be stopped), RAM, fields and timers are set,
// post_load hooks run, and IRQ lines are driven to their saved levels.
// Returns the virtual clock value. Throws VmStateError.
int64_t vmstate_load(VmStateSource &in, ts_object *objects, ts_region *memory,
                     const std::function<void()> &before_apply = {});

}  // namespace tessera
