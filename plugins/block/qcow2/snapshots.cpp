// Internal snapshots: the snapshot table (parsed and checked at open), and
// create / apply / delete with the reference's refcount and COPIED rules.
// Every change goes to disk in an order a crash can only turn into leaked
// clusters: refcounts up first, then tables, then the header, frees last.
#include "image.hpp"

#include <ctime>

namespace qcow2 {

namespace {
constexpr uint64_t kMaxTableBytes = 64u << 20;  // the reference's QCOW_MAX_SNAPSHOTS_SIZE
constexpr size_t kEntryFixed = 40;
}  // namespace

void Image::load_snapshots() {
    snaps_.clear();
    if (!h_.nb_snapshots) return;
    uint64_t len = file_.length(), off = h_.snapshots_offset, total = 0;
    for (uint32_t i = 0; i < h_.nb_snapshots; i++) {
        uint8_t fixed[kEntryFixed];
        auto where = [&] { return "qcow2: snapshot " + std::to_string(i) + " "; };
        if (off > len || len - off < kEntryFixed) throw Error(where() + "lies beyond the end of the image file");
        file_.pread(off, fixed);
        Snapshot s;
        s.l1_offset = be64(fixed);
        s.l1_size = be32(fixed + 8);
        uint16_t id_len = be16(fixed + 12), name_len = be16(fixed + 14);
        s.date_sec = be32(fixed + 16);
        s.date_nsec = be32(fixed + 20);
        s.vm_clock_nsec = be64(fixed + 24);
        s.vm_state_size = be32(fixed + 32);
        uint32_t extra_len = be32(fixed + 36);
        if (extra_len > 1024) throw Error(where() + "has too much extra data");
        uint64_t entry = (kEntryFixed + uint64_t(extra_len) + id_len + name_len + 7) & ~uint64_t{7};
        total += entry;
        if (total > kMaxTableBytes) throw Error("Snapshot table too large");
        if (len - off < entry) throw Error(where() + "lies beyond the end of the image file");
        std::vector<uint8_t> rest(size_t(extra_len) + id_len + name_len);
        if (!rest.empty()) file_.pread(off + kEntryFixed, rest);
        s.extra.assign(rest.begin(), rest.begin() + extra_len);
        if (extra_len >= 8) s.vm_state_size = be64(&s.extra[0]);
        s.disk_size = extra_len >= 16 ? be64(&s.extra[8]) : h_.size;
        const char *strings = reinterpret_cast<const char *>(rest.data()) + extra_len;
        s.id.assign(strings, id_len);
        s.name.assign(strings + id_len, name_len);
        if (uint64_t(s.l1_size) * 8 > kMaxL1Bytes) throw Error(where() + "L1 table is too large");
        if (s.l1_size && (s.l1_offset % h_.cluster_size() || s.l1_offset > len || uint64_t(s.l1_size) * 8 > len - s.l1_offset))
            throw Error(where() + "L1 table offset " + hex(s.l1_offset) + " is unaligned or beyond the end of the image file");
        snaps_.push_back(std::move(s));
        off += entry;
    }
}

std::vector<uint64_t> Image::read_l1(uint64_t off, uint32_t n) {
    std::vector<uint8_t> raw(size_t(n) * 8);
    if (n) file_.pread(off, raw);
    std::vector<uint64_t> l1(n);
    for (size_t i = 0; i < n; i++) l1[i] = be64(&raw[i * 8]);
    return l1;
}

void Image::compressed_range(uint64_t e, uint64_t &off, uint64_t &len) const {
    off = e & coffset_mask_;
    len = (((e >> csize_shift_) & csize_mask_) + 1) * 512 - (off & 511);
}

// Adds delta to the refcount of every L2 table and data cluster `l1` names.
void Image::tree_refcounts(const std::vector<uint64_t> &l1, int delta) {
    uint64_t cs = h_.cluster_size();
    auto bump = [&](uint64_t off, uint64_t bytes) {
        for (uint64_t c = off >> h_.cluster_bits; c <= (off + bytes - 1) >> h_.cluster_bits; c++) {
            uint64_t r = refs_->get(c);
            if (delta < 0 && r == 0) throw Error("qcow2: refcount underflow at cluster " + std::to_string(c));
            refs_->set(c, delta < 0 ? r - 1 : r + 1);
        }
    };
    for (size_t i = 0; i < l1.size(); i++) {
        uint64_t l2 = l1[i] & kOffsetMask;
        if (!l2) continue;
        check_l2_offset(i, l2);
        std::vector<uint64_t> entries = l2_->get(l2).entries;
        for (uint64_t e : entries) {
            if (e & kCompressed) {
                uint64_t off, len;
                compressed_range(e, off, len);
                bump(off, len);
            } else if (uint64_t d = e & kOffsetMask) {
                bump(d, cs);
            }
        }
        bump(l2, cs);
    }
}

// COPIED on the active tables exactly where the refcount is 1.
void Image::fix_copied_flags() {
    for (size_t i = 0; i < l1_.size(); i++) {
        uint64_t l2 = l1_[i] & kOffsetMask;
        if (!l2) continue;
        uint64_t want = refs_->get(l2 >> h_.cluster_bits) == 1 ? l2 | kCopied : l2;
        if (l1_[i] != want) l1_[i] = want, l1_dirty_ = true;
        L2Cache::Table &t = l2_->get(l2);
        for (uint64_t &e : t.entries) {
            uint64_t d = e & kOffsetMask;
            if ((e & kCompressed) || !d) continue;
            uint64_t ne = refs_->get(d >> h_.cluster_bits) == 1 ? e | kCopied : e & ~kCopied;
            if (ne != e) e = ne, t.dirty = true;
        }
    }
}

size_t Image::find_snapshot(const std::string &key) const {
    for (size_t i = 0; i < snaps_.size(); i++)
        if (snaps_[i].id == key) return i;
    for (size_t i = 0; i < snaps_.size(); i++)
        if (snaps_[i].name == key) return i;
    return snaps_.size();
}

// A new table in new clusters; the header switches to it in one write.
void Image::write_snapshot_table(std::vector<Snapshot> snaps) {
    std::vector<uint8_t> t;
    for (const Snapshot &s : snaps) {
        size_t at = t.size();
        t.resize(at + kEntryFixed);
        uint8_t *p = &t[at];
        put64(p, s.l1_offset);
        put32(p + 8, s.l1_size);
        put16(p + 12, uint16_t(s.id.size()));
        put16(p + 14, uint16_t(s.name.size()));
        put32(p + 16, s.date_sec);
        put32(p + 20, s.date_nsec);
        put64(p + 24, s.vm_clock_nsec);
        put32(p + 32, uint32_t(std::min<uint64_t>(s.vm_state_size, UINT32_MAX)));
        put32(p + 36, uint32_t(s.extra.size()));
        t.insert(t.end(), s.extra.begin(), s.extra.end());
        t.insert(t.end(), s.id.begin(), s.id.end());
        t.insert(t.end(), s.name.begin(), s.name.end());
        t.resize((t.size() + 7) & ~size_t{7});
    }
    uint64_t cs = h_.cluster_size(), off = 0;
    if (!t.empty()) {
        off = refs_->alloc((t.size() + cs - 1) / cs);
        refs_->write_back();
        file_.flush();
        file_.pwrite(off, t);
        file_.flush();
    }
    uint8_t f[12];
    put32(f, uint32_t(snaps.size()));
    put64(f + 4, off);
    uint64_t old = h_.snapshots_offset, old_bytes = 0;
    for (const Snapshot &s : snaps_)
        old_bytes += (kEntryFixed + s.extra.size() + s.id.size() + s.name.size() + 7) & ~uint64_t{7};
    file_.pwrite(60, f);
    file_.flush();
    h_.nb_snapshots = uint32_t(snaps.size());
    h_.snapshots_offset = off;
    if (old && old_bytes) refs_->free_later(old, old_bytes);
    snaps_ = std::move(snaps);
}

uint64_t Image::vm_state_offset() const {
    return l1_entries_for(h_.size, h_.cluster_bits) << (h_.cluster_bits + h_.l2_bits());
}

// A bigger copy of the active L1 table, switched to in one header write.
void Image::grow_l1(uint64_t n) {
    if (n <= l1_.size()) return;
    if (n * 8 > kMaxL1Bytes) throw Error("qcow2: the VM state is too large for this image");
    flush();
    uint64_t cs = h_.cluster_size();
    uint64_t off = refs_->alloc((n * 8 + cs - 1) / cs);
    refs_->write_back();
    file_.flush();
    std::vector<uint64_t> l1 = l1_;
    l1.resize(size_t(n), 0);
    std::vector<uint8_t> raw(l1.size() * 8);
    for (size_t i = 0; i < l1.size(); i++) put64(&raw[i * 8], l1[i]);
    file_.pwrite(off, raw);
    file_.flush();
    uint8_t f[12];
    put32(f, uint32_t(n));
    put64(f + 4, off);
    file_.pwrite(36, f);  // l1_size, l1_table_offset
    file_.flush();
    if (h_.l1_size) refs_->free_later(h_.l1_offset, uint64_t(h_.l1_size) * 8);
    h_.l1_size = uint32_t(n);
    h_.l1_offset = off;
    l1_ = std::move(l1);
    flush();
}

void Image::vmstate_write(uint64_t pos, std::span<const uint8_t> buf) {
    if (read_only_) throw Error("qcow2: image is read-only");
    uint64_t start = vm_state_offset();
    if (pos > (uint64_t{1} << 56) || buf.size() > (uint64_t{1} << 40))
        throw Error("qcow2: the VM state is too large for this image");
    uint64_t end = start + pos + buf.size();
    uint64_t span = uint64_t{1} << (h_.cluster_bits + h_.l2_bits());
    grow_l1((end + span - 1) / span);
    write(start + pos, buf);
}

void Image::vmstate_read(const std::string &key, uint64_t pos, std::span<uint8_t> buf) {
    size_t i = find_snapshot(key);
    if (i == snaps_.size()) throw Error("Can't find snapshot");
    const Snapshot &s = snaps_[i];
    if (pos > s.vm_state_size || buf.size() > s.vm_state_size - pos)
        throw Error("qcow2: read beyond the VM state of snapshot '" + key + "'");
    // Read through the snapshot's L1 table in place of the active one (reads
    // change nothing; the L2 cache is keyed by offset).
    std::vector<uint64_t> active = read_l1(s.l1_offset, s.l1_size);
    for (size_t k = 0; k < active.size(); k++)
        if (uint64_t l2 = active[k] & kOffsetMask) check_l2_offset(k, l2);
    std::swap(active, l1_);
    try {
        read(vm_state_offset() + pos, buf);
    } catch (...) {
        std::swap(active, l1_);
        throw;
    }
    std::swap(active, l1_);
}

// One reference less for the cluster (or compressed range) an L2 entry
// names, if any.
void Image::release_entry(uint64_t e) {
    if (e & kCompressed) {
        uint64_t off, len;
        compressed_range(e, off, len);
        refs_->free_later(off, len);
    } else if (uint64_t d = e & kOffsetMask) {
        refs_->free_later(d, h_.cluster_size());
    }
    if (zcache_entry_ == e) zcache_.clear();
}

// One reference less for the L2 table of L1 entry `e` (index i) and every
// cluster it names.
void Image::release_l2_tree(uint64_t i, uint64_t e) {
    uint64_t l2 = e & kOffsetMask, cs = h_.cluster_size();
    if (!l2) return;
    check_l2_offset(i, l2);
    for (uint64_t entry : l2_->get(l2).entries) release_entry(entry);
    refs_->free_later(l2, cs);
}

// The active tables forget the VM state area (the snapshots keep theirs).
void Image::drop_vmstate() {
    for (uint64_t i = l1_entries_for(h_.size, h_.cluster_bits); i < l1_.size(); i++) {
        if (!(l1_[i] & kOffsetMask)) continue;
        release_l2_tree(i, l1_[i]);
        l1_[i] = 0;
        l1_dirty_ = true;
    }
    flush();
}

void Image::snapshot_create(const std::string &name, uint64_t vm_clock_nsec, uint64_t vm_state_size) {
    if (read_only_) throw Error("qcow2: image is read-only");
    if (name.empty() || name.size() > 65535) throw Error("qcow2: invalid snapshot name");
    for (const Snapshot &s : snaps_)
        if (s.name == name) throw Error("Snapshot with name '" + name + "' already exists");
    if (snaps_.size() >= kMaxSnapshots) throw Error("Too many snapshots");
    flush();
    uint64_t max_id = 0;
    for (const Snapshot &s : snaps_) max_id = std::max<uint64_t>(max_id, std::strtoull(s.id.c_str(), nullptr, 10));
    // The snapshot shares every cluster: references up, COPIED off.
    tree_refcounts(l1_, +1);
    fix_copied_flags();
    flush();
    Snapshot s;
    s.id = std::to_string(max_id + 1);
    s.name = name;
    s.l1_size = uint32_t(l1_.size());
    uint64_t cs = h_.cluster_size();
    if (!l1_.empty()) {
        s.l1_offset = refs_->alloc((l1_.size() * 8 + cs - 1) / cs);
        refs_->write_back();
        file_.flush();
        std::vector<uint8_t> raw(l1_.size() * 8);
        for (size_t i = 0; i < l1_.size(); i++) put64(&raw[i * 8], l1_[i] & ~kCopied);
        file_.pwrite(s.l1_offset, raw);
    }
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    s.date_sec = uint32_t(now.tv_sec);
    s.date_nsec = uint32_t(now.tv_nsec);
    s.vm_clock_nsec = vm_clock_nsec;
    s.vm_state_size = vm_state_size;
    s.disk_size = h_.size;
    s.extra.assign(16, 0);  // vm_state_size_large, disk_size
    put64(&s.extra[0], vm_state_size);
    put64(&s.extra[8], h_.size);
    auto snaps = snaps_;
    snaps.push_back(s);
    write_snapshot_table(std::move(snaps));
    flush();
    drop_vmstate();
}

void Image::snapshot_apply(const std::string &key) {
    if (read_only_) throw Error("qcow2: image is read-only");
    size_t i = find_snapshot(key);
    if (i == snaps_.size()) throw Error("Can't find snapshot");
    const Snapshot &s = snaps_[i];
    if (s.disk_size != h_.size)
        throw Error("qcow2: snapshot '" + key + "' has another disk size; resizing is not supported");
    grow_l1(s.l1_size);  // its VM state may reach past our table
    flush();
    std::vector<uint64_t> snap_l1 = read_l1(s.l1_offset, s.l1_size);
    snap_l1.resize(l1_.size(), 0);
    // Take the snapshot's references first, then drop the current tree's.
    tree_refcounts(snap_l1, +1);
    refs_->write_back();
    file_.flush();
    std::vector<uint64_t> old = l1_;
    l1_ = snap_l1;
    write_l1();
    file_.flush();
    tree_refcounts(old, -1);
    fix_copied_flags();
    zcache_.clear();
    flush();
}

void Image::snapshot_delete(const std::string &key) {
    if (read_only_) throw Error("qcow2: image is read-only");
    size_t i = find_snapshot(key);
    if (i == snaps_.size()) throw Error("Can't find the snapshot with ID '" + key + "' and name '" + key + "'");
    flush();
    Snapshot s = snaps_[i];
    auto snaps = snaps_;
    snaps.erase(snaps.begin() + ptrdiff_t(i));
    // The table without it goes first; then its references go.
    write_snapshot_table(std::move(snaps));
    std::vector<uint64_t> l1 = read_l1(s.l1_offset, s.l1_size);
    for (size_t k = 0; k < l1.size(); k++) release_l2_tree(k, l1[k]);
    if (s.l1_size) refs_->free_later(s.l1_offset, uint64_t(s.l1_size) * 8);
    flush();  // applies the frees
    fix_copied_flags();
    flush();
}

}  // namespace qcow2
