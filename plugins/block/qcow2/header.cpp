#include "header.hpp"

#include <cstdio>

namespace qcow2 {

std::string hex(uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%#llx", static_cast<unsigned long long>(v));
    return buf;
}

namespace {

constexpr uint32_t kExtEnd = 0, kExtBackingFormat = 0xe2792aca, kExtFeatureTable = 0x6803f857,
                   kExtCrypto = 0x0537be77, kExtDataFile = 0x44415441;

uint64_t div_round_up(uint64_t a, uint64_t b) { return a / b + (a % b != 0); }

// A table [off, off + bytes) must be cluster aligned and inside the file.
void check_table(const Header &h, uint64_t file_len, uint64_t off, uint64_t bytes, const char *what) {
    if (off % h.cluster_size())
        throw Error(std::string("qcow2: ") + what + " offset " + hex(off) + " is not cluster aligned");
    if (off > file_len || bytes > file_len - off)
        throw Error(std::string("qcow2: ") + what + " at " + hex(off) + " (" + std::to_string(bytes) +
                    " bytes) is beyond the end of the image file");
}

}  // namespace

uint64_t l1_entries_for(uint64_t size, uint32_t cluster_bits) {
    uint64_t per_l2 = uint64_t{1} << (cluster_bits + cluster_bits - 3);
    return div_round_up(size, per_l2);
}

Header read_header(Storage &file) {
    uint64_t file_len = file.length();
    uint8_t b[112] = {};
    if (file_len < 72) throw Error("qcow2: image file too short for a header");
    file.pread(0, {b, std::min<uint64_t>(file_len, sizeof b)});
    if (be32(b) != kMagic) throw Error("Image is not in qcow2 format");
    Header h;
    h.version = be32(b + 4);
    if (h.version < 2 || h.version > 3) throw Error("Unsupported qcow2 version " + std::to_string(h.version));
    h.backing_offset = be64(b + 8);
    h.backing_size = be32(b + 16);
    h.cluster_bits = be32(b + 20);
    h.size = be64(b + 24);
    h.crypt_method = be32(b + 32);
    h.l1_size = be32(b + 36);
    h.l1_offset = be64(b + 40);
    h.refcount_table_offset = be64(b + 48);
    h.refcount_table_clusters = be32(b + 56);
    h.nb_snapshots = be32(b + 60);
    h.snapshots_offset = be64(b + 64);
    if (h.version == 2) {
        h.header_length = 72;
        h.refcount_order = 4;
    } else {
        if (file_len < 104) throw Error("qcow2: image file too short for a version 3 header");
        h.incompatible = be64(b + 72);
        h.compatible = be64(b + 80);
        h.autoclear = be64(b + 88);
        h.refcount_order = be32(b + 96);
        h.header_length = be32(b + 100);
        if (h.header_length < 104) throw Error("qcow2 header too short");
        if (h.header_length > 104) h.compression = Compression(b[104]);
    }
    if (h.cluster_bits < kMinClusterBits || h.cluster_bits > kMaxClusterBits)
        throw Error("Cluster size must be a power of two between 512 and 2048k");
    uint64_t cs = h.cluster_size();
    if (h.header_length > cs) throw Error("qcow2 header exceeds cluster size");
    if (h.refcount_order > 6) throw Error("Reference count entry width too large; may not exceed 64 bits");
    if (h.crypt_method) throw Error("qcow2: encrypted images are not supported");
    if (h.incompatible & ~kIncompatKnown) {
        std::string what = h.incompatible & kIncompatDataFile ? "external data file"
                           : h.incompatible & kIncompatExtL2 ? "extended L2 entries"
                                                            : hex(h.incompatible & ~kIncompatKnown);
        throw Error("Unsupported qcow2 feature(s): " + what);
    }
    if (h.header_length > 104 && uint8_t(h.compression) > 1)
        throw Error("qcow2: unknown compression type " + std::to_string(b[104]));
    if ((h.incompatible & kIncompatCompression) == 0 && h.compression != Compression::Zlib)
        throw Error("qcow2: compression type set without the compression type feature bit");
    if (h.size > kMaxImageSize) throw Error("qcow2: virtual size " + std::to_string(h.size) + " is too large");

    // Tables.
    if (h.refcount_table_clusters == 0) throw Error("qcow2: image has no refcount table");
    if (uint64_t(h.refcount_table_clusters) * cs > kMaxRefcountTableBytes)
        throw Error("Reference count table too large");
    check_table(h, file_len, h.refcount_table_offset, uint64_t(h.refcount_table_clusters) * cs, "refcount table");
    if (uint64_t(h.l1_size) * 8 > kMaxL1Bytes) throw Error("Active L1 table too large");
    if (h.l1_size < l1_entries_for(h.size, h.cluster_bits)) throw Error("L1 table is too small");
    if (h.l1_size) check_table(h, file_len, h.l1_offset, uint64_t(h.l1_size) * 8, "L1 table");
    if (h.nb_snapshots > kMaxSnapshots) throw Error("Too many snapshots");
    if (h.nb_snapshots) check_table(h, file_len, h.snapshots_offset, 0, "snapshot table");

    // Header extensions (v3 and v2 alike) up to the end of the first cluster.
    uint64_t ext_end = std::min<uint64_t>(cs, file_len);
    uint64_t limit = h.backing_offset ? std::min<uint64_t>(h.backing_offset, ext_end) : ext_end;
    std::vector<uint8_t> clus(limit > h.header_length ? limit : 0);
    if (!clus.empty()) file.pread(0, clus);
    for (uint64_t off = h.header_length; off + 8 <= clus.size();) {
        uint32_t type = be32(&clus[off]), len = be32(&clus[off + 4]);
        off += 8;
        if (type == kExtEnd) break;
        if (len > clus.size() - off) throw Error("qcow2: header extension " + hex(type) + " overflows the header cluster");
        std::string data(reinterpret_cast<const char *>(&clus[off]), len);
        if (type == kExtBackingFormat) {
            if (len > 16) throw Error("ERROR: ext_backing_format: len=" + std::to_string(len) + " too large");
            h.backing_format = data.c_str();
        } else if (type == kExtFeatureTable) {
            h.has_feature_table = true;
        } else if (type == kExtCrypto || type == kExtDataFile) {
            throw Error("qcow2: header extension " + hex(type) + " is not supported");
        }
        off += (uint64_t(len) + 7) & ~uint64_t{7};
    }

    if (h.backing_offset) {
        if (h.backing_size > kMaxBackingName || h.backing_offset > cs || h.backing_size > cs - h.backing_offset)
            throw Error("Backing file name too long");
        if (h.backing_offset > file_len || h.backing_size > file_len - h.backing_offset)
            throw Error("qcow2: backing file name is beyond the end of the image file");
        h.backing_file.resize(h.backing_size);
        file.pread(h.backing_offset, {reinterpret_cast<uint8_t *>(h.backing_file.data()), h.backing_size});
    }
    return h;
}

std::vector<uint8_t> encode_header(const Header &h) {
    std::vector<uint8_t> c(h.cluster_size());
    uint8_t *b = c.data();
    put32(b, kMagic);
    put32(b + 4, h.version);
    put32(b + 20, h.cluster_bits);
    put64(b + 24, h.size);
    put32(b + 32, h.crypt_method);
    put32(b + 36, h.l1_size);
    put64(b + 40, h.l1_offset);
    put64(b + 48, h.refcount_table_offset);
    put32(b + 56, h.refcount_table_clusters);
    put32(b + 60, h.nb_snapshots);
    put64(b + 64, h.snapshots_offset);
    size_t off = 72;
    if (h.version >= 3) {
        put64(b + 72, h.incompatible);
        put64(b + 80, h.compatible);
        put64(b + 88, h.autoclear);
        put32(b + 96, h.refcount_order);
        put32(b + 100, 112);
        b[104] = uint8_t(h.compression);
        off = 112;
    }
    auto ext = [&](uint32_t type, std::span<const uint8_t> data) {
        size_t padded = (data.size() + 7) & ~size_t{7};
        if (off + 8 + padded + 8 > c.size()) throw Error("qcow2: header extensions do not fit in one cluster");
        put32(b + off, type);
        put32(b + off + 4, uint32_t(data.size()));
        std::copy(data.begin(), data.end(), b + off + 8);
        off += 8 + padded;
    };
    if (!h.backing_format.empty())
        ext(kExtBackingFormat, {reinterpret_cast<const uint8_t *>(h.backing_format.data()), h.backing_format.size()});
    size_t name_room = h.backing_file.size() + 16;
    if (h.version >= 3 && off + 8 + 8 * 48 + name_room <= c.size()) {
        // Feature names (left out when a 512-byte cluster has no room), as the reference writes them: type, bit, 46-byte name.
        struct F { uint8_t type, bit; const char *name; };
        constexpr F kNames[] = {{0, 0, "dirty bit"}, {0, 1, "corrupt bit"}, {0, 2, "external data file"},
                                {0, 3, "compression type"}, {0, 4, "extended L2 entries"},
                                {1, 0, "lazy refcounts"}, {2, 0, "bitmaps"}, {2, 1, "raw external data"}};
        std::vector<uint8_t> t(std::size(kNames) * 48);
        for (size_t i = 0; i < std::size(kNames); i++) {
            t[i * 48] = kNames[i].type;
            t[i * 48 + 1] = kNames[i].bit;
            std::memcpy(&t[i * 48 + 2], kNames[i].name, std::strlen(kNames[i].name));
        }
        ext(kExtFeatureTable, t);
    }
    off += 8;  // end-of-extensions marker (zeroes)
    if (!h.backing_file.empty()) {
        if (h.backing_file.size() > kMaxBackingName || off + h.backing_file.size() > c.size())
            throw Error("Backing file name too long");
        std::memcpy(b + off, h.backing_file.data(), h.backing_file.size());
        put64(b + 8, off);
        put32(b + 16, uint32_t(h.backing_file.size()));
    }
    return c;
}

}  // namespace qcow2
