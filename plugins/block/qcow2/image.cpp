#include "image.hpp"

#include "compress.hpp"

namespace qcow2 {

namespace {
constexpr uint64_t kDefaultL2CacheMax = 32u << 20;  // the reference's default on Linux
}

Image::Image(Storage &file, const OpenOptions &opts) : file_(file), h_(read_header(file)), read_only_(opts.read_only) {
    if ((h_.incompatible & kIncompatCorrupt) && !read_only_)
        throw Error("qcow2: Image is corrupt; cannot be opened read/write");
    uint64_t cs = h_.cluster_size();
    csize_shift_ = 62 - (h_.cluster_bits - 8);
    csize_mask_ = (uint64_t{1} << (h_.cluster_bits - 8)) - 1;
    coffset_mask_ = (uint64_t{1} << csize_shift_) - 1;

    l1_.resize(h_.l1_size);
    if (h_.l1_size) {
        std::vector<uint8_t> raw(size_t(h_.l1_size) * 8);
        file_.pread(h_.l1_offset, raw);
        for (size_t i = 0; i < l1_.size(); i++) {
            l1_[i] = be64(&raw[i * 8]);
            if (l1_[i] & 0x7f000000000001ffull)
                throw Error("qcow2: L1 entry " + std::to_string(i) + " has reserved bits set");
        }
    }
    refs_ = std::make_unique<Refcounts>(file_, h_);
    refs_->load();
    load_snapshots();

    uint64_t need = std::max<uint64_t>(1, l1_entries_for(h_.size, h_.cluster_bits)) * cs;
    uint64_t bytes = opts.l2_cache_size ? *opts.l2_cache_size : std::min(need, kDefaultL2CacheMax);
    l2_ = std::make_unique<L2Cache>(
        size_t(std::min<uint64_t>(bytes / cs, 1u << 20)), size_t(h_.l2_entries()),
        [this](uint64_t off, std::vector<uint64_t> &e) {
            std::vector<uint8_t> raw(e.size() * 8);
            file_.pread(off, raw);
            for (size_t i = 0; i < e.size(); i++) e[i] = be64(&raw[i * 8]);
        },
        [this](uint64_t off, const std::vector<uint64_t> &e) { write_l2(off, e); });

    if (!read_only_ && (h_.incompatible & kIncompatDirty)) {
        // Left dirty with lazy refcounts: the refcounts may be stale.
        rebuild_refcounts();
        set_incompatible(kIncompatDirty, false);
    }
    if (!read_only_ && h_.version >= 3 && h_.autoclear) {
        // We keep no bitmaps up to date: the reference then ignores them.
        h_.autoclear = 0;
        uint8_t z[8] = {};
        file_.pwrite(88, z);
        file_.flush();
    }
}

Image::~Image() {
    try {
        close();
    } catch (...) {
    }
}

void Image::close() {
    if (closed_ || read_only_) return;
    flush();
    closed_ = true;
}

void Image::check_l2_offset(uint64_t l1_index, uint64_t off) {
    if (off % h_.cluster_size() || off < h_.cluster_size() || off > file_.length() ||
        file_.length() - off < h_.cluster_size())
        throw Error("qcow2: L2 table offset " + hex(off) + " (L1 index " + std::to_string(l1_index) +
                    ") is unaligned or beyond the end of the image file");
}

Image::Mapping Image::lookup(uint64_t gc) {
    uint64_t l1i = gc >> h_.l2_bits();
    if (l1i >= l1_.size()) throw Error("qcow2: offset beyond the L1 table");
    uint64_t l2off = l1_[l1i] & kOffsetMask;
    if (!l2off) return {};
    check_l2_offset(l1i, l2off);
    return {l2_->get(l2off).entries[gc & (h_.l2_entries() - 1)], l2off};
}

uint64_t Image::data_offset(uint64_t entry, uint64_t guest_off) {
    uint64_t off = entry & kOffsetMask;
    if (off % h_.cluster_size())
        throw Error("qcow2: cluster allocation offset " + hex(off) + " for guest offset " + hex(guest_off) +
                    " is unaligned");
    if (entry & 0x3f000000000001feull)
        throw Error("qcow2: L2 entry for guest offset " + hex(guest_off) + " has reserved bits set");
    return off;
}

void Image::read_backing(uint64_t guest_off, std::span<uint8_t> out) {
    std::fill(out.begin(), out.end(), 0);
    if (!backing_) return;
    uint64_t blen = backing_->length();
    if (guest_off >= blen) return;
    backing_->pread(guest_off, out.first(size_t(std::min<uint64_t>(out.size(), blen - guest_off))));
}

void Image::read_compressed(uint64_t entry, std::span<uint8_t> cluster) {
    if (zcache_entry_ == entry && !zcache_.empty()) {
        std::copy(zcache_.begin(), zcache_.end(), cluster.begin());
        return;
    }
    uint64_t coff = entry & coffset_mask_;
    uint64_t nb = ((entry >> csize_shift_) & csize_mask_) + 1;
    uint64_t csize = nb * 512 - (coff & 511);
    uint64_t len = file_.length();
    if (coff >= len) throw Error("qcow2: compressed cluster at " + hex(coff) + " is beyond the end of the image file");
    std::vector<uint8_t> in(size_t(std::min(csize, len - coff)));
    file_.pread(coff, in);
    decompress(h_.compression, in, cluster);
    zcache_.assign(cluster.begin(), cluster.end());
    zcache_entry_ = entry;
}

// `out` is part of one cluster starting at in_cluster.
void Image::read_cluster(uint64_t entry, uint64_t guest_off, uint64_t in_cluster, std::span<uint8_t> out) {
    if (entry & kCompressed) {
        std::vector<uint8_t> c(h_.cluster_size());
        read_compressed(entry, c);
        std::copy_n(c.begin() + ptrdiff_t(in_cluster), out.size(), out.begin());
        return;
    }
    if (h_.version >= 3 && (entry & kZeroFlag)) {
        std::fill(out.begin(), out.end(), 0);
        return;
    }
    uint64_t host = data_offset(entry, guest_off);
    if (!host) return read_backing(guest_off, out);
    // Clusters past the end of the file (preallocated metadata) read as zeroes.
    uint64_t at = host + in_cluster, len = file_.length();
    size_t have = at >= len ? 0 : size_t(std::min<uint64_t>(out.size(), len - at));
    if (have) file_.pread(at, out.first(have));
    std::fill(out.begin() + ptrdiff_t(have), out.end(), 0);
}

void Image::read(uint64_t off, std::span<uint8_t> buf) {
    uint64_t cs = h_.cluster_size();
    for (size_t pos = 0; pos < buf.size();) {
        uint64_t at = off + pos, in = at & (cs - 1);
        size_t n = size_t(std::min<uint64_t>(buf.size() - pos, cs - in));
        read_cluster(lookup(at >> h_.cluster_bits).entry, at, in, buf.subspan(pos, n));
        pos += n;
    }
}

void Image::write_l2(uint64_t off, const std::vector<uint64_t> &e) {
    // An L2 table never reaches the disk before the refcounts of the
    // clusters it names.
    if (refs_->dirty()) {
        refs_->write_back();
        file_.flush();
    }
    std::vector<uint8_t> raw(e.size() * 8);
    for (size_t i = 0; i < e.size(); i++) put64(&raw[i * 8], e[i]);
    file_.pwrite(off, raw);
}

void Image::write_l1() {
    std::vector<uint8_t> raw(l1_.size() * 8);
    for (size_t i = 0; i < l1_.size(); i++) put64(&raw[i * 8], l1_[i]);
    file_.pwrite(h_.l1_offset, raw);
    l1_dirty_ = false;
}

// The L2 table for l1_index, allocated (or copied, if shared with a
// snapshot) so it may be changed.
L2Cache::Table &Image::l2_for_write(uint64_t l1i) {
    uint64_t e = l1_[l1i], old = e & kOffsetMask;
    if (old && (e & kCopied)) {
        check_l2_offset(l1i, old);
        return l2_->get(old);
    }
    std::vector<uint64_t> copy;
    if (old) {
        check_l2_offset(l1i, old);
        copy = l2_->get(old).entries;
    }
    uint64_t fresh = refs_->alloc(1);
    L2Cache::Table &t = l2_->fresh(fresh);
    if (old) {
        // Data clusters are counted once per L1 tree that reaches them (as
        // the reference counts), so they neither gain nor lose a reference
        // here: the snapshot keeps the old table, we take the copy.
        t.entries = std::move(copy);
        refs_->free_later(old, h_.cluster_size());
    }
    l1_[l1i] = fresh | kCopied;
    l1_dirty_ = true;
    return t;
}

void Image::write(uint64_t off, std::span<const uint8_t> buf) {
    if (read_only_) throw Error("qcow2: image is read-only");
    uint64_t cs = h_.cluster_size();
    std::vector<uint8_t> full;
    for (size_t pos = 0; pos < buf.size();) {
        uint64_t at = off + pos, in = at & (cs - 1), gc = at >> h_.cluster_bits;
        size_t n = size_t(std::min<uint64_t>(buf.size() - pos, cs - in));
        auto data = buf.subspan(pos, n);
        uint64_t entry = lookup(gc).entry;
        bool zero = h_.version >= 3 && (entry & kZeroFlag) && !(entry & kCompressed);
        uint64_t host = (entry & kCompressed) ? 0 : data_offset(entry, at);
        if (host && (entry & kCopied) && (!zero || n == cs)) {
            // In place; a preallocated zero cluster written whole loses its flag.
            file_.pwrite(host + in, data);
            if (zero) {
                auto &t = l2_for_write(gc >> h_.l2_bits());
                t.entries[gc & (h_.l2_entries() - 1)] = host | kCopied;
                t.dirty = true;
            }
        } else {
            std::span<const uint8_t> src = data;
            if (n != cs) {
                // Partial cluster: what the guest saw there, then the new bytes.
                full.assign(cs, 0);
                read_cluster(entry, at - in, 0, full);
                std::copy(data.begin(), data.end(), full.begin() + ptrdiff_t(in));
                src = full;
            }
            auto &t = l2_for_write(gc >> h_.l2_bits());
            uint64_t &slot = t.entries[gc & (h_.l2_entries() - 1)];
            uint64_t old = slot;
            uint64_t fresh = refs_->alloc(1);
            file_.pwrite(fresh, src);
            slot = fresh | kCopied;
            t.dirty = true;
            release_entry(old);
        }
        pos += n;
    }
}

void Image::discard(uint64_t off, uint64_t len) {
    if (read_only_) throw Error("qcow2: image is read-only");
    uint64_t cs = h_.cluster_size();
    uint64_t first = (off + cs - 1) / cs, end = std::min(off + len, h_.size);
    // The last partial cluster of the disk counts as whole.
    uint64_t last = end == h_.size ? (end + cs - 1) / cs : end / cs;
    for (uint64_t gc = first; gc < last; gc++) {
        Mapping m = lookup(gc);
        uint64_t want = h_.version >= 3 ? kZeroFlag : 0;
        if (m.entry == want) continue;
        if (!m.entry && !backing_) continue;  // nothing there: reads zeroes already
        auto &t = l2_for_write(gc >> h_.l2_bits());
        uint64_t &slot = t.entries[gc & (h_.l2_entries() - 1)];
        uint64_t old = slot;
        slot = want;
        t.dirty = true;
        release_entry(old);
    }
}

void Image::flush() {
    if (read_only_) return;
    bool any = false;
    if (refs_->dirty()) {
        refs_->write_back();
        file_.flush();
        any = true;
    }
    if (l2_->any_dirty() || l1_dirty_) {
        l2_->write_back();
        file_.flush();
        if (l1_dirty_) {
            write_l1();
            file_.flush();
        }
        any = true;
    }
    if (refs_->frees_pending()) {
        std::vector<uint64_t> zeroed = refs_->apply_frees();
        refs_->write_back();
        file_.flush();
        for (uint64_t c : zeroed) {
            l2_->forget(c << h_.cluster_bits);
            try {
                file_.discard(c << h_.cluster_bits, h_.cluster_size());
            } catch (const std::exception &) {
            }
        }
        any = true;
    }
    (void)any;
}

void Image::set_incompatible(uint64_t bits, bool on) {
    h_.incompatible = on ? h_.incompatible | bits : h_.incompatible & ~bits;
    uint8_t f[8];
    put64(f, h_.incompatible);
    file_.pwrite(72, f);
    file_.flush();
}

std::vector<std::pair<uint64_t, uint64_t>> Image::allocated_entries() {
    std::vector<std::pair<uint64_t, uint64_t>> out;
    uint64_t clusters = (h_.size + h_.cluster_size() - 1) >> h_.cluster_bits;
    for (uint64_t gc = 0; gc < clusters; gc++)
        if (uint64_t e = lookup(gc).entry) out.emplace_back(gc << h_.cluster_bits, e);
    return out;
}

void Image::create(Storage &file, const CreateOptions &o) {
    Header h;
    h.version = o.version;
    if (h.version < 2 || h.version > 3) throw Error("Invalid compatibility level");
    if (o.cluster_bits < kMinClusterBits || o.cluster_bits > kMaxClusterBits)
        throw Error("Cluster size must be a power of two between 512 and 2048k");
    h.cluster_bits = o.cluster_bits;
    h.size = o.size;
    if (h.size > kMaxImageSize) throw Error("qcow2: image size too large");
    h.refcount_order = o.refcount_order;
    if (h.version < 3 && h.refcount_order != 4)
        throw Error("Different refcount widths than 16 bits require compatibility level 1.1 or above (use compat=1.1 or greater)");
    if (h.refcount_order > 6) throw Error("Refcount width must be a power of two and may not exceed 64 bits");
    if (h.version < 3 && o.lazy_refcounts)
        throw Error("Lazy refcounts only supported with compatibility level 1.1 and above (use compat=1.1 or greater)");
    h.compatible = o.lazy_refcounts ? kCompatLazyRefcounts : 0;
    h.compression = o.compression;
    if (h.compression != Compression::Zlib) h.incompatible |= kIncompatCompression;
    h.backing_file = o.backing_file;
    h.backing_format = o.backing_format;
    uint64_t cs = h.cluster_size();
    h.l1_size = uint32_t(l1_entries_for(h.size, h.cluster_bits));
    if (uint64_t(h.l1_size) * 8 > kMaxL1Bytes) throw Error("qcow2: image size too large for this cluster size");
    h.refcount_table_offset = cs;
    h.refcount_table_clusters = 1;

    file.truncate(0);
    file.truncate(2 * cs);
    Refcounts refs(file, h);
    refs.init_empty();
    refs.set(0, 1);
    refs.set(1, 1);
    if (h.l1_size) h.l1_offset = refs.alloc((uint64_t(h.l1_size) * 8 + cs - 1) / cs);
    refs.write_back();
    std::vector<uint8_t> hdr = encode_header(h);
    // The refcount table may have moved while growing.
    file.pwrite(0, hdr);
    file.flush();
}

}  // namespace qcow2
