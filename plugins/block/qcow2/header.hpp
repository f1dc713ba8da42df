// The qcow2 header (versions 2 and 3) and its extensions: parsing with every
// field checked against the file, and writing back.
#pragma once

#include "storage.hpp"

#include <optional>

namespace qcow2 {

constexpr uint32_t kMagic = 0x514649fb;  // "QFI\xfb"
constexpr uint64_t kOffsetMask = 0x00fffffffffffe00ull;  // bits 9..55
constexpr uint64_t kCopied = 1ull << 63;
constexpr uint64_t kCompressed = 1ull << 62;
constexpr uint64_t kZeroFlag = 1ull;

// Feature bits.
constexpr uint64_t kIncompatDirty = 1, kIncompatCorrupt = 2, kIncompatDataFile = 4, kIncompatCompression = 8,
                   kIncompatExtL2 = 16;
constexpr uint64_t kIncompatKnown = kIncompatDirty | kIncompatCorrupt | kIncompatCompression;
constexpr uint64_t kCompatLazyRefcounts = 1;

constexpr uint32_t kMinClusterBits = 9, kMaxClusterBits = 21;
constexpr uint64_t kMaxImageSize = uint64_t{1} << 55;  // what L2 entries can address
constexpr uint64_t kMaxL1Bytes = 32u << 20;           // the reference's limits
constexpr uint64_t kMaxRefcountTableBytes = 8u << 20;
constexpr uint32_t kMaxSnapshots = 65536;
constexpr size_t kMaxBackingName = 1023;

enum class Compression : uint8_t { Zlib = 0, Zstd = 1 };

struct Header {
    uint32_t version = 3;
    uint64_t backing_offset = 0;
    uint32_t backing_size = 0;
    uint32_t cluster_bits = 16;
    uint64_t size = 0;
    uint32_t crypt_method = 0;
    uint32_t l1_size = 0;
    uint64_t l1_offset = 0;
    uint64_t refcount_table_offset = 0;
    uint32_t refcount_table_clusters = 0;
    uint32_t nb_snapshots = 0;
    uint64_t snapshots_offset = 0;
    uint64_t incompatible = 0, compatible = 0, autoclear = 0;
    uint32_t refcount_order = 4;
    uint32_t header_length = 112;
    Compression compression = Compression::Zlib;

    // From extensions and the backing name field.
    std::string backing_file, backing_format;
    bool has_feature_table = false;

    uint64_t cluster_size() const { return uint64_t{1} << cluster_bits; }
    uint32_t l2_bits() const { return cluster_bits - 3; }
    uint64_t l2_entries() const { return uint64_t{1} << l2_bits(); }
};

// Parses and validates the header of `file` (one line per problem).
Header read_header(Storage &file);
// The header cluster as `h` describes it (fields, backing format and
// feature table extensions, backing name), cluster-sized.
std::vector<uint8_t> encode_header(const Header &h);
// L1 entries needed to address `size` bytes.
uint64_t l1_entries_for(uint64_t size, uint32_t cluster_bits);

}  // namespace qcow2
