// The `raw` format driver: the guest sees its child ("file") as is, or the
// window [offset, offset + size) of it. Requests outside the window fail
// rather than leak into the rest of the child.
#include "driver.hpp"

#include <cerrno>
#include <cstring>

namespace {

using blk::child_ops;

void check(ts_status s, const ts_error &err) {
    if (s != TS_OK) throw ts::Error(err.message);
}

class RawNode : public blk::Node {
public:
    static constexpr const char *format_name = "raw";
    explicit RawNode(ts_object *o) : Node(o) {}

    void realize() {
        file_ = child_ops().child(object(), "file");
        if (!file_) throw ts::Error("Parameter 'file' is missing");
        offset_ = size("offset");
        has_size_ = has("size");
        size_ = size("size");
        // The reference's checks and words.
        uint64_t real = child_ops().length(file_);
        if (offset_ > real)
            throw ts::Error("Offset (" + std::to_string(offset_) +
                            ") cannot be greater than size of the containing file (" + std::to_string(real) + ")");
        if (has_size_ && real - offset_ < size_)
            throw ts::Error("The sum of offset (" + std::to_string(offset_) + ") and size (" +
                            std::to_string(size_) + ") has to be smaller or equal to the  actual size of the "
                            "containing file (" + std::to_string(real) + ")");
        if (has_size_ && size_ % 512 != 0) throw ts::Error("Specified size is not multiple of 512");
    }

    void pread(uint64_t off, std::span<uint8_t> buf) {
        adjust(off, buf.size(), EINVAL);
        ts_error err{};
        check(child_ops().pread(file_, off, buf.data(), buf.size(), &err), err);
    }
    void pwrite(uint64_t off, std::span<const uint8_t> buf) {
        adjust(off, buf.size(), ENOSPC);
        ts_error err{};
        check(child_ops().pwrite(file_, off, buf.data(), buf.size(), &err), err);
    }
    void discard(uint64_t off, uint64_t len) {
        adjust(off, len, ENOSPC);
        ts_error err{};
        check(child_ops().discard(file_, off, len, &err), err);
    }
    // The child may change size behind our back; the window follows it.
    uint64_t length() {
        uint64_t real = child_ops().length(file_);
        if (real < offset_) return 0;
        return has_size_ ? std::min(size_, real - offset_) : real - offset_;
    }

private:
    void adjust(uint64_t &off, uint64_t len, int error) {
        uint64_t limit = length();
        if (off > limit || len > limit - off) throw ts::Error(std::strerror(error));
        off += offset_;
    }

    ts_object *file_ = nullptr;
    uint64_t offset_ = 0, size_ = 0;
    bool has_size_ = false;
};

// Smallest positive score: raw is chosen only when no other format claims
// the image.
int raw_probe(const uint8_t *, size_t, const char *) { return 1; }

constexpr ts_prop_decl kProps[] = {
    blk::prop("file", TS_PROP_DRIVE, nullptr, "the node holding the data"),
    blk::prop("offset", TS_PROP_SIZE, "0", "offset in the disk where the image starts"),
    blk::prop("size", TS_PROP_SIZE, nullptr, "virtual disk size"),
};
const ts_block_driver_class kRawClass = blk::driver_class<RawNode>(kProps, raw_probe);

const void *get_class(const char *name) {
    return name && std::string_view(name) == "raw" ? &kRawClass : nullptr;
}

}  // namespace

TESSERA_PLUGIN("block-raw", "1.0.0", "type block raw - - raw disk image format\n", get_class);
