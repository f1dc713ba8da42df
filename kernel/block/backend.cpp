#include "block/block.hpp"
#include "block/internal.hpp"

#include "qom/object.hpp"

#include <algorithm>
#include <memory>
#include <sstream>

namespace tessera {

namespace {

// Backends hold claims on nodes: made after the graph, gone before it.
struct Backends {
    Backends() { nodes(); }
    std::vector<std::unique_ptr<BlockBackend>> list;
};
std::vector<std::unique_ptr<BlockBackend>> &backends() {
    static Backends b;
    return b.list;
}

// What a device needs from its image, as the reference's block devices ask:
// others may read and resize, but not write unless force-share=on.
constexpr uint64_t kDeviceShared = kPermRead | kPermWriteUnchanged | kPermResize;

}  // namespace

CacheMode parse_cache_mode(std::string_view name) {
    struct Row {
        std::string_view name;
        CacheMode mode;
    };
    static constexpr Row kModes[] = {
        {"writeback", {true, false, false}},  {"none", {true, true, false}},
        {"writethrough", {false, false, false}}, {"directsync", {false, true, false}},
        {"unsafe", {true, false, true}},
    };
    for (const Row &r : kModes)
        if (r.name == name) return r.mode;
    throw UsageError("invalid cache option");
}

BlockBackend::BlockBackend(std::string name, BlockNode *root, bool read_only, bool writeback)
    : name_(std::move(name)), root_(root), read_only_(read_only), writeback_(writeback) {
    // A backend without a device only reads, and lets others do anything.
    if (root_) root_->set_user(this, user_desc(), "root", kPermRead, kPermAll);
}

BlockBackend::~BlockBackend() {
    if (root_) root_->remove_user(this);
}

std::string BlockBackend::user_desc() const {
    if (device_) return "block device '" + device_->path + "'";
    return "block device '" + (name_.empty() ? root_->name() : name_) + "'";
}

void BlockBackend::attach(ts_object *device) {
    if (device_ && auto_connected_)
        throw UsageError("Drive '" + name_ + "' is already in use because it has been automatically connected to "
                         "another device (did you need 'if=none' in the drive options?)");
    if (device_) throw UsageError("Drive '" + name_ + "' is already in use by another device");
    if (!root_) throw UsageError("Device needs media, but drive is empty");
    uint64_t perm = kPermRead | (read_only_ ? 0 : kPermWrite);
    uint64_t shared = root_->flags().force_share ? kPermAll : kDeviceShared;
    device_ = device;
    try {
        root_->set_user(this, user_desc(), "root", perm, shared);
    } catch (...) {
        device_ = nullptr;
        throw;
    }
}

void BlockBackend::detach() {
    if (!device_) return;
    device_ = nullptr;
    if (root_) root_->set_user(this, user_desc(), "root", kPermRead, kPermAll);
}

void BlockBackend::check(uint64_t offset, uint64_t len) {
    if (!root_) throw BlockError("No medium found");
    uint64_t size = root_->length();
    if (offset > size || len > size - offset)
        throw BlockError("Request out of range: offset " + std::to_string(offset) + ", length " +
                         std::to_string(len) + ", image size " + std::to_string(size));
}

void BlockBackend::pread(uint64_t offset, std::span<uint8_t> buf) {
    check(offset, buf.size());
    root_->pread(offset, buf);
}

void BlockBackend::pwrite(uint64_t offset, std::span<const uint8_t> buf) {
    if (read_only_) throw BlockError("Drive '" + (name_.empty() ? root_->name() : name_) + "' is read-only");
    check(offset, buf.size());
    root_->pwrite(offset, buf);
    if (!writeback_) root_->flush();  // writethrough: every write is durable
}

void BlockBackend::flush() {
    if (root_) root_->flush();
}

void BlockBackend::discard(uint64_t offset, uint64_t len) {
    if (read_only_) throw BlockError("Drive '" + (name_.empty() ? root_->name() : name_) + "' is read-only");
    check(offset, len);
    root_->discard(offset, len);
}

uint64_t BlockBackend::length() { return root_ ? root_->length() : 0; }

// ---- registry --------------------------------------------------------------

BlockBackend &backend_add(std::unique_ptr<BlockBackend> be) {
    backends().push_back(std::move(be));
    return *backends().back();
}

const std::vector<std::unique_ptr<BlockBackend>> &backends_list() { return backends(); }

std::vector<BlockBackend *> block_backends() {
    std::vector<BlockBackend *> out;
    for (auto &b : backends()) out.push_back(b.get());
    return out;
}

bool backend_name_taken(std::string_view name) {
    return std::any_of(backends().begin(), backends().end(), [&](auto &b) { return b->name() == name; });
}

BlockBackend *block_backend_find(std::string_view id) {
    for (auto &b : backends())
        if (!b->name().empty() && b->name() == id) return b.get();
    for (auto &b : backends())
        if (b->name().empty() && b->root() && b->root()->name() == id) return b.get();
    return nullptr;
}

BlockBackend &block_attach(std::string_view id, ts_object *device, std::string_view prop) {
    for (auto &b : backends())
        if (!b->name().empty() && b->name() == id) {
            b->attach(device);
            return *b;
        }
    BlockNode *node = node_find(id);
    if (!node || id.empty())
        throw UsageError("Property '" + (device && device->type ? device->type->name : std::string("device")) + "." +
                         std::string(prop) + "' can't find value '" + std::string(id) + "'");
    auto be = std::make_unique<BlockBackend>("", node, node->read_only(), true);
    be->attach(device);
    return backend_add(std::move(be));
}

void block_flush_all() {
    for (auto &b : backends()) b->flush();
}

void block_close_all() {
    auto &bs = backends();
    for (auto &b : bs) {
        try {
            b->flush();
        } catch (const std::exception &) {
        }
    }
    bs.clear();
    // Parents were created after their children: close newest first.
    while (!nodes().empty()) node_unregister(nodes().back().get());
}

std::string block_info_text() {
    std::ostringstream o;
    bool first = true;
    for (auto &b : backends()) {
        if (!first) o << "\n";
        first = false;
        std::string name = b->name().empty() ? "" : b->name() + " ";
        BlockNode *r = b->root();
        if (!r) {
            o << b->name() << ": [not inserted]\n";
            continue;
        }
        // The image node: below the -snapshot overlay if there is one.
        BlockNode *img = r->snapshot_overlay() && r->child("backing") ? r->child("backing") : r;
        o << name << "(" << r->name() << "): " << img->filename() << " (" << img->driver_name()
          << (b->read_only() ? ", read-only" : "") << ")\n";
        if (b->device()) o << "    Attached to:      " << b->device()->path << "\n";
        o << "    Cache mode:       " << (b->writeback() ? "writeback" : "writethrough")
          << (r->flags().cache_direct ? ", direct" : "") << (r->flags().cache_no_flush ? ", ignore flushes" : "")
          << "\n";
        if (img != r) o << "    Backing file:     " << img->filename() << " (chain depth: 1)\n";
    }
    return o.str();
}

}  // namespace tessera
