#include "net/pcap.hpp"

#include "options/error.hpp"

#include <array>
#include <cerrno>
#include <cstring>

namespace tessera::net {

namespace {
template <size_t N>
void put32(std::array<uint8_t, N> &b, size_t off, uint32_t v) {
    std::memcpy(b.data() + off, &v, 4);  // host order: readers detect it from the magic
}
}  // namespace

PcapWriter::PcapWriter(const std::string &path, uint32_t snaplen) : snaplen_(snaplen ? snaplen : 65536) {
    f_.reset(std::fopen(path.c_str(), "wb"));
    if (!f_) throw UsageError("Could not open '" + path + "': " + std::strerror(errno));
    std::array<uint8_t, 24> h{};
    put32(h, 0, 0xa1b2c3d4);  // microsecond timestamps
    const uint16_t major = 2, minor = 4;
    std::memcpy(h.data() + 4, &major, 2);
    std::memcpy(h.data() + 6, &minor, 2);
    put32(h, 16, snaplen_);
    put32(h, 20, 1);          // LINKTYPE_ETHERNET
    if (std::fwrite(h.data(), 1, h.size(), f_.get()) != h.size())
        throw UsageError("Could not write '" + path + "': " + std::strerror(errno));
    std::fflush(f_.get());
}

void PcapWriter::write(std::span<const uint8_t> frame, int64_t ts_ns) {
    const uint32_t caplen = frame.size() < snaplen_ ? static_cast<uint32_t>(frame.size()) : snaplen_;
    std::array<uint8_t, 16> r{};
    put32(r, 0, static_cast<uint32_t>(ts_ns / 1'000'000'000));
    put32(r, 4, static_cast<uint32_t>(ts_ns % 1'000'000'000 / 1000));
    put32(r, 8, caplen);
    put32(r, 12, static_cast<uint32_t>(frame.size()));
    std::fwrite(r.data(), 1, r.size(), f_.get());
    std::fwrite(frame.data(), 1, caplen, f_.get());
    // Flushed per record so the file is readable while the VM runs.
    std::fflush(f_.get());
}

void PcapWriter::flush() { std::fflush(f_.get()); }

}  // namespace tessera::net
