// What the qcow2 engine needs from the node below it (the image file) and
// from a backing image: byte I/O. The plugin adapts the kernel's child
// capability to it; tests and the fuzzer use MemStorage.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace qcow2 {

// Every failure, with one line naming the problem.
struct Error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class Storage {
public:
    virtual ~Storage() = default;
    virtual void pread(uint64_t off, std::span<uint8_t> buf) = 0;
    virtual void pwrite(uint64_t off, std::span<const uint8_t> buf) = 0;
    virtual void flush() {}
    virtual uint64_t length() = 0;
    virtual void truncate(uint64_t len) = 0;
    virtual void discard(uint64_t, uint64_t) {}
};

// An image in memory; reads past the end fail as the kernel's checks do.
class MemStorage final : public Storage {
public:
    MemStorage() = default;
    explicit MemStorage(std::vector<uint8_t> d) : data(std::move(d)) {}
    void pread(uint64_t off, std::span<uint8_t> buf) override {
        if (off > data.size() || buf.size() > data.size() - off) throw Error("read past the end of the file");
        std::memcpy(buf.data(), data.data() + off, buf.size());
    }
    void pwrite(uint64_t off, std::span<const uint8_t> buf) override {
        if (off > data.size() || buf.size() > data.size() - off) throw Error("write past the end of the file");
        std::memcpy(data.data() + off, buf.data(), buf.size());
    }
    uint64_t length() override { return data.size(); }
    void truncate(uint64_t len) override {
        if (len > (uint64_t{1} << 32)) throw Error("file too large for memory");
        data.resize(len);
    }
    std::vector<uint8_t> data;
};

// Big-endian fields.
inline uint64_t be64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | p[i];
    return v;
}
inline uint32_t be32(const uint8_t *p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }
inline uint16_t be16(const uint8_t *p) { return uint16_t(p[0] << 8 | p[1]); }
inline void put64(uint8_t *p, uint64_t v) {
    for (int i = 7; i >= 0; i--, v >>= 8) p[i] = uint8_t(v);
}
inline void put32(uint8_t *p, uint32_t v) {
    for (int i = 3; i >= 0; i--, v >>= 8) p[i] = uint8_t(v);
}
inline void put16(uint8_t *p, uint16_t v) { p[0] = uint8_t(v >> 8), p[1] = uint8_t(v); }

std::string hex(uint64_t v);

}  // namespace qcow2
