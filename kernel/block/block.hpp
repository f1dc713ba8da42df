// The block layer: -blockdev / -drive / -snapshot configuration, the node
// graph (node.hpp) and the backends devices attach to.
//
// Use from the kernel:
//   block_set_virtio_drive_hook([&](const std::string &id) { add -device virtio-blk-device,drive=id });
//   block_configure(blockdevs, drives, snapshot_all);   // throws UsageError
//   ... devices attach through the host table (host_glue.hpp) ...
//   block_close_all();                                   // at exit
#pragma once

#include "block/node.hpp"
#include "options/keyval.hpp"

#include <tessera/types.h>

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct ts_block_be {};  // the ABI's opaque handle; a BlockBackend

namespace tessera {

// The reference's -drive cache= modes.
struct CacheMode {
    bool writeback = true;   // off: flush after every write (writethrough, directsync)
    bool direct = false;     // O_DIRECT (none, directsync)
    bool no_flush = false;   // ignore flushes (unsafe)
};
// "none", "writeback", ...; throws UsageError("invalid cache option").
CacheMode parse_cache_mode(std::string_view name);

// What a device attaches to: a -drive (named by its id) or a node
// (anonymous backend made when a device names a node-name). One device per
// backend. An empty -drive (no file=) has no root.
class BlockBackend : public ts_block_be {
public:
    BlockBackend(std::string name, BlockNode *root, bool read_only, bool writeback);
    ~BlockBackend();
    BlockBackend(const BlockBackend &) = delete;
    BlockBackend &operator=(const BlockBackend &) = delete;

    const std::string &name() const { return name_; }   // "" if anonymous
    BlockNode *root() const { return root_; }
    bool read_only() const { return read_only_; }
    bool writeback() const { return writeback_; }
    ts_object *device() const { return device_; }
    // An if=virtio (not if=none) drive: its device is made automatically.
    bool auto_connected() const { return auto_connected_; }
    void set_auto_connected() { auto_connected_ = true; }

    // Claims the backend for a device; UsageError with the reference's
    // messages (in use, no medium, image locked by another process).
    void attach(ts_object *device);
    void detach();

    // Bounds-checked I/O; BlockError on failure.
    void pread(uint64_t offset, std::span<uint8_t> buf);
    void pwrite(uint64_t offset, std::span<const uint8_t> buf);
    void flush();
    void discard(uint64_t offset, uint64_t len);
    uint64_t length();

private:
    std::string user_desc() const;
    void check(uint64_t offset, uint64_t len);
    std::string name_;
    BlockNode *root_;
    bool read_only_, writeback_;
    ts_object *device_ = nullptr;
    bool auto_connected_ = false;
};

// Opens every -blockdev (in order), then every -drive. snapshot_all is
// -snapshot. Throws UsageError with the reference's messages.
void block_configure(const std::vector<KeyVals> &blockdevs, const std::vector<KeyVals> &drives,
                     bool snapshot_all);
// Single steps of the above (e.g. for a monitor's blockdev-add).
BlockNode &block_open_blockdev(const KeyVals &opts);
BlockBackend &block_open_drive(const KeyVals &opts, bool snapshot_all = false);

// blockdev-del: removes a node -blockdev or blockdev-add made, with the
// children opened along with it. UsageError with the reference's messages
// when there is no such node, a device or backend uses it, another node
// has it as a child, or it was not made by the monitor.
void block_del_node(std::string_view node_name);

// Called for every if=virtio drive with its id; the kernel creates
// -device virtio-blk-device,drive=ID.
void block_set_virtio_drive_hook(std::function<void(const std::string &drive_id)> hook);

// The backend of a -drive id, or of the device attached to node-name id.
BlockBackend *block_backend_find(std::string_view id);
// Attaches `device` to the -drive named id, or else to a new anonymous
// backend over node-name id (one per device, as the reference does).
// `prop` is the device's property, for messages.
BlockBackend &block_attach(std::string_view id, ts_object *device, std::string_view prop);

// Every backend, in creation order (savevm walks them).
std::vector<BlockBackend *> block_backends();

void block_flush_all();
// Flushes and closes everything (backends, then nodes: locks and temporary
// overlays go away). Safe to call twice.
void block_close_all();
// The monitor's `info block`.
std::string block_info_text();

}  // namespace tessera
