// Host memory that backs guest RAM and ROM: an mmap owned by one object and
// unmapped when it goes away.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace tessera {

struct HostMemoryOptions {
    // Empty: anonymous memory. A directory: a temporary file created there and
    // unlinked at once (-mem-path). Otherwise the file itself
    // (memory-backend-file,mem-path=...), grown to the size if shorter.
    std::string mem_path;
    bool share = false;     // MAP_SHARED: guest writes reach the file
    bool prealloc = false;  // fault every page in now
};

class HostMemory {
public:
    HostMemory() = default;
    // Maps `size` bytes (rounded up to the host page size). `name` is the
    // region's name, used in error messages. Throws UsageError.
    HostMemory(std::string_view name, uint64_t size, const HostMemoryOptions &opts = {});
    ~HostMemory();
    HostMemory(HostMemory &&other) noexcept;
    HostMemory &operator=(HostMemory &&other) noexcept;
    HostMemory(const HostMemory &) = delete;
    HostMemory &operator=(const HostMemory &) = delete;

    uint8_t *data() const { return data_; }
    uint64_t size() const { return size_; }          // as requested
    std::span<uint8_t> span() const { return {data_, size_}; }
    static uint64_t page_size();

private:
    void release() noexcept;
    uint8_t *data_ = nullptr;
    uint64_t size_ = 0;
    uint64_t mapped_ = 0;  // page-rounded length of the mapping
};

}  // namespace tessera
