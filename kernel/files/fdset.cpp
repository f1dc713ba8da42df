#include "files/fdset.hpp"

#include "options/keyval.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <vector>

namespace tessera {

namespace {
struct Entry {
    int fd;
    std::string opaque;
};
std::map<int64_t, std::vector<Entry>> g_sets;
}  // namespace

void fdset_add(int64_t set, int fd, std::string opaque) {
    if (fd <= 2) throw UsageError("fd cannot be a standard I/O stream");
    if (fcntl(fd, F_GETFD) < 0) throw UsageError("fd " + std::to_string(fd) + " is not open");
    if (set < 0) throw UsageError("set must be a non-negative number");
    // Kept across exec only if asked; tessera execs nothing.
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    g_sets[set].push_back({fd, std::move(opaque)});
}

int file_open(std::string_view path, int flags, unsigned mode) {
    constexpr std::string_view prefix = "/dev/fdset/";
    if (path.substr(0, prefix.size()) != prefix) {
        int fd;
        do fd = ::open(std::string(path).c_str(), flags | O_CLOEXEC, mode);
        while (fd < 0 && errno == EINTR);
        return fd;
    }
    int64_t set;
    try {
        set = parse_int(path.substr(prefix.size()));
    } catch (const UsageError &) {
        errno = EINVAL;
        return -1;
    }
    auto it = g_sets.find(set);
    if (it == g_sets.end()) {
        errno = ENOENT;
        return -1;
    }
    for (const Entry &e : it->second) {
        int fl = fcntl(e.fd, F_GETFL);
        if (fl < 0 || (fl & O_ACCMODE) != (flags & O_ACCMODE)) continue;
        int fd = fcntl(e.fd, F_DUPFD_CLOEXEC, 3);
        if (fd >= 0) return fd;
    }
    errno = EACCES;
    return -1;
}

}  // namespace tessera
