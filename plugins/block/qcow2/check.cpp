// Refcount rebuild: every cluster's references counted from the tables,
// then written over the refcounts (the repair a dirty image gets).
#include "image.hpp"

#include <unordered_map>

namespace qcow2 {

uint64_t Image::rebuild_refcounts() {
    flush();
    uint64_t cs = h_.cluster_size(), file_clusters = (file_.length() + cs - 1) >> h_.cluster_bits;
    std::vector<uint64_t> want(file_clusters, 0);
    auto count = [&](uint64_t off, uint64_t bytes, const char *what) {
        if (!bytes) return;
        uint64_t first = off >> h_.cluster_bits, last = (off + bytes - 1) >> h_.cluster_bits;
        if (last >= file_clusters)
            throw Error(std::string("qcow2: ") + what + " at " + hex(off) + " is beyond the end of the image file");
        for (uint64_t c = first; c <= last; c++) want[c]++;
    };
    auto count_tree = [&](const std::vector<uint64_t> &l1) {
        for (size_t i = 0; i < l1.size(); i++) {
            uint64_t l2 = l1[i] & kOffsetMask;
            if (!l2) continue;
            check_l2_offset(i, l2);
            count(l2, cs, "L2 table");
            for (uint64_t e : l2_->get(l2).entries) {
                if (e & kCompressed) {
                    uint64_t off, len;
                    compressed_range(e, off, len);
                    count(off, len, "compressed cluster");
                } else if (uint64_t d = e & kOffsetMask) {
                    // Preallocated clusters past the end hold no data to count.
                    if ((d >> h_.cluster_bits) < file_clusters) count(d, cs, "data cluster");
                }
            }
        }
    };
    count(0, cs, "header");
    count(h_.refcount_table_offset, uint64_t(h_.refcount_table_clusters) * cs, "refcount table");
    count(h_.l1_offset, uint64_t(h_.l1_size) * 8, "L1 table");
    count_tree(l1_);
    uint64_t snap_bytes = 0;
    for (const Snapshot &s : snaps_) {
        snap_bytes += (40 + s.extra.size() + s.id.size() + s.name.size() + 7) & ~uint64_t{7};
        count(s.l1_offset, uint64_t(s.l1_size) * 8, "snapshot L1 table");
        count_tree(read_l1(s.l1_offset, s.l1_size));
    }
    count(h_.snapshots_offset, snap_bytes, "snapshot table");
    // Refcount blocks count themselves: the table names them.
    std::vector<uint8_t> raw(uint64_t(h_.refcount_table_clusters) * cs);
    file_.pread(h_.refcount_table_offset, raw);
    for (size_t i = 0; i + 8 <= raw.size(); i += 8)
        if (uint64_t b = be64(&raw[i]) & ~uint64_t{0x1ff}) count(b, cs, "refcount block");

    uint64_t changed = 0;
    for (uint64_t c = 0; c < file_clusters; c++) {
        if (want[c] > refs_->max_refcount()) throw Error("qcow2: cluster " + std::to_string(c) + " has too many references");
        if (refs_->get(c) != want[c]) {
            refs_->set(c, want[c]);
            changed++;
        }
    }
    refs_->write_back();
    file_.flush();
    fix_copied_flags();
    flush();
    return changed;
}

}  // namespace qcow2
