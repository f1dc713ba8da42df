// libFuzzer target: any bytes as a qcow2 image. Opening parses the header,
// extensions, L1 and refcount tables; reads walk L2 tables and compressed
// clusters; a write, a discard and a flush exercise allocation and the
// refcount updates. Every problem must be a qcow2::Error, never a crash, a
// sanitizer report or an out-of-bounds access.
#include "image.hpp"

#include <cstddef>
#include <cstdint>

namespace {

// A MemStorage that refuses to grow past a few MiB (hostile sizes).
class BoundedStorage final : public qcow2::Storage {
public:
    explicit BoundedStorage(std::vector<uint8_t> d) : m_(std::move(d)) {}
    void pread(uint64_t off, std::span<uint8_t> b) override { m_.pread(off, b); }
    void pwrite(uint64_t off, std::span<const uint8_t> b) override { m_.pwrite(off, b); }
    uint64_t length() override { return m_.length(); }
    void truncate(uint64_t len) override {
        if (len > (16u << 20)) throw qcow2::Error("fuzz: file too large");
        m_.truncate(len);
    }

private:
    qcow2::MemStorage m_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > (4u << 20)) return 0;
    BoundedStorage st({data, data + size});
    try {
        qcow2::OpenOptions o;
        o.l2_cache_size = 4 * 65536;
        qcow2::Image img(st, o);
        uint64_t vsize = img.size();
        std::vector<uint8_t> buf(8192);
        for (uint64_t off : {uint64_t{0}, vsize / 3, vsize / 2, vsize > buf.size() ? vsize - buf.size() : 0}) {
            size_t n = size_t(std::min<uint64_t>(buf.size(), vsize - std::min(vsize, off)));
            if (n) img.read(off, {buf.data(), n});
        }
        if (vsize >= 4096) {
            img.write(vsize / 4 & ~uint64_t{511}, {buf.data(), 4096});
            img.discard(0, std::min<uint64_t>(vsize, 1u << 20));
        }
        img.flush();
    } catch (const qcow2::Error &) {
    }
    return 0;
}
