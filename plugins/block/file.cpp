// The `file` protocol driver: a POSIX file or block device. Synchronous
// pread/pwrite with EINTR and short-I/O loops, fdatasync for flush, O_DIRECT
// (cache.direct=on) through aligned bounce buffers, hole punching for
// discard=unmap, and the reference's image locking with OFD locks so that two
// processes (tessera or qemu) cannot write the same image.
#include "driver.hpp"

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

[[noreturn]] void fail_errno(std::string_view what, int e) {
    throw ts::Error(std::string(what) + ": " + std::strerror(e));
}

// Lock bytes as the reference places them: held permission n at 100+n, a
// permission not shared with others at 200+n.
constexpr off_t kLockPermBase = 100, kLockSharedBase = 200;
constexpr std::array<const char *, 4> kPermNames = {"consistent read", "write", "write unchanged", "resize"};

bool ofd_lock(int fd, off_t byte, short type) {
    struct flock fl {};
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = byte;
    fl.l_len = 1;
    return fcntl(fd, F_OFD_SETLK, &fl) == 0;
}
// Would an exclusive lock on byte conflict with another open file description?
bool ofd_taken(int fd, off_t byte) {
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = byte;
    fl.l_len = 1;
    if (fcntl(fd, F_OFD_GETLK, &fl) != 0) return false;
    return fl.l_type != F_UNLCK;
}

// O_DIRECT needs buffer, offset and length aligned; 4 KiB covers every
// logical block size in use.
constexpr uint64_t kDirectAlign = 4096;
struct FreeDeleter {
    void operator()(uint8_t *p) const { std::free(p); }
};
using AlignedBuf = std::unique_ptr<uint8_t, FreeDeleter>;
AlignedBuf aligned_buf(size_t len) {
    auto *p = static_cast<uint8_t *>(std::aligned_alloc(kDirectAlign, len));
    if (!p) throw ts::Error("Cannot allocate memory");
    return AlignedBuf(p);
}
bool aligned(uint64_t v) { return v % kDirectAlign == 0; }

const char *const kLocking[] = {"auto", "on", "off", nullptr};
const char *const kAio[] = {"threads", "native", "io_uring", nullptr};
const char *const kDiscard[] = {"ignore", "unmap", nullptr};

class FileNode : public blk::Node {
public:
    static constexpr const char *format_name = "file";
    explicit FileNode(ts_object *o) : Node(o) {}
    ~FileNode() {
        if (fd_ >= 0) ::close(fd_);  // also drops every OFD lock of this open
    }

    void realize() {
        if (!has("filename")) throw ts::Error("Parameter 'filename' is missing");
        filename_ = str("filename");
        if (filename_.empty()) throw ts::Error("The 'file' block driver requires a file name");
        direct_ = flag("cache.direct");
        unmap_ = str("discard") == "unmap";
        if (str("aio") == "native" && !direct_)
            throw ts::Error("aio=native was specified, but it requires cache.direct=on, which was not specified.");
        int flags = (flag("read-only") ? O_RDONLY : O_RDWR) | O_CLOEXEC | (direct_ ? O_DIRECT : 0);
        // Through the kernel so that /dev/fdset/N (-add-fd) works too.
        ts_error oerr{};
        fd_ = ts::host().open_file(filename_.c_str(), flags, 0, &oerr);
        if (fd_ < 0) {
            if (errno == EINVAL && direct_)
                throw ts::Error("Could not open '" + filename_ + "': filesystem does not support O_DIRECT");
            throw ts::Error("Could not open '" + filename_ + "': " + std::strerror(errno));
        }
        struct stat st {};
        if (fstat(fd_, &st) == 0 && S_ISDIR(st.st_mode))
            throw ts::Error("Could not open '" + filename_ + "': " + std::strerror(EISDIR));
        block_device_ = S_ISBLK(st.st_mode);
        std::string_view locking = str("locking");
        // auto: lock when the filesystem supports OFD locks.
        use_lock_ = locking != "off";
        if (use_lock_) {
            struct flock fl {};
            fl.l_type = F_WRLCK;
            fl.l_whence = SEEK_SET;
            fl.l_start = kLockPermBase;
            fl.l_len = 1;
            if (fcntl(fd_, F_OFD_GETLK, &fl) != 0) {
                if (locking == "on") fail_errno("Failed to lock '" + filename_ + "'", errno);
                use_lock_ = false;
            }
        }
    }

    void set_perm(uint64_t perm, uint64_t shared) {
        if (!use_lock_) return;
        // As the reference: take the union of old and new first, check for
        // conflicts, then settle on exactly the new set (or go back).
        uint64_t unshared = ~shared & TS_BLOCK_PERM_ALL;
        try {
            apply_locks(perm_ | perm, unshared_ | unshared);
            check_locks(perm, unshared);
        } catch (...) {
            apply_locks(perm_, unshared_);
            throw;
        }
        apply_locks(perm, unshared);
        perm_ = perm;
        unshared_ = unshared;
    }

    void pread(uint64_t off, std::span<uint8_t> buf) {
        if (!direct_ || (aligned(off) && aligned(buf.size()) && aligned(reinterpret_cast<uintptr_t>(buf.data()))))
            return read_loop(off, buf);
        auto [start, span_len] = widen(off, buf.size());
        AlignedBuf bounce = aligned_buf(span_len);
        read_loop(start, {bounce.get(), span_len});
        std::memcpy(buf.data(), bounce.get() + (off - start), buf.size());
    }

    void pwrite(uint64_t off, std::span<const uint8_t> buf) {
        if (!direct_ || (aligned(off) && aligned(buf.size()) && aligned(reinterpret_cast<uintptr_t>(buf.data()))))
            return write_loop(off, buf);
        // Read-modify-write of the aligned span; never grow the file past
        // where it ended.
        uint64_t old_len = length();
        auto [start, span_len] = widen(off, buf.size());
        AlignedBuf bounce = aligned_buf(span_len);
        read_loop(start, {bounce.get(), span_len});
        std::memcpy(bounce.get() + (off - start), buf.data(), buf.size());
        write_loop(start, {bounce.get(), span_len});
        if (!block_device_ && start + span_len > old_len && ::ftruncate(fd_, static_cast<off_t>(old_len)) != 0)
            fail_errno("Could not restore the image length", errno);
    }

    void flush() {
        int r;
        do r = ::fdatasync(fd_);
        while (r != 0 && errno == EINTR);
        if (r != 0) fail_errno("flush", errno);
    }

    uint64_t length() {
        if (block_device_) {
            off_t end = ::lseek(fd_, 0, SEEK_END);
            return end < 0 ? 0 : static_cast<uint64_t>(end);
        }
        struct stat st {};
        if (fstat(fd_, &st) != 0) fail_errno("stat", errno);
        return static_cast<uint64_t>(st.st_size);
    }

    void truncate(uint64_t len) {
        if (::ftruncate(fd_, static_cast<off_t>(len)) != 0) fail_errno("Failed to resize the file", errno);
    }

    void discard(uint64_t off, uint64_t len) {
        if (!unmap_ || block_device_) return;
        if (::fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(off),
                        static_cast<off_t>(len)) != 0 &&
            errno != EOPNOTSUPP && errno != ENOSYS)
            fail_errno("discard", errno);
    }

private:
    static std::pair<uint64_t, size_t> widen(uint64_t off, size_t len) {
        uint64_t start = off - off % kDirectAlign;
        uint64_t end = (off + len + kDirectAlign - 1) / kDirectAlign * kDirectAlign;
        return {start, static_cast<size_t>(end - start)};
    }

    // Reads past the end of the file read as zeroes.
    void read_loop(uint64_t off, std::span<uint8_t> buf) {
        size_t done = 0;
        while (done < buf.size()) {
            ssize_t n = ::pread(fd_, buf.data() + done, buf.size() - done, static_cast<off_t>(off + done));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) fail_errno("read", errno);
            if (n == 0) break;
            done += static_cast<size_t>(n);
            if (direct_ && !aligned(done)) break;  // short O_DIRECT read: end of file
        }
        std::memset(buf.data() + done, 0, buf.size() - done);
    }

    void write_loop(uint64_t off, std::span<const uint8_t> buf) {
        size_t done = 0;
        while (done < buf.size()) {
            ssize_t n = ::pwrite(fd_, buf.data() + done, buf.size() - done, static_cast<off_t>(off + done));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) fail_errno("write", errno);
            if (n == 0) fail_errno("write", ENOSPC);
            done += static_cast<size_t>(n);
        }
    }

    void apply_locks(uint64_t perm, uint64_t unshared) {
        for (unsigned i = 0; i < kPermNames.size(); i++) {
            uint64_t bit = 1ull << i;
            for (auto [base, want] : {std::pair{kLockPermBase, perm & bit}, std::pair{kLockSharedBase, unshared & bit}})
                if (!ofd_lock(fd_, base + i, want ? F_RDLCK : F_UNLCK))
                    fail_errno("Failed to lock byte " + std::to_string(base + i), errno);
        }
    }

    void check_locks(uint64_t perm, uint64_t unshared) {
        auto refuse = [&](const char *fmt_prefix, unsigned i) {
            throw ts::Error(std::string(fmt_prefix) + "\"" + kPermNames[i] +
                            "\" lock\nIs another process using the image [" + filename_ + "]?");
        };
        for (unsigned i = 0; i < kPermNames.size(); i++)
            if ((perm >> i & 1) && ofd_taken(fd_, kLockSharedBase + i)) refuse("Failed to get ", i);
        for (unsigned i = 0; i < kPermNames.size(); i++)
            if ((unshared >> i & 1) && ofd_taken(fd_, kLockPermBase + i)) refuse("Failed to get shared ", i);
    }

    std::string filename_;
    int fd_ = -1;
    bool direct_ = false, unmap_ = false, block_device_ = false, use_lock_ = false;
    uint64_t perm_ = 0, unshared_ = 0;
};

constexpr ts_prop_decl kProps[] = {
    blk::prop("filename", TS_PROP_STRING, nullptr, "path to the image file"),
    blk::prop("locking", TS_PROP_ENUM, "auto", "image locking with OFD locks", kLocking),
    blk::prop("aio", TS_PROP_ENUM, "threads", "I/O backend (requests are synchronous here)", kAio),
    // Generic node options the kernel fills in (see tessera/block.h).
    blk::prop("read-only", TS_PROP_BOOL, "off", "open the file read-only"),
    blk::prop("cache.direct", TS_PROP_BOOL, "off", "bypass the host page cache (O_DIRECT)"),
    blk::prop("discard", TS_PROP_ENUM, "ignore", "punch holes for discard requests (unmap)", kDiscard),
};
const ts_block_driver_class kFileClass = blk::driver_class<FileNode>(kProps);

const ts_block_perm_ops kPermOps = {
    sizeof(ts_block_perm_ops),
    [](void *self, uint64_t perm, uint64_t shared, ts_error *err) {
        return ts::guarded(err, [&] { static_cast<FileNode *>(self)->set_perm(perm, shared); });
    },
};

const void *get_class(const char *name) {
    return name && std::string_view(name) == "file" ? &kFileClass : nullptr;
}

const void *get_capability(const char *id) {
    return id && std::string_view(id) == TS_BLOCK_PERM_CAP ? &kPermOps : nullptr;
}

}  // namespace

TESSERA_PLUGIN_WITH_CAPABILITIES("block-file", "1.0.0", "type block file - - POSIX file or block device\n", get_class,
                get_capability);
