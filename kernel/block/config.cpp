// -blockdev, -drive and -snapshot: options to nodes and backends, with the
// reference's rules and messages.
#include "log/trace.hpp"
#include "block/block.hpp"
#include "block/internal.hpp"

#include "plugins/registry.hpp"
#include "qom/object.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>
#include <cstdio>
#include <map>
#include <optional>

namespace tessera {

namespace {

std::function<void(const std::string &)> &virtio_hook() {
    static std::function<void(const std::string &)> h;
    return h;
}

// Block drivers the reference has: naming one no plugin provides gets a
// message saying so rather than "does not accept value".
constexpr std::string_view kReferenceDrivers[] = {
    "blkdebug", "blklogwrites", "blkreplay", "blkverify", "bochs", "cloop", "compress", "copy-before-write",
    "copy-on-read", "dmg", "file", "ftp", "ftps", "gluster", "host_cdrom", "host_device", "http", "https",
    "io_uring", "iscsi", "luks", "nbd", "nfs", "null-aio", "null-co", "nvme", "parallels", "preallocate",
    "qcow", "qcow2", "qed", "quorum", "raw", "rbd", "replication", "snapshot-access", "ssh", "throttle",
    "vdi", "vhdx", "vmdk", "vpc", "vvfat",
};
// Filename prefixes the reference routes to a protocol driver.
constexpr std::string_view kProtocols[] = {"nbd", "http", "https", "ftp", "ftps", "ssh", "iscsi", "gluster",
                                           "nfs", "rbd", "fat"};
// Options every node takes, handled here (tessera/block.h).
constexpr std::string_view kGenericKeys[] = {"driver", "node-name", "read-only", "auto-read-only", "force-share",
                                             "cache.direct", "cache.no-flush", "discard", "detect-zeroes"};

bool is_generic(std::string_view k) {
    return std::find(std::begin(kGenericKeys), std::end(kGenericKeys), k) != std::end(kGenericKeys);
}

bool bool_value(std::string_view key, std::string_view v) {
    try {
        return parse_bool(v);
    } catch (const UsageError &) {
        throw UsageError("Parameter '" + std::string(key) + "' expects 'on' or 'off'");
    }
}

// One of values (the first spelling is the canonical one of each pair).
std::string enum_value(std::string_view key, std::string_view v,
                       std::initializer_list<std::pair<std::string_view, std::string_view>> values) {
    for (auto [in, out] : values)
        if (v == in) return std::string(out);
    throw UsageError("Parameter '" + std::string(key) + "' does not accept value '" + std::string(v) + "'");
}

void check_node_name(std::string_view name) {
    bool ok = !name.empty() && std::isalpha(static_cast<unsigned char>(name[0]));
    for (char c : name)
        ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_');
    if (!ok) throw UsageError("Invalid node-name: '" + std::string(name) + "'");
    if (name.size() >= 32) throw UsageError("Node name too long");
    if (node_find(name)) throw UsageError("Duplicate nodes with node-name='" + std::string(name) + "'");
    if (backend_name_taken(name))
        throw UsageError("node-name=" + std::string(name) + " is conflicting with a device id");
}

// The driver's type; `unknown` words the error for names nobody knows.
const TypeImpl &block_type(std::string_view name, const std::string &unknown) {
    const TypeImpl *t = type_find_loaded(name);
    if (!t && plugin_registry().find(name)) t = &type_get(name, "-blockdev");
    if (t && t->kind == TypeKind::Block && t->cls) return *t;
    if (auto file = t ? std::nullopt : plugin_registry().not_installed_provider(name))
        throw UsageError("Block format '" + std::string(name) + "' is not available: provided by plugin " + *file +
                         ", which is not installed");
    if (std::find(std::begin(kReferenceDrivers), std::end(kReferenceDrivers), name) != std::end(kReferenceDrivers))
        throw UsageError("Block format '" + std::string(name) + "' is not available: no plugin provides it");
    throw UsageError(unknown);
}

const ts_block_driver_class &driver_class(const TypeImpl &t) {
    return *static_cast<const ts_block_driver_class *>(t.cls);
}

struct OpenCtx {
    std::string prefix;                           // "file." for a child's messages
    bool from_drive = false;                      // -drive's wording for unknown options
    bool require_name = true;                     // -blockdev's root node
    const BlockNode::Flags *inherit = nullptr;    // parent's generic options
};

// Removes nodes made by a failed open (newest first).
struct NodeRollback {
    std::vector<BlockNode *> made;
    bool armed = true;
    ~NodeRollback() {
        if (!armed) return;
        for (auto it = made.rbegin(); it != made.rend(); ++it) node_unregister(*it);
    }
};

BlockNode::Flags parse_flags(const KeyVals &opts, const BlockNode::Flags *inherit) {
    BlockNode::Flags f = inherit ? *inherit : BlockNode::Flags{};
    if (auto *v = opts.find("read-only")) f.read_only = bool_value("read-only", *v);
    if (auto *v = opts.find("auto-read-only")) bool_value("auto-read-only", *v);
    if (auto *v = opts.find("force-share")) f.force_share = bool_value("force-share", *v);
    if (auto *v = opts.find("cache.direct")) f.cache_direct = bool_value("cache.direct", *v);
    if (auto *v = opts.find("cache.no-flush")) f.cache_no_flush = bool_value("cache.no-flush", *v);
    if (auto *v = opts.find("discard"))
        f.discard = enum_value("discard", *v, {{"ignore", "ignore"}, {"off", "ignore"}, {"unmap", "unmap"},
                                               {"on", "unmap"}});
    if (auto *v = opts.find("detect-zeroes"))
        f.detect_zeroes = enum_value("detect-zeroes", *v, {{"off", "off"}, {"on", "on"}, {"unmap", "unmap"}});
    if (f.force_share && !f.read_only) throw UsageError("force-share=on can only be used with read-only images");
    return f;
}

BlockNode &open_node(const KeyVals &opts, const OpenCtx &ctx);

// Opens or finds the child behind TS_PROP_DRIVE property `role`: a node
// name, or nested options ("file.driver=file,file.filename=x").
BlockNode *open_child(const KeyVals &opts, std::string_view role, const OpenCtx &ctx,
                      const BlockNode::Flags &flags, NodeRollback &rb) {
    if (const std::string *ref = opts.find(role)) {
        // backing=null (or empty): no backing file, whatever the header says.
        if (role == "backing" && (ref->empty() || *ref == "null")) return nullptr;
        if (BlockNode *n = node_find(*ref)) return n;
        if (BlockBackend *b = block_backend_find(*ref); b && b->root()) return b->root();
        throw UsageError("Cannot find device='" + *ref + "' nor node-name='" + *ref + "'");
    }
    std::string dot = std::string(role) + ".";
    KeyVals sub;
    for (const auto &[k, v] : opts.items)
        if (k.starts_with(dot)) sub.set(k.substr(dot.size()), v);
    if (sub.items.empty()) return nullptr;
    OpenCtx cctx{ctx.prefix + dot, ctx.from_drive, false, &flags};
    BlockNode &n = open_node(sub, cctx);
    rb.made.push_back(&n);
    return &n;
}

BlockNode &open_node(const KeyVals &opts, const OpenCtx &ctx) {
    const std::string *drv = opts.find("driver");
    if (!drv) throw UsageError("Parameter '" + ctx.prefix + "driver' is missing");
    const TypeImpl &t = block_type(*drv, "Parameter '" + ctx.prefix + "driver' does not accept value '" + *drv + "'");
    const ts_block_driver_class &cls = driver_class(t);
    std::span<const ts_prop_decl> decls(cls.base.props, cls.base.prop_count);
    auto decl = [&](std::string_view n) -> const ts_prop_decl * {
        for (const auto &d : decls)
            if (n == d.name) return &d;
        return nullptr;
    };

    std::string name;
    if (const std::string *nn = opts.find("node-name")) {
        check_node_name(*nn);
        name = *nn;
    } else if (ctx.require_name) {
        throw UsageError("'node-name' must be specified for the root node");
    } else {
        name = node_auto_name();
    }
    BlockNode::Flags flags = parse_flags(opts, ctx.inherit);

    // Children first: the driver reaches them from its realize.
    NodeRollback rb;
    std::vector<std::pair<std::string, BlockNode *>> kids;
    std::vector<BlockNode *> nested;  // opened here from dotted options: owned by the new node
    for (const auto &d : decls)
        if (d.type == TS_PROP_DRIVE) {
            size_t before = rb.made.size();
            if (BlockNode *c = open_child(opts, d.name, ctx, flags, rb)) {
                kids.emplace_back(d.name, c);
                if (rb.made.size() > before) nested.push_back(c);
            }
        }

    auto is_child_key = [&](std::string_view k) {
        for (const auto &d : decls) {
            std::string_view c = d.name;
            if (d.type == TS_PROP_DRIVE && k.starts_with(c) && (k.size() == c.size() || k[c.size()] == '.'))
                return true;
        }
        return false;
    };
    KeyVals driver_opts;
    for (const auto &[k, v] : opts.items) {
        if (is_generic(k) || is_child_key(k)) continue;
        if (const ts_prop_decl *d = decl(k); d && !is_generic(d->name)) {
            driver_opts.set(k, v);
            continue;
        }
        if (!ctx.from_drive) throw UsageError("Parameter '" + ctx.prefix + k + "' is unexpected");
        if (cls.probe) throw UsageError("Block format '" + t.name + "' does not support the option '" + k + "'");
        throw UsageError("Block protocol '" + t.name + "' doesn't support the option '" + k + "'");
    }

    if (node_find(name)) throw UsageError("Duplicate nodes with node-name='" + name + "'");  // taken by a child
    ts_object *obj = object_new_named(object_container("/block-nodes"), t.name, name);
    auto node = std::make_unique<BlockNode>(name, t.name, opts, flags);
    for (auto &[role, c] : kids) {
        if (std::find(nested.begin(), nested.end(), c) != nested.end()) node->add_owned_child(role, c);
        else node->add_child(role, c);
    }
    node->set_driver(make_plugin_driver(obj), obj);
    BlockNode &n = node_register(std::move(node));
    try {
        // Generic options the driver asked for, with the node's values.
        const std::pair<const char *, std::string> generic[] = {
            {"read-only", flags.read_only ? "on" : "off"},       {"force-share", flags.force_share ? "on" : "off"},
            {"cache.direct", flags.cache_direct ? "on" : "off"}, {"cache.no-flush", flags.cache_no_flush ? "on" : "off"},
            {"discard", flags.discard},                           {"detect-zeroes", flags.detect_zeroes},
        };
        for (const auto &[k, v] : generic)
            if (decl(k)) object_set_prop(obj, k, v);
        for (const auto &[k, v] : driver_opts.items) object_set_prop(obj, k, v);
        for (auto &[role, c] : kids) object_set_prop(obj, role, c->name());
        ts_error err{};
        if (cls.base.realize && cls.base.realize(obj->instance, &err) != TS_OK) throw UsageError(err.message);
        obj->realized = true;
        n.refresh_length();
    } catch (...) {
        node_unregister(&n);
        throw;
    }
    rb.armed = false;
    return n;
}

std::map<std::string, unsigned, std::less<>> &drive_counters() {
    static std::map<std::string, unsigned, std::less<>> c;
    return c;
}

// The probe winner among the block format plugins (raw scores 1).
std::string probe_format(BlockNode &file) {
    std::vector<uint8_t> head(static_cast<size_t>(std::min<uint64_t>(512, file.length())));
    file.pread(0, head);
    std::string best = probe_image(head, file.filename());
    if (best.empty()) throw UsageError("Could not determine the image format of '" + file.filename() + "'");
    return best;
}

void connect_virtio(BlockBackend &be, std::string_view iface) {
    if (iface != "virtio") return;
    be.set_auto_connected();
    if (virtio_hook()) virtio_hook()(be.name());
}

}  // namespace

std::string probe_image(std::span<const uint8_t> head, const std::string &filename) {
    std::string best;
    int best_score = 0;
    for (const TypeSummary &s : types_of_kind(TypeKind::Block)) {
        const TypeImpl *t = nullptr;
        try {
            t = &type_get(s.name, "-drive");
        } catch (const UsageError &) {
            continue;  // an unusable plugin cannot claim the image
        }
        const auto &cls = driver_class(*t);
        if (!cls.probe) continue;
        int score = cls.probe(head.data(), head.size(), filename.c_str());
        if (score > best_score) {
            best_score = score;
            best = t->name;
        }
    }
    return best;
}

BlockNode &block_open_backing(BlockNode &parent, const std::string &role, const std::string &filename,
                              const char *format) {
    // As the reference: a relative name is relative to the image's directory.
    auto protocol_of = [](const std::string &p) -> std::string {
        auto colon = p.find(':');
        return colon != std::string::npos && p.find('/') > colon ? p.substr(0, colon) : "";
    };
    std::string path = filename;
    if (protocol_of(path).empty() && !path.starts_with('/')) {
        std::string base = parent.filename();  // a path or a URL
        if (auto slash = base.rfind('/'); slash != std::string::npos) path = base.substr(0, slash + 1) + path;
    }
    std::string protocol = protocol_of(path);
    if (protocol == "file" || protocol.empty()) {
        if (!protocol.empty()) path = path.substr(5);
        protocol = "file";
    }
    BlockNode::Flags f = parent.flags();
    f.read_only = true;
    KeyVals fo;
    fo.set("driver", protocol);
    fo.set("filename", path);
    NodeRollback rb;
    BlockNode &file = open_node(fo, OpenCtx{"file.", true, false, &f});
    rb.made.push_back(&file);
    std::string fmt = format && *format ? std::string(format) : probe_format(file);
    block_type(fmt, "Unknown driver '" + fmt + "'");
    KeyVals top_opts;
    top_opts.set("driver", fmt);
    top_opts.set("file", file.name());
    BlockNode &top = open_node(top_opts, OpenCtx{"", true, false, &f});
    top.take_ownership(&file);  // closes with it
    rb.armed = false;
    parent.add_owned_child(role, &top);
    node_move_to_end(&parent);
    return top;
}

BlockNode &block_open_blockdev(const KeyVals &opts) {
    if (opts.wants_help()) throw UsageError("Help is not available for this option");
    BlockNode &n = open_node(opts, OpenCtx{});
    n.set_monitor_owned();
    trace(TraceEvent::BlockdevOpen, "node=%s driver=%s", opts.get("node-name").c_str(), opts.get("driver").c_str());
    return n;
}

namespace {

// -drive's own options; `rest` goes to the format node ("file.*" to its
// file node).
struct DriveOptions {
    std::string iface = "virtio", id;
    std::optional<std::string> file, format, node_name, aio;
    bool snapshot = false, read_only = false;
    CacheMode cache;
    KeyVals rest;
};

DriveOptions parse_drive(const KeyVals &in, bool snapshot_all) {
    DriveOptions d;
    KeyVals &o = d.rest = in;
    auto take = [&](std::string_view key) -> std::optional<std::string> {
        const std::string *v = o.find(key);
        if (!v) return std::nullopt;
        std::string s = *v;
        o.erase(key);
        return s;
    };
    auto take_bool = [&](std::string_view key, std::string_view shown) -> std::optional<bool> {
        auto v = take(key);
        if (!v) return std::nullopt;
        return bool_value(shown, *v);
    };

    d.iface = take("if").value_or("virtio");
    auto bus = take("bus"), unit = take("unit"), index = take("index");
    for (const auto &[key, v] : {std::pair{"bus", bus}, std::pair{"unit", unit}, std::pair{"index", index}})
        if (v) try {
                parse_uint(*v);
            } catch (const UsageError &) {
                throw UsageError("Parameter '" + std::string(key) + "' expects a number");
            }
    if (d.iface != "none" && d.iface != "virtio") {
        constexpr std::string_view kOther[] = {"ide", "scsi", "floppy", "pflash", "mtd", "sd", "xen"};
        if (std::find(std::begin(kOther), std::end(kOther), d.iface) == std::end(kOther))
            throw UsageError("unsupported bus type '" + d.iface + "'");
        throw UsageError("machine type does not support if=" + d.iface + ",bus=" + bus.value_or("0") +
                         ",unit=" + unit.value_or(index.value_or("0")));
    }
    if (auto media = take("media"); media && *media != "disk" && *media != "cdrom")
        throw UsageError("'" + *media + "' invalid media");
    if (auto w = take("werror"); w && *w != "ignore" && *w != "report" && *w != "stop" && *w != "enospc")
        throw UsageError("'" + *w + "' invalid write error action");
    if (auto r = take("rerror"); r && *r != "ignore" && *r != "report" && *r != "stop")
        throw UsageError("'" + *r + "' invalid read error action");
    take_bool("copy-on-read", "copy-on-read");
    d.snapshot = take_bool("snapshot", "snapshot").value_or(false) || snapshot_all;
    auto ro1 = take_bool("readonly", "read-only"), ro2 = take_bool("read-only", "read-only");
    d.read_only = ro1.value_or(false) || ro2.value_or(false);
    if (auto c = take("cache")) d.cache = parse_cache_mode(*c);
    if (auto v = take_bool("cache.writeback", "cache.writeback")) d.cache.writeback = *v;
    if (auto v = take_bool("cache.direct", "cache.direct")) d.cache.direct = *v;
    if (auto v = take_bool("cache.no-flush", "cache.no-flush")) d.cache.no_flush = *v;
    d.aio = take("aio");
    d.format = take("format");
    if (auto drv = take("driver")) {
        if (d.format) throw UsageError("Cannot specify both 'driver' and 'format'");
        d.format = drv;
    }
    d.file = take("file");
    d.node_name = take("node-name");

    if (auto v = take("id")) {
        d.id = *v;
        if (backend_name_taken(d.id)) throw UsageError("Duplicate ID '" + d.id + "' for drive");
        if (node_find(d.id)) throw UsageError("Device name '" + d.id + "' conflicts with an existing node name");
    } else {
        do d.id = d.iface + std::to_string(drive_counters()[d.iface]++);
        while (backend_name_taken(d.id));
    }
    return d;
}

// The -snapshot overlay, as the reference makes it: a new qcow2 image in
// $TMPDIR (or /var/tmp) over `base`, its file unlinked as soon as it is
// open so nothing is left behind even after a crash.
BlockNode &open_snapshot_overlay(BlockNode &base, bool read_only) {
    const TypeImpl &q = block_type("qcow2", "Unknown driver 'qcow2'");
    const TypeEntry *e = plugin_registry().find(q.name);
    const auto *create = e && e->plugin->descriptor && e->plugin->descriptor->get_capability
                             ? static_cast<const ts_block_create_ops *>(e->plugin->descriptor->get_capability(TS_BLOCK_CREATE_CAP))
                             : nullptr;
    if (!create || !create->create) throw UsageError("Could not create temporary overlay: qcow2 cannot create images");
    const char *env = std::getenv("TMPDIR");
    std::string path = std::string(env && *env ? env : "/var/tmp") + "/vl.XXXXXX";
    int fd = ::mkostemp(path.data(), O_CLOEXEC);
    if (fd < 0) throw UsageError("Could not create temporary overlay '" + path + "': " + std::strerror(errno));
    ::close(fd);
    struct Unlink {
        std::string p;
        ~Unlink() { ::unlink(p.c_str()); }
    } unlink_at_end{path};
    BlockNode::Flags ff;
    ff.cache_no_flush = true;  // thrown away at exit anyway
    KeyVals fo;
    fo.set("driver", "file");
    fo.set("filename", path);
    NodeRollback rb;
    BlockNode &file = open_node(fo, OpenCtx{"file.", true, false, &ff});
    rb.made.push_back(&file);
    ts_error err{};
    if (create->create(file.object(), base.length(), nullptr, nullptr, &err) != TS_OK)
        throw UsageError(std::string("Could not create temporary overlay '") + path + "': " + err.message);
    file.refresh_length();
    KeyVals oo;
    oo.set("driver", "qcow2");
    oo.set("file", file.name());
    oo.set("backing", base.name());
    BlockNode::Flags of = ff;
    of.read_only = read_only;
    BlockNode &overlay = open_node(oo, OpenCtx{"", true, false, &of});
    overlay.take_ownership(&file);
    overlay.set_snapshot_overlay();
    rb.armed = false;
    return overlay;
}

// The image's node stack: file (protocol) <- format [<- snapshot overlay].
// Returns the top; everything is closed again if any step fails.
BlockNode &open_drive_stack(const DriveOptions &d) {
    BlockNode::Flags stack;
    stack.read_only = d.read_only || d.snapshot;  // -snapshot never writes the image
    stack.cache_direct = d.cache.direct;
    stack.cache_no_flush = d.cache.no_flush;

    KeyVals fo;
    std::string filename = *d.file, protocol = "file";
    if (auto colon = filename.find(':'); colon != std::string::npos && filename.find('/') > colon) {
        std::string prefix = filename.substr(0, colon);
        if (prefix == "file") filename = filename.substr(colon + 1);
        else if (std::find(std::begin(kProtocols), std::end(kProtocols), prefix) != std::end(kProtocols))
            protocol = prefix;
    }
    fo.set("driver", protocol);
    fo.set("filename", filename);
    if (d.aio) fo.set("aio", *d.aio);
    KeyVals fmt;
    for (const auto &[k, v] : d.rest.items) {
        if (k.starts_with("file.")) fo.set(k.substr(5), v);
        else fmt.set(k, v);
    }
    // Generic options given to the format node reach the file node too.
    for (std::string_view g : kGenericKeys)
        if (const std::string *v = fmt.find(g); v && !fo.has(g) && g != "driver" && g != "node-name")
            fo.set(std::string(g), *v);
    NodeRollback rb;
    BlockNode::Flags file_flags = parse_flags(fmt, &stack);
    BlockNode &file_node = open_node(fo, OpenCtx{"file.", true, false, &file_flags});
    rb.made.push_back(&file_node);

    std::string fmt_name = d.format ? *d.format : probe_format(file_node);
    block_type(fmt_name, "Unknown driver '" + fmt_name + "'");
    fmt.set("driver", fmt_name);
    if (d.node_name) fmt.set("node-name", *d.node_name);
    fmt.set("file", file_node.name());
    fmt.set("read-only", stack.read_only ? "on" : "off");
    fmt.set("cache.direct", stack.cache_direct ? "on" : "off");
    fmt.set("cache.no-flush", stack.cache_no_flush ? "on" : "off");
    BlockNode &top = open_node(fmt, OpenCtx{"", true, false, nullptr});
    rb.made.push_back(&top);
    if (!d.format) {
        top.set_probed();
        if (fmt_name == "raw" && !top.read_only())
            std::fprintf(stderr,
                         "WARNING: Image format was not specified for '%s' and probing guessed raw.\n"
                         "         Automatically detecting the format is dangerous for raw images, write "
                         "operations on block 0 will be restricted.\n"
                         "         Specify the 'raw' format explicitly to remove the restrictions.\n",
                         d.file->c_str());
    }
    if (!d.snapshot) {
        rb.armed = false;
        return top;
    }
    BlockNode &root = open_snapshot_overlay(top, d.read_only);
    rb.armed = false;
    return root;
}

}  // namespace

BlockBackend &block_open_drive(const KeyVals &in, bool snapshot_all) {
    DriveOptions d = parse_drive(in, snapshot_all);
    BlockNode *root = nullptr;
    if (!d.file || d.file->empty()) {
        // Format options without an image to apply them to.
        if (d.format || !d.rest.items.empty()) throw UsageError("Must specify either driver or file");
    } else {
        root = &open_drive_stack(d);
    }
    std::unique_ptr<BlockBackend> be;
    try {
        be = std::make_unique<BlockBackend>(d.id, root, d.read_only, d.cache.writeback);
    } catch (...) {
        // Newest first: overlay, format, file (collected before any goes).
        std::vector<BlockNode *> stack;
        for (BlockNode *n = root; n; n = n->children().empty() ? nullptr : n->children().back().node)
            stack.push_back(n);
        for (BlockNode *n : stack) node_unregister(n);
        throw;
    }
    BlockBackend &added = backend_add(std::move(be));
    connect_virtio(added, d.iface);
    return added;
}

void block_configure(const std::vector<KeyVals> &blockdevs, const std::vector<KeyVals> &drives,
                     bool snapshot_all) {
    for (const KeyVals &b : blockdevs) block_open_blockdev(b);
    for (const KeyVals &d : drives) block_open_drive(d, snapshot_all);
}

void block_del_node(std::string_view name) {
    BlockNode *n = node_find(name);
    std::string nm(name);
    if (!n) throw UsageError("Failed to find node with node-name='" + nm + "'");
    for (const auto &b : backends_list())
        if (b->root() == n) throw UsageError("Node " + nm + " is in use");
    if (!n->monitor_owned()) throw UsageError("Node " + nm + " is not owned by the monitor");
    for (const auto &p : nodes())
        for (const auto &c : p->children())
            if (c.node == n) throw UsageError("Block device " + nm + " is in use");
    n->flush();
    node_unregister(n);
}

void block_set_virtio_drive_hook(std::function<void(const std::string &)> hook) { virtio_hook() = std::move(hook); }

}  // namespace tessera
