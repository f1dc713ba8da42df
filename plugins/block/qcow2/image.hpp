// A qcow2 image over a Storage: guest-visible reads, writes, discards,
// flushes, and creation. Metadata (L2 tables, refcounts, L1) is cached and
// written back in the order that keeps the file consistent after a crash:
// data, then refcount increases (flushed), then L2 tables (flushed), then
// L1 (flushed), and only then refcount decreases.
#pragma once

#include "l2cache.hpp"
#include "refcount.hpp"

#include <memory>
#include <optional>

namespace qcow2 {

struct OpenOptions {
    bool read_only = false;
    std::optional<uint64_t> l2_cache_size;  // bytes; default: cover the disk, at most 32 MiB
};

struct CreateOptions {
    uint64_t size = 0;
    uint32_t cluster_bits = 16;
    uint32_t version = 3;
    uint32_t refcount_order = 4;
    bool lazy_refcounts = false;
    Compression compression = Compression::Zlib;
    std::string backing_file, backing_format;
};

// One entry of the internal snapshot table.
struct Snapshot {
    std::string id, name;
    uint64_t l1_offset = 0;
    uint32_t l1_size = 0;
    uint32_t date_sec = 0, date_nsec = 0;
    uint64_t vm_clock_nsec = 0;
    uint64_t vm_state_size = 0;
    uint64_t disk_size = 0;
    std::vector<uint8_t> extra;  // extra data we do not interpret, kept as is
};

class Image {
public:
    Image(Storage &file, const OpenOptions &opts);
    ~Image();
    Image(const Image &) = delete;
    Image &operator=(const Image &) = delete;

    // Formats `file` as an empty image.
    static void create(Storage &file, const CreateOptions &opts);

    const Header &header() const { return h_; }
    uint64_t size() const { return h_.size; }
    // Where unallocated clusters read from (nullptr: zeroes).
    void set_backing(Storage *b) { backing_ = b; }

    void read(uint64_t off, std::span<uint8_t> buf);
    void write(uint64_t off, std::span<const uint8_t> buf);
    // Whole clusters in the range read as zeroes afterwards (v3) or from
    // the backing image (v2); their host clusters are freed.
    void discard(uint64_t off, uint64_t len);
    void flush();
    // Flushes and marks the image clean (idempotent).
    void close();

    // Every L2 entry of the image, for checks and tests: (guest offset, entry).
    std::vector<std::pair<uint64_t, uint64_t>> allocated_entries();

    // Internal snapshots (snapshots.cpp): the table as read at open and
    // changed since; create takes the disk as it is now (no VM state);
    // apply and delete take an id or a name. Error with the reference's
    // words when a name is taken or unknown.
    const std::vector<Snapshot> &snapshots() const { return snaps_; }
    // check.cpp: recounts every cluster's references (header, refcount
    // structures, L1/L2 tables and data of the image and its snapshots) and
    // rewrites the refcounts to match, then COPIED flags; what a read-write
    // open of an image left dirty (lazy refcounts) does, as the reference's
    // automatic repair. Returns how many refcounts changed.
    uint64_t rebuild_refcounts();
    // create takes vm_state_size bytes of VM state written with
    // vmstate_write since (then drops them from the active tables, as the
    // reference does: only the snapshot needs them).
    void snapshot_create(const std::string &name, uint64_t vm_clock_nsec = 0, uint64_t vm_state_size = 0);
    void snapshot_apply(const std::string &id_or_name);
    void snapshot_delete(const std::string &id_or_name);
    // The VM state area: guest offsets from the first L1 entry past the
    // disk on (the reference's layout), growing the L1 table as needed.
    // vmstate_read reads a snapshot's, within its vm_state_size.
    void vmstate_write(uint64_t pos, std::span<const uint8_t> buf);
    void vmstate_read(const std::string &id_or_name, uint64_t pos, std::span<uint8_t> buf);
    uint64_t vm_state_offset() const;

private:
    struct Mapping {
        uint64_t entry = 0;    // L2 entry (0: unallocated)
        uint64_t l2_off = 0;   // the L2 table's host offset (0: none)
    };
    Mapping lookup(uint64_t guest_cluster);
    L2Cache::Table &l2_for_write(uint64_t l1_index);
    void read_cluster(uint64_t entry, uint64_t guest_off, uint64_t in_cluster, std::span<uint8_t> out);
    void read_backing(uint64_t guest_off, std::span<uint8_t> out);
    void read_compressed(uint64_t entry, std::span<uint8_t> cluster);
    void check_l2_offset(uint64_t l1_index, uint64_t off);
    uint64_t data_offset(uint64_t entry, uint64_t guest_off);
    void write_l1();
    void grow_l1(uint64_t entries);
    void drop_vmstate();
    void release_l2_tree(uint64_t l1_index, uint64_t l1_entry);
    void release_entry(uint64_t l2_entry);
    void write_l2(uint64_t host_off, const std::vector<uint64_t> &entries);
    void set_incompatible(uint64_t bits, bool on);
    void load_snapshots();
    void write_snapshot_table(std::vector<Snapshot> snaps);
    std::vector<uint64_t> read_l1(uint64_t off, uint32_t n);
    void tree_refcounts(const std::vector<uint64_t> &l1, int delta);
    void fix_copied_flags();
    size_t find_snapshot(const std::string &id_or_name) const;
    void compressed_range(uint64_t entry, uint64_t &off, uint64_t &len) const;

    Storage &file_;
    Header h_;
    bool read_only_;
    Storage *backing_ = nullptr;
    std::vector<uint64_t> l1_;
    bool l1_dirty_ = false;
    std::unique_ptr<Refcounts> refs_;
    std::unique_ptr<L2Cache> l2_;
    uint64_t csize_shift_, csize_mask_, coffset_mask_;
    std::vector<uint8_t> zcache_;  // last decompressed cluster
    uint64_t zcache_entry_ = 0;
    bool closed_ = false;
    std::vector<Snapshot> snaps_;
};

}  // namespace qcow2
