#include "memory/host_memory.hpp"

#include "options/keyval.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace tessera {
namespace {

constexpr uint64_t kHugePage = 2 << 20;

// Closes a descriptor on every path out of the constructor.
struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0)
            ::close(fd);
    }
};

[[noreturn]] void fail(std::string_view name, std::string_view what, int err) {
    throw UsageError("cannot set up guest memory '" + std::string(name) + "': " +
                     std::string(what) + std::strerror(err));
}

}  // namespace

uint64_t HostMemory::page_size() {
    static const uint64_t size = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    return size;
}

HostMemory::HostMemory(std::string_view name, uint64_t size, const HostMemoryOptions &opts) {
    if (size == 0)
        throw UsageError("cannot set up guest memory '" + std::string(name) + "': size is zero");
    const uint64_t page = page_size();
    if (size > UINT64_MAX - page)
        fail(name, "", ENOMEM);
    const uint64_t mapped = (size + page - 1) & ~(page - 1);

    Fd file;
    int flags = MAP_NORESERVE | (opts.prealloc ? MAP_POPULATE : 0);
    if (opts.mem_path.empty()) {
        flags |= MAP_PRIVATE | MAP_ANONYMOUS;
    } else {
        struct stat st{};
        if (::stat(opts.mem_path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
            // -mem-path DIR: a private temporary file nobody else can open.
            std::string base(name);
            for (char &c : base)
                if (c == '/')
                    c = '_';
            std::string tmpl = opts.mem_path + "/tessera_back_mem." + base + ".XXXXXX";
            file.fd = ::mkstemp(tmpl.data());
            if (file.fd < 0)
                fail(name, "cannot create backing file in '" + opts.mem_path + "': ", errno);
            ::unlink(tmpl.c_str());
        } else {
            file.fd = ::open(opts.mem_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
            if (file.fd < 0)
                fail(name, "cannot open '" + opts.mem_path + "': ", errno);
        }
        if (::fstat(file.fd, &st) != 0)
            fail(name, "", errno);
        if (static_cast<uint64_t>(st.st_size) < mapped && ::ftruncate(file.fd, static_cast<off_t>(mapped)) != 0)
            fail(name, "cannot resize '" + opts.mem_path + "': ", errno);
        flags |= opts.share ? MAP_SHARED : MAP_PRIVATE;
    }
    void *p;
    if (file.fd < 0 && mapped >= kHugePage) {
        // Anonymous RAM on a 2 MiB boundary with transparent huge pages, as
        // the reference does: a fault then maps 2 MiB (a Linux boot took
        // tens of thousands of page faults otherwise).
        void *r = ::mmap(nullptr, mapped + kHugePage, PROT_READ | PROT_WRITE, flags, -1, 0);
        if (r == MAP_FAILED)
            fail(name, "", errno);
        const auto base = reinterpret_cast<uintptr_t>(r);
        const uintptr_t aligned = (base + kHugePage - 1) & ~(kHugePage - 1);
        if (aligned > base)
            ::munmap(r, aligned - base);
        if (const uintptr_t end = base + mapped + kHugePage; end > aligned + mapped)
            ::munmap(reinterpret_cast<void *>(aligned + mapped), end - (aligned + mapped));
        p = reinterpret_cast<void *>(aligned);
        ::madvise(p, mapped, MADV_HUGEPAGE);   // a hint: no error if the host has THP off
    } else {
        p = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, flags, file.fd, 0);
        if (p == MAP_FAILED)
            fail(name, "", errno);
    }
    data_ = static_cast<uint8_t *>(p);
    size_ = size;
    mapped_ = mapped;
}

HostMemory::~HostMemory() { release(); }

HostMemory::HostMemory(HostMemory &&other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)),
      mapped_(std::exchange(other.mapped_, 0)) {}

HostMemory &HostMemory::operator=(HostMemory &&other) noexcept {
    if (this != &other) {
        release();
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
        mapped_ = std::exchange(other.mapped_, 0);
    }
    return *this;
}

void HostMemory::release() noexcept {
    if (data_)
        ::munmap(data_, mapped_);
    data_ = nullptr;
    size_ = mapped_ = 0;
}

}  // namespace tessera
