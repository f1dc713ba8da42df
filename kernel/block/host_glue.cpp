#include "plugins/abi_guard.hpp"
#include "block/host_glue.hpp"

#include "block/block.hpp"
#include "qom/object.hpp"

#include <cstring>
#include <mutex>
#include <string_view>

namespace tessera {

namespace {



// Devices may call from any thread; nodes see one request at a time.
std::mutex g_io;

BlockBackend &backend(ts_block_be *be) {
    if (!be) throw BlockError("no block backend");
    return *static_cast<BlockBackend *>(be);
}

}  // namespace

ts_block_be *block_host_attach(ts_object *obj, const char *prop_name, ts_error *err) {
    ts_block_be *out = nullptr;
    guarded(err, [&] {
        std::string_view prop = prop_name ? prop_name : "drive";
        ts_object::Prop *p = obj ? obj->find_prop(prop) : nullptr;
        if (!p) throw UsageError("Property '" + (obj && obj->type ? obj->type->name : std::string("?")) + "." +
                                 std::string(prop) + "' not found");
        if (!p->value || p->value->empty()) throw UsageError(std::string(prop) + " property not set");
        out = &block_attach(*p->value, obj, prop);
    });
    return out;
}

ts_status block_host_pread(ts_block_be *be, uint64_t offset, void *buf, size_t len, ts_error *err) {
    return guarded(err, [&] {
        std::lock_guard lock(g_io);
        backend(be).pread(offset, {static_cast<uint8_t *>(buf), len});
    });
}

ts_status block_host_pwrite(ts_block_be *be, uint64_t offset, const void *buf, size_t len, ts_error *err) {
    return guarded(err, [&] {
        std::lock_guard lock(g_io);
        backend(be).pwrite(offset, {static_cast<const uint8_t *>(buf), len});
    });
}

ts_status block_host_flush(ts_block_be *be, ts_error *err) {
    return guarded(err, [&] {
        std::lock_guard lock(g_io);
        backend(be).flush();
    });
}

uint64_t block_host_length(ts_block_be *be) {
    try {
        std::lock_guard lock(g_io);
        return be ? backend(be).length() : 0;
    } catch (const std::exception &) {
        return 0;
    }
}

int block_host_read_only(ts_block_be *be) { return !be || backend(be).read_only(); }

const void *block_host_capability(const char *id) {
    if (id && std::string_view(id) == TS_BLOCK_CHILD_CAP) return block_child_ops();
    return nullptr;
}

}  // namespace tessera
