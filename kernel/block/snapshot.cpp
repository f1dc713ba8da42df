// The -snapshot / snapshot=on overlay. The reference stacks a temporary
// qcow2 over the image; with raw-only support we keep the same contract
// (guest writes never reach the image, and vanish at exit) with a sparse,
// already-unlinked temporary file of the image's size and a bitmap of the
// 4 KiB clusters written so far.
#include "block/node.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <unistd.h>

namespace tessera {

namespace {

constexpr uint64_t kCluster = 4096;

// Like the reference, temporary images go to $TMPDIR or /var/tmp.
int open_temp() {
    const char *env = std::getenv("TMPDIR");
    std::string dir = env && *env ? env : "/var/tmp";
    for (const std::string &d : {dir, std::string("/tmp")}) {
        int fd = ::open(d.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (fd >= 0) return fd;
        std::string templ = d + "/tessera-snapshot.XXXXXX";
        fd = ::mkostemp(templ.data(), O_CLOEXEC);
        if (fd >= 0) {
            ::unlink(templ.c_str());
            return fd;
        }
    }
    throw BlockError(std::string("Could not create temporary overlay: ") + std::strerror(errno));
}

class SnapshotDriver final : public NodeDriver {
public:
    explicit SnapshotDriver(BlockNode &base) : base_(base), fd_(open_temp()) {
        size_ = base_.length();
        if (::ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
            int e = errno;
            ::close(fd_);
            throw BlockError(std::string("Could not create temporary overlay: ") + std::strerror(e));
        }
        dirty_.assign((size_ + kCluster - 1) / kCluster, false);
    }
    ~SnapshotDriver() override { ::close(fd_); }

    void pread(uint64_t off, std::span<uint8_t> buf) override {
        for_clusters(off, buf.size(), [&](uint64_t c, uint64_t at, size_t n, size_t pos) {
            if (dirty_[c]) io(false, at, buf.data() + pos, n);
            else base_.pread(at, buf.subspan(pos, n));
        });
    }

    void pwrite(uint64_t off, std::span<const uint8_t> buf) override {
        for_clusters(off, buf.size(), [&](uint64_t c, uint64_t at, size_t n, size_t pos) {
            if (!dirty_[c] && n != cluster_len(c)) {
                // First touch of a partly written cluster: copy it up.
                std::vector<uint8_t> tmp(cluster_len(c));
                base_.pread(c * kCluster, tmp);
                io(true, c * kCluster, tmp.data(), tmp.size());
            }
            io(true, at, const_cast<uint8_t *>(buf.data() + pos), n);
            dirty_[c] = true;
        });
    }

    uint64_t length() override { return size_; }

    // The overlay only reads its backing image and must not let it change.
    std::pair<uint64_t, uint64_t> child_perm(std::string_view, uint64_t, uint64_t) override {
        return {kPermRead, kPermRead | kPermWriteUnchanged | kPermResize};
    }

private:
    uint64_t cluster_len(uint64_t c) const { return std::min(kCluster, size_ - c * kCluster); }

    template <class F>
    void for_clusters(uint64_t off, size_t len, F &&f) {
        size_t pos = 0;
        while (pos < len) {
            uint64_t at = off + pos, c = at / kCluster;
            size_t n = static_cast<size_t>(std::min<uint64_t>(len - pos, (c + 1) * kCluster - at));
            f(c, at, n, pos);
            pos += n;
        }
    }

    void io(bool write, uint64_t off, uint8_t *buf, size_t len) {
        size_t done = 0;
        while (done < len) {
            ssize_t r = write ? ::pwrite(fd_, buf + done, len - done, static_cast<off_t>(off + done))
                              : ::pread(fd_, buf + done, len - done, static_cast<off_t>(off + done));
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0)
                throw BlockError(std::string("temporary overlay: ") + (r < 0 ? std::strerror(errno) : "short I/O"));
            done += static_cast<size_t>(r);
        }
    }

    BlockNode &base_;
    int fd_;
    uint64_t size_ = 0;
    std::vector<bool> dirty_;
};

}  // namespace

std::unique_ptr<NodeDriver> make_snapshot_driver(BlockNode &base) { return std::make_unique<SnapshotDriver>(base); }

}  // namespace tessera
