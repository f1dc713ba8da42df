// The `qcow2` format driver plugin: the engine (image.hpp) over the node's
// `file` child, with a `backing` child given by the user (backing=NODE,
// backing=null) or opened by the kernel from the name in the header.
#include "../driver.hpp"
#include "image.hpp"

#include <cstring>
#include <optional>

namespace {

using blk::child_ops;

void check(ts_status s, const ts_error &err) {
    if (s != TS_OK) throw qcow2::Error(err.message);
}

// A child node as the engine's storage.
class ChildStorage final : public qcow2::Storage {
public:
    explicit ChildStorage(ts_object *c) : c_(c) {}
    void pread(uint64_t off, std::span<uint8_t> buf) override {
        ts_error e{};
        check(child_ops().pread(c_, off, buf.data(), buf.size(), &e), e);
    }
    void pwrite(uint64_t off, std::span<const uint8_t> buf) override {
        ts_error e{};
        check(child_ops().pwrite(c_, off, buf.data(), buf.size(), &e), e);
    }
    void flush() override {
        ts_error e{};
        check(child_ops().flush(c_, &e), e);
    }
    uint64_t length() override { return child_ops().length(c_); }
    void truncate(uint64_t len) override {
        if (child_ops().size < offsetof(ts_block_child_ops, truncate) + sizeof(void *) || !child_ops().truncate)
            throw qcow2::Error("the kernel cannot grow the image file");
        ts_error e{};
        check(child_ops().truncate(c_, len, &e), e);
    }
    void discard(uint64_t off, uint64_t len) override {
        ts_error e{};
        check(child_ops().discard(c_, off, len, &e), e);
    }

private:
    ts_object *c_;
};

class Qcow2Node : public blk::Node {
public:
    static constexpr const char *format_name = "qcow2";
    explicit Qcow2Node(ts_object *o) : Node(o) {}

    void realize() {
        ts_object *file = child_ops().child(object(), "file");
        if (!file) throw ts::Error("Parameter 'file' is missing");
        file_.emplace(file);
        qcow2::OpenOptions o;
        o.read_only = flag("read-only");
        if (has("l2-cache-size")) o.l2_cache_size = size("l2-cache-size");
        if (has("cache-size") && has("l2-cache-size") && size("l2-cache-size") > size("cache-size"))
            throw ts::Error("l2-cache-size may not exceed cache-size");
        if (o.l2_cache_size && *o.l2_cache_size == 0) o.l2_cache_size.reset();
        try {
            img_ = std::make_unique<qcow2::Image>(*file_, o);
        } catch (const qcow2::Error &e) {
            throw ts::Error(e.what());
        }
        ts_object *back = child_ops().child(object(), "backing");
        const auto &h = img_->header();
        if (!back && !h.backing_file.empty()) {
            if (child_ops().size < offsetof(ts_block_child_ops, open_backing) + sizeof(void *))
                throw ts::Error("the kernel cannot open backing files");
            ts_error e{};
            back = child_ops().open_backing(object(), "backing", h.backing_file.c_str(),
                                            h.backing_format.empty() ? nullptr : h.backing_format.c_str(), &e);
            if (!back && e.message[0]) throw ts::Error(e.message);
        }
        if (back) {
            backing_.emplace(back);
            img_->set_backing(&*backing_);
        }
    }

    template <class F> void run(F &&f) {
        try {
            f();
        } catch (const qcow2::Error &e) {
            throw ts::Error(e.what());
        }
    }
    void pread(uint64_t off, std::span<uint8_t> buf) { run([&] { img_->read(off, buf); }); }
    void pwrite(uint64_t off, std::span<const uint8_t> buf) { run([&] { img_->write(off, buf); }); }
    void discard(uint64_t off, uint64_t len) { run([&] { img_->discard(off, len); }); }
    void flush() { run([&] { img_->flush(); }); }
    uint64_t length() { return img_ ? img_->size() : 0; }
    qcow2::Image &image() { return *img_; }

private:
    std::optional<ChildStorage> file_, backing_;
    std::unique_ptr<qcow2::Image> img_;  // declared last: closes before the storages go
};

int qcow2_probe(const uint8_t *buf, size_t len, const char *) {
    if (len >= 8 && qcow2::be32(buf) == qcow2::kMagic && qcow2::be32(buf + 4) >= 2) return 100;
    return 0;
}

constexpr ts_prop_decl kProps[] = {
    blk::prop("file", TS_PROP_DRIVE, nullptr, "the node holding the image"),
    blk::prop("backing", TS_PROP_DRIVE, nullptr, "the backing image node (default: from the header; null: none)"),
    blk::prop("read-only", TS_PROP_BOOL, "off", "open the image read-only"),
    blk::prop("l2-cache-size", TS_PROP_SIZE, nullptr, "bytes of L2 tables to cache"),
    blk::prop("cache-size", TS_PROP_SIZE, nullptr, "L2 plus refcount cache bytes"),
    blk::prop("refcount-cache-size", TS_PROP_SIZE, nullptr, "refcount cache bytes (refcounts are kept whole)"),
    blk::prop("l2-cache-entry-size", TS_PROP_SIZE, nullptr, "accepted; whole L2 tables are cached"),
    blk::prop("cache-clean-interval", TS_PROP_UINT, nullptr, "accepted; no effect"),
    blk::prop("lazy-refcounts", TS_PROP_BOOL, nullptr, "accepted; refcounts are always kept"),
    blk::prop("pass-discard-request", TS_PROP_BOOL, nullptr, "accepted; freed clusters are discarded"),
    blk::prop("pass-discard-snapshot", TS_PROP_BOOL, nullptr, "accepted"),
    blk::prop("pass-discard-other", TS_PROP_BOOL, nullptr, "accepted"),
    blk::prop("overlap-check", TS_PROP_STRING, nullptr, "accepted; tables are bounds-checked always"),
};
const ts_block_driver_class kQcow2Class = blk::driver_class<Qcow2Node>(kProps, qcow2_probe);

const void *get_class(const char *name) {
    return name && std::string_view(name) == "qcow2" ? &kQcow2Class : nullptr;
}

// New images over a node the kernel opened (the -snapshot overlay): v3,
// 64 KiB clusters, as `qemu-img create -f qcow2` makes them.
const ts_block_create_ops kCreate = {
    sizeof(ts_block_create_ops),
    [](ts_object *file, uint64_t size, const char *backing, const char *backing_fmt, ts_error *err) {
        return ts::guarded(err, [&] {
            ChildStorage st(file);
            qcow2::CreateOptions o;
            o.size = size;
            if (backing) o.backing_file = backing;
            if (backing_fmt) o.backing_format = backing_fmt;
            try {
                qcow2::Image::create(st, o);
            } catch (const qcow2::Error &e) {
                throw ts::Error(e.what());
            }
        });
    },
};

// Internal snapshots for savevm/loadvm/delvm (the kernel's snapshot layer).
template <class F> ts_status on_image(void *self, ts_error *err, F &&f) {
    return ts::guarded(err, [&] { static_cast<Qcow2Node *>(self)->run([&] { f(static_cast<Qcow2Node *>(self)->image()); }); });
}

void copy_str(char *dst, size_t cap, const std::string &s) {
    size_t n = std::min(cap - 1, s.size());
    std::memcpy(dst, s.data(), n);
    dst[n] = 0;
}

const ts_block_snapshot_ops kSnapshots = {
    sizeof(ts_block_snapshot_ops),
    [](void *self, ts_block_snapshot_info *out, size_t max, ts_error *err) -> int64_t {
        int64_t n = -1;
        on_image(self, err, [&](qcow2::Image &img) {
            const auto &snaps = img.snapshots();
            for (size_t i = 0; i < snaps.size() && i < max; i++) {
                ts_block_snapshot_info &o = out[i];
                o = ts_block_snapshot_info{};
                o.size = sizeof o;
                copy_str(o.id, sizeof o.id, snaps[i].id);
                copy_str(o.name, sizeof o.name, snaps[i].name);
                o.vm_state_size = snaps[i].vm_state_size;
                o.date_sec = snaps[i].date_sec;
                o.date_nsec = snaps[i].date_nsec;
                o.vm_clock_nsec = snaps[i].vm_clock_nsec;
                // The v3 extra data may carry the instruction count (bytes 16..23).
                o.icount = snaps[i].extra.size() >= 24 ? int64_t(qcow2::be64(&snaps[i].extra[16])) : -1;
            }
            n = int64_t(snaps.size());
        });
        return n;
    },
    [](void *self, uint64_t pos, const void *buf, size_t len, ts_error *err) {
        return on_image(self, err, [&](qcow2::Image &img) {
            img.vmstate_write(pos, {static_cast<const uint8_t *>(buf), len});
        });
    },
    [](void *self, const char *key, uint64_t pos, void *buf, size_t len, ts_error *err) {
        return on_image(self, err,
                        [&](qcow2::Image &img) { img.vmstate_read(key, pos, {static_cast<uint8_t *>(buf), len}); });
    },
    [](void *self, const char *name, uint64_t vm_state_size, uint64_t vm_clock_nsec, ts_error *err) {
        return on_image(self, err, [&](qcow2::Image &img) { img.snapshot_create(name, vm_clock_nsec, vm_state_size); });
    },
    [](void *self, const char *key, ts_error *err) {
        return on_image(self, err, [&](qcow2::Image &img) { img.snapshot_apply(key); });
    },
    [](void *self, const char *key, ts_error *err) {
        return on_image(self, err, [&](qcow2::Image &img) { img.snapshot_delete(key); });
    },
};

const void *get_capability(const char *name) {
    if (!name) return nullptr;
    std::string_view n(name);
    if (n == TS_BLOCK_CREATE_CAP) return &kCreate;
    if (n == TS_BLOCK_SNAPSHOT_CAP) return &kSnapshots;
    return nullptr;
}

}  // namespace

TESSERA_PLUGIN_WITH_CAPABILITIES("block-qcow2", "1.0.0", "type block qcow2 - - QEMU copy-on-write image format v2/v3\n",
                                 get_class, get_capability);
