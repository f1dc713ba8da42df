// Block graph nodes: what -blockdev creates. A node has a driver (a plugin's
// ts_block_driver_class instance or a kernel-internal one), its options,
// generic flags, named children and the permissions its users hold.
#pragma once

#include "options/keyval.hpp"

#include <tessera/block.h>
#include <tessera/types.h>

#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tessera {

// An I/O failure (not a usage error): the message says what went wrong.
struct BlockError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

constexpr uint64_t kPermRead = TS_BLOCK_PERM_CONSISTENT_READ;
constexpr uint64_t kPermWrite = TS_BLOCK_PERM_WRITE;
constexpr uint64_t kPermWriteUnchanged = TS_BLOCK_PERM_WRITE_UNCHANGED;
constexpr uint64_t kPermResize = TS_BLOCK_PERM_RESIZE;
constexpr uint64_t kPermAll = TS_BLOCK_PERM_ALL;
// "write, resize": the reference's names of a permission set.
std::string perm_names(uint64_t perms);

// What a node's driver does; requests arrive bounds-checked.
class NodeDriver {
public:
    virtual ~NodeDriver() = default;
    virtual void pread(uint64_t offset, std::span<uint8_t> buf) = 0;
    virtual void pwrite(uint64_t offset, std::span<const uint8_t> buf) = 0;
    virtual void flush() {}
    virtual uint64_t length() = 0;
    virtual void discard(uint64_t, uint64_t) {}
    virtual void truncate(uint64_t) { throw BlockError("Image does not support resizing"); }
    // The combined permissions of the node's users changed (image locking).
    virtual void set_perm(uint64_t, uint64_t) {}
    // What this node needs from its child `role` given its own users'
    // needs; filters pass them through.
    virtual std::pair<uint64_t, uint64_t> child_perm(std::string_view, uint64_t perm, uint64_t shared) {
        return {perm, shared};
    }
};

class BlockNode {
public:
    struct Child {
        std::string role;  // "file", "backing"
        BlockNode *node;
    };
    // Generic options every node has; children inherit them unless set.
    struct Flags {
        bool read_only = false;
        bool force_share = false;
        bool cache_direct = false;
        bool cache_no_flush = false;
        std::string discard = "ignore";
        std::string detect_zeroes = "off";
    };

    BlockNode(std::string name, std::string driver, KeyVals options, Flags flags);
    ~BlockNode();
    BlockNode(const BlockNode &) = delete;
    BlockNode &operator=(const BlockNode &) = delete;

    const std::string &name() const { return name_; }
    const std::string &driver_name() const { return driver_name_; }
    const KeyVals &options() const { return options_; }
    const Flags &flags() const { return flags_; }
    bool read_only() const { return flags_.read_only; }
    bool probed() const { return probed_; }
    void set_probed() { probed_ = true; }
    const std::vector<Child> &children() const { return children_; }
    BlockNode *child(std::string_view role) const;
    ts_object *object() const { return object_; }
    // The file the data finally lives in (for messages and info block).
    std::string filename() const;

    // Set up while opening (config.cpp).
    void add_child(std::string role, BlockNode *node) { children_.push_back({std::move(role), node}); }
    // A child the kernel opened for the driver (a backing file named in the
    // image): closed together with this node.
    void add_owned_child(std::string role, BlockNode *node) {
        add_child(std::move(role), node);
        owned_.push_back(node);
    }
    void take_ownership(BlockNode *node) { owned_.push_back(node); }
    // A -blockdev / blockdev-add root: blockdev-del may remove it.
    bool monitor_owned() const { return monitor_owned_; }
    void set_monitor_owned() { monitor_owned_ = true; }
    // The temporary qcow2 overlay of -snapshot.
    bool snapshot_overlay() const { return snapshot_overlay_; }
    void set_snapshot_overlay() { snapshot_overlay_ = true; }
    const std::vector<BlockNode *> &owned_children() const { return owned_; }
    void set_driver(std::unique_ptr<NodeDriver> d, ts_object *obj) {
        driver_ = std::move(d);
        object_ = obj;
    }

    // I/O; BlockError for out-of-range requests and driver failures.
    void pread(uint64_t offset, std::span<uint8_t> buf);
    void pwrite(uint64_t offset, std::span<const uint8_t> buf);
    void flush();             // this node, then its children
    uint64_t length();        // cached: see refresh_length
    void discard(uint64_t offset, uint64_t len);
    // Resizes the node (a format growing its file); BlockError on failure.
    void truncate(uint64_t len);
    // Asks the driver again (after open, or a resize).
    void refresh_length();

    // Permissions. A user (a backend, or a parent node) is identified by
    // `key`; setting its needs re-checks every other user of this node and,
    // through the driver, other processes (image locks). Throws UsageError
    // and leaves everything as it was on conflict.
    void set_user(const void *key, std::string desc, std::string role, uint64_t perm, uint64_t shared);
    void remove_user(const void *key);
    uint64_t perm() const { return perm_; }
    uint64_t shared() const { return shared_; }

private:
    struct User {
        const void *key;
        std::string desc, role;
        uint64_t perm, shared;
    };
    static constexpr uint64_t kProbeBytes = 512;
    void check_range(uint64_t offset, uint64_t len);
    void guard_probed_head(uint64_t offset, std::span<const uint8_t> buf);
    void refresh_perms();

    std::string name_, driver_name_;
    KeyVals options_;
    Flags flags_;
    bool probed_ = false, snapshot_overlay_ = false, monitor_owned_ = false;
    std::vector<Child> children_;
    std::vector<BlockNode *> owned_;
    std::unique_ptr<NodeDriver> driver_;
    ts_object *object_ = nullptr;  // plugin drivers' instance; owned by the graph
    std::vector<User> users_;
    uint64_t perm_ = 0, shared_ = kPermAll;
    uint64_t length_ = 0;
    bool length_known_ = false;
};

// The format whose probe scores highest on an image's first bytes; "" if
// none claims it (config.cpp).
std::string probe_image(std::span<const uint8_t> head, const std::string &filename);

// The driver of a plugin node: its class functions over its instance.
std::unique_ptr<NodeDriver> make_plugin_driver(ts_object *obj);

// The graph: nodes by name, in creation order (children before parents).
BlockNode *node_find(std::string_view name);
BlockNode *node_of_object(ts_object *obj);
BlockNode &node_register(std::unique_ptr<BlockNode> node);
void node_unregister(BlockNode *node);  // destroys it, then the children it owns
// Keeps children before parents after a driver opened a child late.
void node_move_to_end(BlockNode *node);
// Opens `filename` (format given, or probed) read-only as a backing child
// of `parent` (config.cpp); the parent owns the new nodes.
BlockNode &block_open_backing(BlockNode &parent, const std::string &role, const std::string &filename,
                              const char *format);
const std::vector<std::unique_ptr<BlockNode>> &nodes();
std::string node_auto_name();           // "#block003"
// The internal-snapshot capability of a node's driver (qcow2), or null.
const ts_block_snapshot_ops *node_snapshot_ops(const BlockNode &node);
// The child capability handed to format drivers (TS_BLOCK_CHILD_CAP).
const ts_block_child_ops *block_child_ops();

}  // namespace tessera
