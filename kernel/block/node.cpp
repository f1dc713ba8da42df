#include "plugins/abi_guard.hpp"
#include "block/node.hpp"

#include "plugins/registry.hpp"
#include "qom/object.hpp"
#include "secrets/secret.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <map>

namespace tessera {

namespace {

// The graph outlives nothing it refers to: the object tree is made first
// (so it is destroyed after us), and at exit parents go before children.
struct Graph {
    Graph() { object_root(); }
    ~Graph() {
        while (!nodes.empty()) nodes.pop_back();
    }
    std::vector<std::unique_ptr<BlockNode>> nodes;
    std::map<ts_object *, BlockNode *> by_object;
};
Graph &the_graph() {
    static Graph g;
    return g;
}
std::vector<std::unique_ptr<BlockNode>> &graph() { return the_graph().nodes; }
std::map<ts_object *, BlockNode *> &by_object() { return the_graph().by_object; }

constexpr std::array<const char *, 4> kPermNames = {"consistent read", "write", "write unchanged", "resize"};



// Removes a plugin node's instance from the object tree (its class's destroy
// runs there).
void object_delete(ts_object *obj) {
    if (!obj || !obj->parent) return;
    auto &sib = obj->parent->children;
    auto it = std::find_if(sib.begin(), sib.end(), [&](auto &c) { return c.get() == obj; });
    if (it != sib.end()) sib.erase(it);
}

class PluginDriver final : public NodeDriver {
public:
    explicit PluginDriver(ts_object *obj)
        : obj_(obj), cls_(static_cast<const ts_block_driver_class *>(obj->type->cls)) {
        if (const TypeEntry *e = plugin_registry().find(obj->type->name);
            e && e->plugin->descriptor && e->plugin->descriptor->get_capability)
            perm_ops_ = static_cast<const ts_block_perm_ops *>(e->plugin->descriptor->get_capability(TS_BLOCK_PERM_CAP));
    }
    void pread(uint64_t off, std::span<uint8_t> buf) override {
        ts_error err{};
        if (cls_->pread(obj_->instance, off, buf.data(), buf.size(), &err) != TS_OK) throw BlockError(err.message);
    }
    void pwrite(uint64_t off, std::span<const uint8_t> buf) override {
        if (!cls_->pwrite) throw BlockError("Operation not supported");
        ts_error err{};
        if (cls_->pwrite(obj_->instance, off, buf.data(), buf.size(), &err) != TS_OK) throw BlockError(err.message);
    }
    void flush() override {
        ts_error err{};
        if (cls_->flush && cls_->flush(obj_->instance, &err) != TS_OK) throw BlockError(err.message);
    }
    uint64_t length() override { return cls_->length ? cls_->length(obj_->instance) : 0; }
    void discard(uint64_t off, uint64_t len) override {
        ts_error err{};
        if (cls_->discard && cls_->discard(obj_->instance, off, len, &err) != TS_OK) throw BlockError(err.message);
    }
    void truncate(uint64_t len) override {
        if (!cls_->truncate) throw BlockError("Image does not support resizing");
        ts_error err{};
        if (cls_->truncate(obj_->instance, len, &err) != TS_OK) throw BlockError(err.message);
    }
    // A backing child is only read, and may change under us only if our
    // users allow writes (the reference's rule for COW children).
    std::pair<uint64_t, uint64_t> child_perm(std::string_view role, uint64_t perm, uint64_t shared) override {
        if (role != "backing") return {perm, shared};
        uint64_t s = (shared & kPermWrite) ? kPermWrite | kPermResize : 0;
        return {perm & kPermRead, s | kPermRead | kPermWriteUnchanged};
    }
    void set_perm(uint64_t perm, uint64_t shared) override {
        if (!perm_ops_ || !perm_ops_->set_perm) return;
        ts_error err{};
        if (perm_ops_->set_perm(obj_->instance, perm, shared, &err) != TS_OK) throw UsageError(err.message);
    }

private:
    ts_object *obj_;
    const ts_block_driver_class *cls_;
    const ts_block_perm_ops *perm_ops_ = nullptr;
};

BlockNode *node_or_null(ts_object *obj) { return obj ? node_of_object(obj) : nullptr; }

BlockNode &node_or_throw(ts_object *obj) {
    BlockNode *n = node_or_null(obj);
    if (!n) throw BlockError("not a block node");
    return *n;
}

const ts_block_child_ops kChildOps = {
    sizeof(ts_block_child_ops),
    [](ts_object *node, const char *prop) -> ts_object * {
        BlockNode *n = node_or_null(node);
        BlockNode *c = n && prop ? n->child(prop) : nullptr;
        return c ? c->object() : nullptr;
    },
    [](ts_object *c, uint64_t off, void *buf, size_t len, ts_error *err) {
        return guarded(err, [&] { node_or_throw(c).pread(off, {static_cast<uint8_t *>(buf), len}); });
    },
    [](ts_object *c, uint64_t off, const void *buf, size_t len, ts_error *err) {
        return guarded(err, [&] { node_or_throw(c).pwrite(off, {static_cast<const uint8_t *>(buf), len}); });
    },
    [](ts_object *c, ts_error *err) { return guarded(err, [&] { node_or_throw(c).flush(); }); },
    [](ts_object *c) -> uint64_t {
        BlockNode *n = node_or_null(c);
        try {
            return n ? n->length() : 0;
        } catch (const std::exception &) {
            return 0;
        }
    },
    [](ts_object *c, uint64_t off, uint64_t len, ts_error *err) {
        return guarded(err, [&] { node_or_throw(c).discard(off, len); });
    },
    [](ts_object *node) -> const char * {
        BlockNode *n = node_or_null(node);
        return n ? n->name().c_str() : nullptr;
    },
    [](ts_object *c, uint64_t len, ts_error *err) { return guarded(err, [&] { node_or_throw(c).truncate(len); }); },
    [](ts_object *node, const char *prop, const char *filename, const char *format, ts_error *err) -> ts_object * {
        ts_object *out = nullptr;
        if (err) err->message[0] = 0;
        guarded(err, [&] {
            BlockNode &parent = node_or_throw(node);
            if (!prop || !filename) throw BlockError("open_backing: missing property or file name");
            if (const std::string *v = parent.options().find(prop); v && (v->empty() || *v == "null")) return;
            out = block_open_backing(parent, prop, filename, format).object();
        });
        return out;
    },
    [](const char *id, char *buf, size_t len, ts_error *err) -> int64_t {
        int64_t n = -1;
        guarded(err, [&] {
            auto v = id ? secret_lookup(id) : std::nullopt;
            if (!v) throw BlockError("No secret with id '" + std::string(id ? id : "") + "'");
            if (v->size() >= len) throw BlockError("Secret '" + std::string(id) + "' is too long");
            std::memcpy(buf, v->data(), v->size());
            buf[v->size()] = 0;
            n = int64_t(v->size());
        });
        return n;
    },
};

}  // namespace

std::string perm_names(uint64_t perms) {
    std::string out;
    for (size_t i = 0; i < kPermNames.size(); i++)
        if (perms >> i & 1) out += (out.empty() ? "" : ", ") + std::string(kPermNames[i]);
    return out;
}

BlockNode::BlockNode(std::string name, std::string driver, KeyVals options, Flags flags)
    : name_(std::move(name)), driver_name_(std::move(driver)), options_(std::move(options)), flags_(std::move(flags)) {}

BlockNode::~BlockNode() {
    // Our claims on the children go first, then the driver and its instance.
    for (auto &c : children_) c.node->remove_user(this);
    driver_.reset();
    if (object_) {
        by_object().erase(object_);
        object_delete(object_);
    }
}

BlockNode *BlockNode::child(std::string_view role) const {
    for (const auto &c : children_)
        if (c.role == role) return c.node;
    return nullptr;
}

std::string BlockNode::filename() const {
    if (const std::string *f = options_.find("filename")) return *f;
    for (const auto &c : children_)
        if (auto f = c.node->filename(); !f.empty()) return f;
    return {};
}

void BlockNode::check_range(uint64_t offset, uint64_t len) {
    uint64_t size = length();
    if (offset > size || len > size - offset)
        throw BlockError("Request out of range: offset " + std::to_string(offset) + ", length " +
                         std::to_string(len) + " past the end of node '" + name_ + "' (" + std::to_string(size) +
                         " bytes)");
}

void BlockNode::pread(uint64_t offset, std::span<uint8_t> buf) {
    check_range(offset, buf.size());
    if (!buf.empty()) driver_->pread(offset, buf);
}

void BlockNode::pwrite(uint64_t offset, std::span<const uint8_t> buf) {
    if (flags_.read_only) throw BlockError("Block node '" + name_ + "' is read-only");
    check_range(offset, buf.size());
    if (buf.empty()) return;
    // Only a probed raw image is guarded: a format's guest data is not its header.
    if (probed_ && offset < kProbeBytes && driver_name_ == "raw") guard_probed_head(offset, buf);
    driver_->pwrite(offset, buf);
}

void BlockNode::guard_probed_head(uint64_t offset, std::span<const uint8_t> buf) {
    // As the reference: a guest must not turn a probed raw image into
    // something that probes as another format (say, a qcow2 header naming
    // a host file as its backing file).
    std::vector<uint8_t> head(static_cast<size_t>(std::min<uint64_t>(kProbeBytes, length())));
    driver_->pread(0, head);
    size_t n = std::min<size_t>(buf.size(), head.size() - static_cast<size_t>(offset));
    std::copy_n(buf.begin(), n, head.begin() + static_cast<std::ptrdiff_t>(offset));
    if (probe_image(head, filename()) != driver_name_) throw BlockError("Operation not permitted");
}

void BlockNode::flush() {
    if (flags_.cache_no_flush) return;  // cache=unsafe
    if (!flags_.read_only) driver_->flush();
    for (auto &c : children_) c.node->flush();
}

// Every request checks bounds at each level: the driver is asked once.
uint64_t BlockNode::length() {
    if (!length_known_) refresh_length();
    return length_;
}

void BlockNode::refresh_length() {
    length_ = driver_ ? driver_->length() : 0;
    length_known_ = true;
}

void BlockNode::discard(uint64_t offset, uint64_t len) {
    if (flags_.read_only) throw BlockError("Block node '" + name_ + "' is read-only");
    check_range(offset, len);
    if (len) driver_->discard(offset, len);
}

void BlockNode::truncate(uint64_t len) {
    if (flags_.read_only) throw BlockError("Block node '" + name_ + "' is read-only");
    driver_->truncate(len);
    refresh_length();
}

void BlockNode::set_user(const void *key, std::string desc, std::string role, uint64_t perm, uint64_t shared) {
    auto conflict = [&](const User &req, const User &unsh, uint64_t perms) {
        return UsageError("Permission conflict on node '" + name_ + "': permissions '" + perm_names(perms) +
                          "' are both required by " + req.desc + " (uses node '" + name_ + "' as '" + req.role +
                          "' child) and unshared by " + unsh.desc + " (uses node '" + name_ + "' as '" +
                          unsh.role + "' child).");
    };
    User nu{key, std::move(desc), std::move(role), perm, shared};
    for (const User &u : users_) {
        if (u.key == key) continue;
        if (uint64_t p = u.perm & ~nu.shared & kPermAll) throw conflict(u, nu, p);
        if (uint64_t p = nu.perm & ~u.shared & kPermAll) throw conflict(nu, u, p);
    }
    auto saved = users_;
    auto it = std::find_if(users_.begin(), users_.end(), [&](auto &u) { return u.key == key; });
    if (it != users_.end()) *it = std::move(nu);
    else users_.push_back(std::move(nu));
    try {
        refresh_perms();
    } catch (...) {
        users_ = std::move(saved);
        try {
            refresh_perms();
        } catch (...) {
        }
        throw;
    }
}

void BlockNode::remove_user(const void *key) {
    std::erase_if(users_, [&](auto &u) { return u.key == key; });
    try {
        refresh_perms();  // only drops permissions: cannot conflict
    } catch (const std::exception &) {
    }
}

void BlockNode::refresh_perms() {
    uint64_t perm = 0, shared = kPermAll;
    for (const User &u : users_) {
        perm |= u.perm;
        shared &= u.shared;
    }
    if (perm == perm_ && shared == shared_) return;
    if (driver_) driver_->set_perm(perm, shared);
    uint64_t old_perm = perm_, old_shared = shared_;
    perm_ = perm;
    shared_ = shared;
    std::vector<BlockNode *> done;
    try {
        for (auto &c : children_) {
            auto [cp, cs] = driver_ ? driver_->child_perm(c.role, perm, shared) : std::pair{perm, shared};
            c.node->set_user(this, "node '" + name_ + "'", c.role, cp, cs);
            done.push_back(c.node);
        }
    } catch (...) {
        perm_ = old_perm;
        shared_ = old_shared;
        for (auto &c : children_) {
            if (std::find(done.begin(), done.end(), c.node) == done.end()) continue;
            auto [cp, cs] = driver_ ? driver_->child_perm(c.role, perm_, shared_) : std::pair{perm_, shared_};
            try {
                c.node->set_user(this, "node '" + name_ + "'", c.role, cp, cs);
            } catch (...) {
            }
        }
        try {
            if (driver_) driver_->set_perm(perm_, shared_);
        } catch (...) {
        }
        throw;
    }
}

std::unique_ptr<NodeDriver> make_plugin_driver(ts_object *obj) { return std::make_unique<PluginDriver>(obj); }

BlockNode *node_find(std::string_view name) {
    for (auto &n : graph())
        if (n->name() == name) return n.get();
    return nullptr;
}

BlockNode *node_of_object(ts_object *obj) {
    auto it = by_object().find(obj);
    return it == by_object().end() ? nullptr : it->second;
}

BlockNode &node_register(std::unique_ptr<BlockNode> node) {
    if (node->object()) by_object()[node->object()] = node.get();
    graph().push_back(std::move(node));
    return *graph().back();
}

void node_unregister(BlockNode *node) {
    auto &g = graph();
    auto it = std::find_if(g.begin(), g.end(), [&](auto &n) { return n.get() == node; });
    if (it == g.end()) return;
    auto owned = std::move(*it);
    g.erase(it);
    std::vector<BlockNode *> kids = owned->owned_children();
    owned.reset();
    // Owned children go too, unless another node still uses them.
    for (BlockNode *k : kids) {
        bool used = std::any_of(g.begin(), g.end(), [&](auto &n) {
            return std::any_of(n->children().begin(), n->children().end(), [&](auto &c) { return c.node == k; });
        });
        if (!used) node_unregister(k);
    }
}

void node_move_to_end(BlockNode *node) {
    auto &g = graph();
    auto it = std::find_if(g.begin(), g.end(), [&](auto &n) { return n.get() == node; });
    if (it == g.end()) return;
    auto owned = std::move(*it);
    g.erase(it);
    g.push_back(std::move(owned));
}

const std::vector<std::unique_ptr<BlockNode>> &nodes() { return graph(); }

std::string node_auto_name() {
    static unsigned counter = 0;
    char buf[32];
    std::snprintf(buf, sizeof buf, "#block%03u", counter++);
    return buf;
}

const ts_block_child_ops *block_child_ops() { return &kChildOps; }

const ts_block_snapshot_ops *node_snapshot_ops(const BlockNode &node) {
    ts_object *obj = node.object();
    if (!obj || !obj->type) return nullptr;
    const TypeEntry *e = plugin_registry().find(obj->type->name);
    if (!e || !e->plugin->descriptor || !e->plugin->descriptor->get_capability) return nullptr;
    auto *ops = static_cast<const ts_block_snapshot_ops *>(e->plugin->descriptor->get_capability(TS_BLOCK_SNAPSHOT_CAP));
    return ops && ops->size >= sizeof(ts_block_snapshot_ops) ? ops : nullptr;
}

}  // namespace tessera
