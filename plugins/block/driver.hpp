// Shared helpers of the block driver plugins: the class adapter from a C++
// node type to ts_block_driver_class, and property readers.
//
//   struct FileNode : blk::Node {
//       static constexpr const char *format_name = "file";
//       explicit FileNode(ts_object *o) : Node(o) {}
//       void realize();
//       void pread(uint64_t off, std::span<uint8_t> buf);
//       void pwrite(uint64_t off, std::span<const uint8_t> buf);
//       uint64_t length();
//       // optional: flush(), discard(off, len), truncate(len)
//   };
//   const ts_block_driver_class file_class = blk::driver_class<FileNode>(props, probe_or_nullptr);
#pragma once

#include <tessera/block.h>
#include <tessera/sdk/plugin.hpp>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace blk {

// The kernel's access to a node's children (TS_BLOCK_CHILD_CAP), for format
// and filter drivers.
inline const ts_block_child_ops &child_ops() {
    static const auto *ops = static_cast<const ts_block_child_ops *>(ts::host().get_capability(TS_BLOCK_CHILD_CAP));
    if (!ops) throw ts::Error("the kernel offers no block child access (" TS_BLOCK_CHILD_CAP ")");
    return *ops;
}

// Properties as the kernel stored them (normalised text; see qom).
class Node {
public:
    explicit Node(ts_object *obj) : obj_(obj) {}
    Node(const Node &) = delete;
    Node &operator=(const Node &) = delete;

    ts_object *object() const { return obj_; }
    std::string_view str(const char *name) const {
        const char *s = ts::host().prop_get_str(obj_, name);
        return s ? std::string_view(s) : std::string_view();
    }
    bool has(const char *name) const { return ts::host().prop_get_str(obj_, name) != nullptr; }
    bool flag(const char *name) const {
        int v = 0;
        return ts::host().prop_get_bool(obj_, name, &v) == TS_OK && v;
    }
    uint64_t size(const char *name) const {
        uint64_t v = 0;
        ts::host().prop_get_uint(obj_, name, &v);
        return v;
    }

private:
    ts_object *obj_;
};

namespace detail {
template <class T> concept HasFlush = requires(T &t) { t.flush(); };
template <class T> concept HasDiscard = requires(T &t) { t.discard(uint64_t{}, uint64_t{}); };
template <class T> concept HasTruncate = requires(T &t) { t.truncate(uint64_t{}); };
template <class T> T &self(void *p) { return *static_cast<T *>(p); }
}  // namespace detail

constexpr ts_prop_decl prop(const char *name, ts_prop_type type, const char *def, const char *desc,
                            const char *const *enum_values = nullptr) {
    return ts_prop_decl{sizeof(ts_prop_decl), name, type, def, 0, 0, enum_values, nullptr, desc};
}

template <class T>
constexpr ts_block_driver_class driver_class(std::span<const ts_prop_decl> props,
                                             int (*probe)(const uint8_t *, size_t, const char *) = nullptr) {
    ts_object_class base{};
    base.size = sizeof(ts_object_class);
    base.props = props.data();
    base.prop_count = static_cast<uint32_t>(props.size());
    base.state = TS_STATE_NONE;  // a block node holds no guest-visible state
    base.create = [](ts_object *obj, ts_error *err) -> void * {
        T *p = nullptr;
        ts::guarded(err, [&] { p = std::make_unique<T>(obj).release(); });
        return p;
    };
    base.realize = [](void *s, ts_error *err) { return ts::guarded(err, [&] { detail::self<T>(s).realize(); }); };
    base.destroy = [](void *s) { std::unique_ptr<T>{static_cast<T *>(s)}; };
    ts_block_driver_class c{};
    c.size = sizeof(c);
    c.base = base;
    c.format_name = T::format_name;
    c.probe = probe;
    c.pread = [](void *s, uint64_t off, void *buf, size_t len, ts_error *err) {
        return ts::guarded(err, [&] { detail::self<T>(s).pread(off, {static_cast<uint8_t *>(buf), len}); });
    };
    c.pwrite = [](void *s, uint64_t off, const void *buf, size_t len, ts_error *err) {
        return ts::guarded(err,
                           [&] { detail::self<T>(s).pwrite(off, {static_cast<const uint8_t *>(buf), len}); });
    };
    if constexpr (detail::HasFlush<T>)
        c.flush = [](void *s, ts_error *err) { return ts::guarded(err, [&] { detail::self<T>(s).flush(); }); };
    c.length = [](void *s) -> uint64_t {
        try {
            return detail::self<T>(s).length();
        } catch (const std::exception &) {
            return 0;
        }
    };
    if constexpr (detail::HasTruncate<T>)
        c.truncate = [](void *s, uint64_t len, ts_error *err) {
            return ts::guarded(err, [&] { detail::self<T>(s).truncate(len); });
        };
    if constexpr (detail::HasDiscard<T>)
        c.discard = [](void *s, uint64_t off, uint64_t len, ts_error *err) {
            return ts::guarded(err, [&] { detail::self<T>(s).discard(off, len); });
        };
    return c;
}

}  // namespace blk

