#include "refcount.hpp"

namespace qcow2 {

Refcounts::Refcounts(Storage &file, Header &h)
    : file_(file), h_(h), block_bits_(h.cluster_bits + 3 - h.refcount_order),
      max_(h.refcount_order == 6 ? ~uint64_t{0} : (uint64_t{1} << (1u << h.refcount_order)) - 1) {}

void Refcounts::load() {
    uint64_t n = uint64_t(h_.refcount_table_clusters) * h_.cluster_size() / 8;
    std::vector<uint8_t> raw(n * 8);
    file_.pread(h_.refcount_table_offset, raw);
    table_.resize(n);
    uint64_t len = file_.length();
    for (uint64_t i = 0; i < n; i++) {
        uint64_t e = be64(&raw[i * 8]);
        if (e & 0x1ff) throw Error("qcow2: refcount table entry " + std::to_string(i) + " has reserved bits set");
        uint64_t off = e & ~uint64_t{0x1ff};
        if (off && (off % h_.cluster_size() || off >= len))
            throw Error("qcow2: refcount block " + std::to_string(i) + " at " + hex(off) +
                        " is unaligned or beyond the end of the image file");
        table_[i] = off;
    }
}

void Refcounts::init_empty() { table_.assign(h_.cluster_size() / 8, 0); }

Refcounts::Block &Refcounts::block(uint64_t index, bool create) {
    if (auto it = blocks_.find(index); it != blocks_.end()) return it->second;
    static Block empty;
    if (index >= table_.size() || table_[index] == 0) {
        if (!create) {
            empty.data.assign(h_.cluster_size(), 0);
            return empty;
        }
        if (index >= table_.size()) {
            // Growing may itself have made this block: look again.
            grow_table(index + 1);
            return block(index, true);
        }
        // The new block takes the first free cluster past everything in
        // use; when it falls in its own range it counts itself.
        uint64_t at = end_cluster();
        Block &b = blocks_[index];
        b.data.assign(h_.cluster_size(), 0);
        b.dirty = true;
        dirty_blocks_++;
        table_[index] = at << h_.cluster_bits;
        table_dirty_ = true;
        if (file_.length() < (at + 1) << h_.cluster_bits) file_.truncate((at + 1) << h_.cluster_bits);
        set(at, 1);
        return blocks_[index];
    }
    Block &b = blocks_[index];
    b.data.resize(h_.cluster_size());
    try {
        file_.pread(table_[index], b.data);
    } catch (...) {
        blocks_.erase(index);
        throw;
    }
    return b;
}

// The first cluster past the file and every block in use.
uint64_t Refcounts::end_cluster() {
    uint64_t end = (file_.length() + h_.cluster_size() - 1) >> h_.cluster_bits;
    for (uint64_t off : table_)
        if (off) end = std::max(end, (off >> h_.cluster_bits) + 1);
    return end;
}

uint64_t Refcounts::get(uint64_t cluster) {
    uint64_t bi = cluster >> block_bits_, i = cluster & ((uint64_t{1} << block_bits_) - 1);
    if (bi >= table_.size() || table_[bi] == 0) {
        if (blocks_.find(bi) == blocks_.end()) return 0;
    }
    const uint8_t *d = block(bi, false).data.data();
    switch (h_.refcount_order) {
    case 3: return d[i];
    case 4: return be16(d + i * 2);
    case 5: return be32(d + i * 4);
    case 6: return be64(d + i * 8);
    default: {
        uint32_t w = 1u << h_.refcount_order;
        return (d[i * w / 8] >> (i * w % 8)) & max_;
    }
    }
}

void Refcounts::set(uint64_t cluster, uint64_t value) {
    if (value > max_) throw Error("qcow2: refcount overflow at cluster " + std::to_string(cluster));
    uint64_t bi = cluster >> block_bits_, i = cluster & ((uint64_t{1} << block_bits_) - 1);
    Block &b = block(bi, true);
    uint8_t *d = b.data.data();
    switch (h_.refcount_order) {
    case 3: d[i] = uint8_t(value); break;
    case 4: put16(d + i * 2, uint16_t(value)); break;
    case 5: put32(d + i * 4, uint32_t(value)); break;
    case 6: put64(d + i * 8, value); break;
    default: {
        uint32_t w = 1u << h_.refcount_order, sh = uint32_t(i * w % 8);
        uint8_t &byte = d[i * w / 8];
        byte = uint8_t((byte & ~(max_ << sh)) | (value << sh));
    }
    }
    if (!b.dirty) {
        b.dirty = true;
        dirty_blocks_++;
    }
    if (value == 0 && cluster < free_hint_) free_hint_ = cluster;
}

uint64_t Refcounts::alloc(uint64_t n) {
    uint64_t limit = kMaxImageSize >> h_.cluster_bits;
    // Past the end of the file every cluster is free unless the refcounts
    // lie: stop scanning instead of walking a hostile table for ever.
    uint64_t file_clusters = (file_.length() + h_.cluster_size() - 1) >> h_.cluster_bits;
    uint64_t give_up = file_clusters + 2 * entries_per_block() + n + 64;
    for (uint64_t c = free_hint_;;) {
        if (c + n > limit) throw Error("qcow2: image file full");
        if (c > give_up)
            throw Error("qcow2: refcounts claim clusters past the end of the image file; image is corrupt");
        uint64_t k = 0;
        while (k < n && get(c + k) == 0) k++;
        if (k < n) {
            c += k + 1;
            continue;
        }
        // Creating a refcount block may take one of our clusters: recheck.
        bool ok = true;
        for (k = 0; k < n && ok; k++) {
            block((c + k) >> block_bits_, true);
            if (get(c + k) != 0) ok = false;
            else set(c + k, 1);
        }
        if (!ok) {
            for (uint64_t j = 0; j + 1 < k; j++) set(c + j, 0);
            c += k;
            continue;
        }
        if (n == 1 || c == free_hint_) free_hint_ = c + n;
        uint64_t end = (c + n) << h_.cluster_bits;
        if (file_.length() < end) file_.truncate(end);
        return c << h_.cluster_bits;
    }
}

void Refcounts::free_later(uint64_t offset, uint64_t bytes) {
    if (!bytes) return;
    uint64_t first = offset >> h_.cluster_bits, last = (offset + bytes - 1) >> h_.cluster_bits;
    for (uint64_t c = first; c <= last; c++) pending_.emplace_back(c, 1);
}

std::vector<uint64_t> Refcounts::apply_frees() {
    std::vector<uint64_t> zeroed;
    for (auto [c, n] : pending_) {
        uint64_t r = get(c);
        if (r < n) throw Error("qcow2: refcount underflow at cluster " + std::to_string(c) + "; image is corrupt");
        set(c, r - n);
        if (r == n) zeroed.push_back(c);
    }
    pending_.clear();
    return zeroed;
}

// A bigger table in new clusters past the end; the header switches to it
// only once it and the blocks it names are on disk.
void Refcounts::grow_table(uint64_t min_entries) {
    if (growing_) throw Error("qcow2: refcount table growth recursed");
    growing_ = true;
    uint64_t cs = h_.cluster_size(), old_off = h_.refcount_table_offset, old_clusters = h_.refcount_table_clusters;
    uint64_t entries = std::max<uint64_t>(min_entries + min_entries / 2 + 1, table_.size() * 2);
    // Room for the blocks describing the new table and whatever follows.
    uint64_t clusters = (entries * 8 + cs - 1) / cs + 1;
    if (clusters * cs > kMaxRefcountTableBytes) throw Error("qcow2: refcount table too large");
    table_.resize(clusters * cs / 8, 0);
    uint64_t at = alloc(clusters);
    h_.refcount_table_offset = at;
    h_.refcount_table_clusters = uint32_t(clusters);
    table_dirty_ = true;
    growing_ = false;
    for (auto &[i, b] : blocks_)
        if (b.dirty) file_.pwrite(table_[i], b.data), b.dirty = false;
    dirty_blocks_ = 0;
    write_table();
    file_.flush();
    uint8_t f[12];
    put64(f, at);
    put32(f + 8, uint32_t(clusters));
    file_.pwrite(48, f);
    file_.flush();
    free_later(old_off, old_clusters * cs);
}

void Refcounts::write_table() {
    std::vector<uint8_t> raw(table_.size() * 8);
    for (size_t i = 0; i < table_.size(); i++) put64(&raw[i * 8], table_[i]);
    file_.pwrite(h_.refcount_table_offset, raw);
    table_dirty_ = false;
}

void Refcounts::write_back() {
    if (dirty_blocks_) {
        for (auto &[i, b] : blocks_)
            if (b.dirty) {
                file_.pwrite(table_[i], b.data);
                b.dirty = false;
            }
        dirty_blocks_ = 0;
    }
    if (table_dirty_) write_table();
}

}  // namespace qcow2
