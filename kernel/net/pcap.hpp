// A pcap (libpcap 2.4, LINKTYPE_ETHERNET) file writer for filter-dump.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>

namespace tessera::net {

class PcapWriter {
public:
    // Creates (truncates) the file and writes the header; throws UsageError.
    PcapWriter(const std::string &path, uint32_t snaplen = 65536);
    // One record; ts_ns is wall-clock nanoseconds since the epoch.
    void write(std::span<const uint8_t> frame, int64_t ts_ns);
    void flush();

private:
    struct Closer {
        void operator()(std::FILE *f) const { std::fclose(f); }
    };
    std::unique_ptr<std::FILE, Closer> f_;
    uint32_t snaplen_;
};

}  // namespace tessera::net
