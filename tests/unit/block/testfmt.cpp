// A format for the probing tests only: images starting with "TESTFMT!"
// score 100; data passes straight through to the `file` child.
#include "driver.hpp"

#include <cstring>

namespace {

const ts_block_child_ops &ops() {
    return *static_cast<const ts_block_child_ops *>(ts::host().get_capability(TS_BLOCK_CHILD_CAP));
}

class TestNode : public blk::Node {
public:
    static constexpr const char *format_name = "testfmt";
    explicit TestNode(ts_object *o) : Node(o) {}
    void realize() {
        file_ = ops().child(object(), "file");
        if (!file_) throw ts::Error("Parameter 'file' is missing");
    }
    void pread(uint64_t off, std::span<uint8_t> buf) {
        ts_error err{};
        if (ops().pread(file_, off, buf.data(), buf.size(), &err) != TS_OK) throw ts::Error(err.message);
    }
    void pwrite(uint64_t off, std::span<const uint8_t> buf) {
        ts_error err{};
        if (ops().pwrite(file_, off, buf.data(), buf.size(), &err) != TS_OK) throw ts::Error(err.message);
    }
    uint64_t length() { return ops().length(file_); }

private:
    ts_object *file_ = nullptr;
};

int probe(const uint8_t *buf, size_t len, const char *) {
    return len >= 8 && std::memcmp(buf, "TESTFMT!", 8) == 0 ? 100 : 0;
}

constexpr ts_prop_decl kProps[] = {blk::prop("file", TS_PROP_DRIVE, nullptr, "the data")};
const ts_block_driver_class kClass = blk::driver_class<TestNode>(kProps, probe);

const void *get_class(const char *name) {
    return name && std::string_view(name) == "testfmt" ? &kClass : nullptr;
}

}  // namespace

TESSERA_PLUGIN("block-testfmt", "1.0.0", "type block testfmt - - probing test format\n", get_class);
