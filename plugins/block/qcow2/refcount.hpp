// Reference counts: the refcount table and its blocks (any width from 1 to
// 64 bits), cluster allocation, and deferred frees. Blocks are cached and
// written back on write_back(), so callers decide the order in which
// metadata reaches the disk (see image.cpp: refcounts before the L2 tables
// that use them; frees only after the L2 tables that dropped them).
#pragma once

#include "header.hpp"

#include <map>

namespace qcow2 {

class Refcounts {
public:
    Refcounts(Storage &file, Header &h);
    // Reads the table; checks every entry lies in the file.
    void load();
    // An empty table of one cluster (image creation).
    void init_empty();

    uint64_t get(uint64_t cluster);
    void set(uint64_t cluster, uint64_t value);
    // n contiguous free clusters, now at refcount 1; the file grows to hold
    // them. Returns the byte offset of the first.
    uint64_t alloc(uint64_t n);
    // Drop one reference to each cluster of [offset, offset + bytes) at the
    // next apply_frees() (after the tables that dropped it are on disk).
    void free_later(uint64_t offset, uint64_t bytes);
    bool frees_pending() const { return !pending_.empty(); }
    // Returns the clusters whose refcount went to zero (to discard).
    std::vector<uint64_t> apply_frees();

    bool dirty() const { return table_dirty_ || dirty_blocks_ != 0; }
    // Writes dirty blocks, then the table (no flush).
    void write_back();
    uint64_t max_refcount() const { return max_; }
    uint64_t entries_per_block() const { return uint64_t{1} << block_bits_; }

private:
    struct Block {
        std::vector<uint8_t> data;
        bool dirty = false;
    };
    Block &block(uint64_t index, bool create);
    uint64_t end_cluster();
    void grow_table(uint64_t min_entries);
    void write_table();

    Storage &file_;
    Header &h_;
    uint32_t block_bits_;  // log2(refcounts per block)
    uint64_t max_;
    std::vector<uint64_t> table_;
    std::map<uint64_t, Block> blocks_;
    size_t dirty_blocks_ = 0;
    bool table_dirty_ = false;
    uint64_t free_hint_ = 0;
    std::vector<std::pair<uint64_t, uint64_t>> pending_;  // (cluster, count)
    bool growing_ = false;
};

}  // namespace qcow2
