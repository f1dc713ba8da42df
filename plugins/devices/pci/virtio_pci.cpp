#include "virtio_pci.hpp"

namespace pci {

using virtio::get_le;
using virtio::put_le;

namespace {
constexpr uint8_t kCapCommon = 1, kCapNotify = 2, kCapIsr = 3, kCapDevice = 4;
}

uint64_t VirtioPci::offered_features() const {
    return dev_->device_features() | virtio::kFVersion1 | virtio::kFIndirectDesc;
}

void VirtioPci::add_virtio_cap(uint8_t type, uint32_t offset, uint32_t length, unsigned extra) {
    const unsigned len = 16 + extra;
    unsigned c = cfg.add_capability(0x09, len);  // vendor specific
    cfg.set_raw(c + 2, 1, len);
    cfg.set_raw(c + 3, 1, type);
    cfg.set_raw(c + 4, 1, kCapBar);
    cfg.set_raw(c + 8, 4, offset);
    cfg.set_raw(c + 12, 4, length);
    if (extra) cfg.set_raw(c + 16, 4, kNotifyMultiplier);
}

void VirtioPci::realize_transport(virtio::Device &dev, uint32_t pci_class) {
    dev_ = &dev;
    dev.set_transport(this);
    const unsigned nq = dev.num_queues();
    // Modern ids: 0x1040 + virtio device id; subsystem as the reference.
    cfg.set_ids(0x1af4, static_cast<uint16_t>(0x1040 + dev.device_id()), 1, pci_class, 0x1af4, 0x1100);
    cfg.set_int_pin(1);
    cfg.set_bar(kMsixBar, {BarType::Mem32, kMsixBarSize, false});
    cfg.set_bar(kCapBar, {BarType::Mem64, kCapBarSize, true});
    msix_.init(cfg, nq + 1, kMsixBar, 0, 0x800);
    add_virtio_cap(kCapCommon, kCommon, 0x38);
    add_virtio_cap(kCapIsr, kIsr, 1);
    if (!dev.config().empty())  // drivers refuse a zero-length structure
        add_virtio_cap(kCapDevice, kDevice, static_cast<uint32_t>(dev.config().size()));
    add_virtio_cap(kCapNotify, kNotify, kNotifyMultiplier * nq, 4);

    static constexpr ts_mmio_ops kCapOps = [] {
        ts_mmio_ops o{};
        o.size = sizeof o;
        o.read = [](void *p, uint64_t off, unsigned size, uint64_t *v) {
            ts::contained("virtio-pci", [&] { *v = static_cast<VirtioPci *>(p)->cap_read(off, size); });
            return TS_MEMTX_OK;
        };
        o.write = [](void *p, uint64_t off, unsigned size, uint64_t v) {
            ts::contained("virtio-pci", [&] { static_cast<VirtioPci *>(p)->cap_write(off, size, v); });
            return TS_MEMTX_OK;
        };
        o.min_access = 1;
        o.max_access = 8;
        return o;
    }();
    static constexpr ts_mmio_ops kMsixOps = [] {
        ts_mmio_ops o{};
        o.size = sizeof o;
        o.read = [](void *p, uint64_t off, unsigned size, uint64_t *v) {
            *v = static_cast<VirtioPci *>(p)->msix_read(off, size);
            return TS_MEMTX_OK;
        };
        o.write = [](void *p, uint64_t off, unsigned size, uint64_t v) {
            static_cast<VirtioPci *>(p)->msix_write(off, size, v);
            return TS_MEMTX_OK;
        };
        o.min_access = 1;
        o.max_access = 8;
        return o;
    }();
    bar_regions[kCapBar] = ts::host().region_mmio(object(), "virtio-pci", kCapBarSize, &kCapOps, this);
    bar_regions[kMsixBar] = ts::host().region_mmio(object(), "msix", kMsixBarSize, &kMsixOps, this);
    for (unsigned i = 0; i < nq && i < virtio::kMaxQueues; i++)
        queues_.push_back(std::make_unique<virtio::Virtqueue>(qs_[i], dev.queue_max(i)));
    reset_transport();
}

void VirtioPci::reset_transport() {
    for (unsigned i = 0; i < virtio::kMaxQueues; i++) {
        qs_[i] = virtio::VirtqueueState{};
        if (i < queues_.size()) qs_[i].num = queues_[i]->max_size();
        queue_vector_[i] = kNoVector;
        if (i < queues_.size()) queues_[i]->set_indirect(false);
    }
    driver_features_ = 0;
    dfselect_ = gfselect_ = 0;
    queue_sel_ = 0;
    config_vector_ = kNoVector;
    status_ = 0;
    isr_ = 0;
    set_intx(false);
    if (dev_) dev_->device_reset();
}

void VirtioPci::pre_save() {
    auto raw = cfg.raw();
    std::copy(raw.begin(), raw.end(), s.config);
    std::copy(std::begin(qs_), std::end(qs_), s.queues);
    std::copy(queue_vector_.begin(), queue_vector_.end(), s.queue_vector);
    s.driver_features = driver_features_;
    s.dfselect = dfselect_;
    s.gfselect = gfselect_;
    s.queue_sel = queue_sel_;
    s.config_vector = config_vector_;
    s.status = status_;
    s.isr = isr_;
    s.generation = generation_;
    s.intx = intx_level();
    msix_.save(s.msix_table, s.msix_pba);
}

void VirtioPci::post_load() {
    cfg.load_raw(std::span<const uint8_t, kConfigSize>(s.config));
    std::copy(std::begin(s.queues), std::end(s.queues), qs_);
    std::copy(std::begin(s.queue_vector), std::end(s.queue_vector), queue_vector_.begin());
    driver_features_ = s.driver_features;
    dfselect_ = s.dfselect;
    gfselect_ = s.gfselect;
    queue_sel_ = s.queue_sel;
    config_vector_ = s.config_vector;
    status_ = s.status;
    isr_ = s.isr;
    generation_ = s.generation;
    msix_.load(s.msix_table, s.msix_pba);
    for (auto &q : queues_) q->set_indirect(driver_features_ & virtio::kFIndirectDesc);
    if (bus) bus->remap(*this);  // the BARs where the loaded config space puts them
    set_intx(s.intx);
    if (dev_) dev_->state_loaded();
}

void VirtioPci::notify_used(unsigned index) {
    if (queue(index).interrupts_suppressed()) return;
    if (msix_.enabled()) return msix_.notify(queue_vector_.at(index));
    isr_ |= virtio::kIntUsedBuffer;
    set_intx(true);
}

void VirtioPci::config_changed() {
    generation_++;
    if (!(status_ & virtio::kStatusDriverOk)) return;
    if (msix_.enabled()) return msix_.notify(config_vector_);
    isr_ |= virtio::kIntConfigChange;
    set_intx(true);
}

void VirtioPci::needs_reset(const char *why) {
    ts::guest_error("%s: %s; device needs reset", path(), why);
    status_ |= virtio::kStatusNeedsReset;
    config_changed();
}

void VirtioPci::set_status(uint8_t v) {
    if (v == 0) return reset_transport();
    const uint8_t old = status_;
    if ((v & virtio::kStatusFeaturesOk) && !(old & virtio::kStatusFeaturesOk)) {
        // The driver may only accept what was offered, and must accept VERSION_1.
        if ((driver_features_ & ~offered_features()) || !(driver_features_ & virtio::kFVersion1))
            v &= ~virtio::kStatusFeaturesOk;
        for (auto &q : queues_) q->set_indirect(driver_features_ & virtio::kFIndirectDesc);
    }
    status_ = v;
    if ((v & virtio::kStatusDriverOk) && !(old & virtio::kStatusDriverOk)) dev_->driver_ready();
}

// Common configuration (4.1.4.3), by field offset.
uint64_t VirtioPci::common_read(uint64_t off, unsigned size) {
    std::array<uint8_t, 0x40> c{};
    const unsigned q = queue_sel_;
    const bool qok = q < queues_.size();
    put_le(c, 0x00, dfselect_, 4);
    put_le(c, 0x04, dfselect_ < 2 ? offered_features() >> (32 * dfselect_) : 0, 4);
    put_le(c, 0x08, gfselect_, 4);
    put_le(c, 0x0c, gfselect_ < 2 ? driver_features_ >> (32 * gfselect_) : 0, 4);
    put_le(c, 0x10, config_vector_, 2);
    put_le(c, 0x12, queues_.size(), 2);
    put_le(c, 0x14, status_, 1);
    put_le(c, 0x15, generation_, 1);
    put_le(c, 0x16, queue_sel_, 2);
    if (qok) {
        put_le(c, 0x18, qs_[q].num, 2);
        put_le(c, 0x1a, queue_vector_[q], 2);
        put_le(c, 0x1c, qs_[q].ready, 2);
        put_le(c, 0x1e, q, 2);  // queue_notify_off
        put_le(c, 0x20, qs_[q].desc, 8);
        put_le(c, 0x28, qs_[q].avail, 8);
        put_le(c, 0x30, qs_[q].used, 8);
    }
    return off + size <= c.size() ? get_le(c, off, size) : 0;
}

void VirtioPci::common_write(uint64_t off, unsigned size, uint64_t v) {
    const unsigned q = queue_sel_;
    virtio::VirtqueueState *qs = q < queues_.size() ? &qs_[q] : nullptr;
    auto addr_part = [&](uint64_t base, uint64_t &field) {
        const unsigned shift = static_cast<unsigned>(8 * (off - base));
        const uint64_t mask = (size == 8 ? ~0ull : ((1ull << (8 * size)) - 1)) << shift;
        field = (field & ~mask) | ((v << shift) & mask);
    };
    switch (off) {
    case 0x00: dfselect_ = static_cast<uint32_t>(v); return;
    case 0x08: gfselect_ = static_cast<uint32_t>(v); return;
    case 0x0c:
        if (status_ & virtio::kStatusFeaturesOk) return ts::guest_error("%s: features written after FEATURES_OK", path());
        if (gfselect_ < 2) {
            const unsigned sh = 32 * gfselect_;
            driver_features_ = (driver_features_ & ~(0xffffffffull << sh)) | ((v & 0xffffffff) << sh);
        }
        return;
    case 0x10: config_vector_ = v < msix_.vectors() ? static_cast<uint16_t>(v) : kNoVector; return;
    case 0x14: return set_status(static_cast<uint8_t>(v));
    case 0x16: queue_sel_ = static_cast<uint16_t>(v); return;
    }
    if (!qs) return ts::guest_error("%s: queue register 0x%llx for queue %u that does not exist", path(),
                                    static_cast<unsigned long long>(off), q);
    if (off == 0x18) {
        if (v == 0 || v > queues_[q]->max_size() || (v & (v - 1)))
            return ts::guest_error("%s: invalid queue size %llu", path(), static_cast<unsigned long long>(v));
        qs->num = static_cast<uint32_t>(v);
    } else if (off == 0x1a) {
        queue_vector_[q] = v < msix_.vectors() ? static_cast<uint16_t>(v) : kNoVector;
    } else if (off == 0x1c) {
        qs->ready = v & 1;
    } else if (off >= 0x20 && off < 0x28) {
        addr_part(0x20, qs->desc);
    } else if (off >= 0x28 && off < 0x30) {
        addr_part(0x28, qs->avail);
    } else if (off >= 0x30 && off < 0x38) {
        addr_part(0x30, qs->used);
    } else {
        ts::guest_error("%s: write to read-only common config 0x%llx", path(), static_cast<unsigned long long>(off));
    }
}

uint64_t VirtioPci::cap_read(uint64_t off, unsigned size) {
    if (off < kIsr) return common_read(off - kCommon, size);
    if (off < kDevice) {
        if (off != kIsr) return 0;
        const uint8_t v = isr_;  // reading acknowledges
        isr_ = 0;
        set_intx(false);
        return v;
    }
    if (off < kNotify) {
        std::span<uint8_t> c = dev_->config();
        const uint64_t o = off - kDevice;
        return o + size <= c.size() ? get_le(c, o, size) : 0;
    }
    return 0;
}

void VirtioPci::cap_write(uint64_t off, unsigned size, uint64_t value) {
    if (off < kIsr) return common_write(off - kCommon, size, value);
    if (off < kDevice) return;
    if (off < kNotify) {
        std::span<uint8_t> c = dev_->config();
        const uint64_t o = off - kDevice;
        if (o + size > c.size()) return;
        put_le(c, o, value, size);
        dev_->config_written(o, size);
        return;
    }
    const uint64_t q = (off - kNotify) / kNotifyMultiplier;
    if (q >= queues_.size() || (status_ & virtio::kStatusNeedsReset)) return;
    if (!(status_ & virtio::kStatusDriverOk)) return ts::guest_error("%s: notify before DRIVER_OK", path());
    dev_->handle_queue(static_cast<unsigned>(q));
}

}  // namespace pci
