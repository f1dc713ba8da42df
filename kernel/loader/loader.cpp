#include "loader/loader.hpp"

#include "options/keyval.hpp"

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tessera {
namespace {

class File {
public:
    File(std::string_view path, std::string_view what) : path_(path), what_(what) {
        fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd_ < 0)
            fail(errno);
        struct stat st{};
        if (::fstat(fd_, &st) != 0)
            fail(errno);
        if (S_ISDIR(st.st_mode))
            fail(EISDIR);
        size_ = uint64_t(st.st_size);
    }
    ~File() { ::close(fd_); }
    File(const File &) = delete;
    File &operator=(const File &) = delete;

    uint64_t size() const { return size_; }

    size_t read(std::span<uint8_t> out) {
        size_t got = 0;
        while (got < out.size()) {
            const ssize_t n = ::read(fd_, out.data() + got, out.size() - got);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                fail(errno);
            if (n == 0)
                break;
            got += size_t(n);
        }
        return got;
    }

    [[noreturn]] void fail(int err) const {
        throw UsageError("could not load " + what_ + " '" + path_ + "': " + std::strerror(err));
    }

private:
    std::string path_, what_;
    int fd_ = -1;
    uint64_t size_ = 0;
};

std::string hex(uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%016" PRIx64, v);
    return buf;
}

template <class T>
T le(std::span<const uint8_t> b, size_t off) {
    T v = 0;
    for (size_t i = 0; i < sizeof(T); ++i)
        v |= T(b[off + i]) << (8 * i);
    return v;
}

}  // namespace

bool is_backed(const AddressSpace &as, uint64_t addr, uint64_t size) {
    while (size) {
        const ts_flat_range r = as.lookup(addr);
        if (r.kind != TS_REGION_RAM && r.kind != TS_REGION_ROM)
            return false;
        const uint64_t avail = r.start + (r.length - 1) - addr;   // bytes left, minus one
        if (size - 1 <= avail)
            return true;
        addr += avail + 1;
        size -= avail + 1;
    }
    return true;
}

bool any_backed(const AddressSpace &as, uint64_t addr, uint64_t size) {
    while (size) {
        const ts_flat_range r = as.lookup(addr);
        if (r.kind == TS_REGION_RAM || r.kind == TS_REGION_ROM)
            return true;
        const uint64_t avail = r.start + (r.length - 1) - addr;
        if (size - 1 <= avail)
            return false;
        addr += avail + 1;
        size -= avail + 1;
    }
    return false;
}

bool write_image(AddressSpace &as, uint64_t addr, std::span<const uint8_t> data, uint64_t size) {
    bool ok = as.write(addr, data.first(std::min<uint64_t>(data.size(), size)), Access::Loader) == TS_MEMTX_OK;
    // Zero-fill (bss) in bounded pieces: memsz comes from the file.
    static const std::vector<uint8_t> zeros(64 * 1024);
    for (uint64_t done = data.size(); done < size;) {
        // Holes are skipped whole: a hostile memsz must not cost a write per
        // 64 KiB of address space.
        const ts_flat_range r = as.lookup(addr + done);
        if (r.kind != TS_REGION_RAM && r.kind != TS_REGION_ROM) {
            const uint64_t hole_left = r.start + (r.length - 1) - (addr + done);
            ok = false;
            if (hole_left >= size - done - 1) break;
            done += hole_left + 1;
            continue;
        }
        const uint64_t n = std::min<uint64_t>(zeros.size(), size - done);
        ok &= as.write(addr + done, std::span(zeros).first(n), Access::Loader) == TS_MEMTX_OK;
        done += n;
    }
    return ok;
}

std::vector<uint8_t> read_file(std::string_view path, std::string_view what) {
    File f(path, what);
    std::vector<uint8_t> data(f.size());
    data.resize(f.read(data));
    return data;
}

size_t file_read_head(std::string_view path, std::span<uint8_t> out) {
    File f(path, "file");
    return f.read(out);
}

bool file_is_elf(std::string_view path) {
    uint8_t magic[4];
    return file_read_head(path, magic) == sizeof magic && std::memcmp(magic, "\x7f" "ELF", 4) == 0;
}

void SymbolTable::add(std::string name, uint64_t value) {
    std::lock_guard lock(mutex_);
    map_.insert_or_assign(std::move(name), value);
}

void SymbolTable::add_function(std::string name, uint64_t value, uint64_t size) {
    std::lock_guard lock(mutex_);
    functions_.insert_or_assign(value, Function{size, std::move(name)});
}

const char *SymbolTable::function_at(uint64_t addr) const {
    std::lock_guard lock(mutex_);
    auto it = functions_.upper_bound(addr);
    if (it == functions_.begin()) return nullptr;
    --it;
    const uint64_t off = addr - it->first;
    return (off < it->second.size || (off == 0 && it->second.size == 0)) ? it->second.name.c_str() : nullptr;
}

std::optional<uint64_t> SymbolTable::lookup(std::string_view name) const {
    std::lock_guard lock(mutex_);
    auto it = map_.find(std::string(name));
    if (it == map_.end())
        return std::nullopt;
    return it->second;
}

size_t SymbolTable::size() const {
    std::lock_guard lock(mutex_);
    return map_.size();
}

void SymbolTable::clear() {
    std::lock_guard lock(mutex_);
    map_.clear();
    functions_.clear();
}

SymbolTable &global_symbols() {
    static SymbolTable table;
    return table;
}

void RomRegistry::add(std::string name, AddressSpace &as, uint64_t addr, std::vector<uint8_t> data,
                      uint64_t size, bool partial) {
    if (size == 0)
        size = data.size();
    if (size == 0)
        return;
    if (data.size() > size)
        data.resize(size);
    if (size - 1 > UINT64_MAX - addr)
        throw UsageError("rom: " + name + " at " + hex(addr) + " wraps around the address space");
    for (const Blob &b : blobs_) {
        if (b.as != &as || addr > b.addr + (b.size - 1) || b.addr > addr + (size - 1))
            continue;
        // Worded as the reference words it.
        throw UsageError("rom: requested regions overlap (rom " + name + ". free=" + hex(b.addr + b.size) +
                         ", addr=" + hex(addr) + ")");
    }
    if (partial ? !any_backed(as, addr, size) : !is_backed(as, addr, size))
        throw UsageError("rom: " + name + " at " + hex(addr) + " is not in guest memory");
    write_image(as, addr, data, size);
    blobs_.push_back(Blob{std::move(name), &as, addr, size, std::move(data)});
}

void RomRegistry::rewrite_all() const {
    for (const Blob &b : blobs_)
        write_image(*b.as, b.addr, b.data, b.size);
}

std::string RomRegistry::info_roms() const {
    std::string out;
    for (const Blob &b : blobs_) {
        const auto r = b.as->lookup(b.addr);
        char line[96];
        std::snprintf(line, sizeof line, "addr=%016" PRIx64 " size=0x%06" PRIx64 " mem=%s name=\"", b.addr,
                      b.size, r.kind == TS_REGION_ROM ? "rom" : "ram");
        out += line + b.name + "\"\n";
    }
    return out;
}

RomRegistry &global_roms() {
    static RomRegistry roms;
    return roms;
}

uint64_t load_raw(std::string_view path, AddressSpace &as, uint64_t addr, uint64_t max_size,
                  RomRegistry *roms, std::string_view what) {
    std::vector<uint8_t> data;
    {
        File f(path, what);
        if (f.size() > max_size)
            throw UsageError("could not load " + std::string(what) + " '" + std::string(path) + "': " +
                             "file too large (" + std::to_string(f.size()) + " bytes, at most " +
                             std::to_string(max_size) + ")");
        data.resize(f.size());
        data.resize(f.read(data));
    }
    const uint64_t size = data.size();
    if (roms) {
        roms->add(std::string(path), as, addr, std::move(data));
    } else if (size && as.write(addr, data, Access::Loader) != TS_MEMTX_OK) {
        throw UsageError("could not load " + std::string(what) + " '" + std::string(path) + "': " + hex(addr) +
                         " is not in guest memory");
    }
    return size;
}

std::optional<RiscvImageHeader> parse_riscv_image(std::span<const uint8_t> head) {
    if (head.size() < kRiscvImageHeaderSize || std::memcmp(head.data() + 0x38, "RSC\x05", 4) != 0)
        return std::nullopt;
    return RiscvImageHeader{le<uint64_t>(head, 8), le<uint64_t>(head, 16), le<uint64_t>(head, 24),
                            le<uint32_t>(head, 32)};
}

}  // namespace tessera
