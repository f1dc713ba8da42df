// virtio-mmio registers and feature/status negotiation.
#include "mmio.hpp"

#include <string>

namespace virtio {

namespace {
uint64_t align_up(uint64_t v, uint64_t a) { return a ? (v + a - 1) / a * a : v; }
}  // namespace

VirtqueueState *Mmio::selected() {
    if (!dev_ || s.queue_sel >= dev_->num_queues() || s.queue_sel >= kMaxQueues) return nullptr;
    return &s.queues[s.queue_sel];
}

uint64_t Mmio::offered_features() const {
    if (!dev_) return 0;
    return dev_->device_features() | kFIndirectDesc | (legacy_ ? 0 : kFVersion1);
}

uint64_t Mmio::rd_device_features() {
    return s.device_features_sel > 1 ? 0 : (offered_features() >> (32 * s.device_features_sel)) & 0xffffffff;
}

void Mmio::wr_driver_features(uint64_t v) {
    if (s.status & kStatusFeaturesOk) {
        ts::guest_error("%s: driver features written after FEATURES_OK", path());
        return;
    }
    if (s.driver_features_sel > 1) return;
    unsigned shift = 32 * s.driver_features_sel;
    s.driver_features = (s.driver_features & ~(0xffffffffull << shift)) | ((v & 0xffffffff) << shift);
}

void Mmio::wr_guest_page_size(uint64_t v) {
    if (!legacy_) return ts::guest_error("%s: GuestPageSize is a legacy register", path());
    s.guest_page_size = static_cast<uint32_t>(v);
}

uint64_t Mmio::rd_queue_num_max() {
    if (!selected()) return 0;
    return queues_[s.queue_sel]->max_size();
}

void Mmio::wr_queue_num(uint64_t v) {
    VirtqueueState *q = selected();
    if (!q) return ts::guest_error("%s: QueueNum for a queue that does not exist", path());
    // Split queue sizes are powers of 2 up to QueueNumMax.
    if (v == 0 || v > queues_[s.queue_sel]->max_size() || (v & (v - 1)))
        return ts::guest_error("%s: invalid queue size %llu", path(), static_cast<unsigned long long>(v));
    q->num = static_cast<uint32_t>(v);
    if (legacy_) legacy_layout(*q);
}

void Mmio::wr_queue_align(uint64_t v) {
    VirtqueueState *q = selected();
    if (!legacy_ || !q) return ts::guest_error("%s: QueueAlign ignored", path());
    if (v & (v - 1)) return ts::guest_error("%s: QueueAlign %llu is not a power of 2", path(), static_cast<unsigned long long>(v));
    q->align = static_cast<uint32_t>(v);
    legacy_layout(*q);
}

uint64_t Mmio::rd_queue_pfn() {
    VirtqueueState *q = selected();
    return (legacy_ && q) ? q->pfn : 0;
}

void Mmio::wr_queue_pfn(uint64_t v) {
    VirtqueueState *q = selected();
    if (!legacy_ || !q) return ts::guest_error("%s: QueuePFN ignored", path());
    q->pfn = static_cast<uint32_t>(v);
    legacy_layout(*q);
}

// Legacy queues are one contiguous area at pfn * page size: descriptors,
// avail ring, then the used ring at the next QueueAlign boundary.
void Mmio::legacy_layout(VirtqueueState &q) {
    q.ready = q.pfn != 0 && q.num != 0;
    if (!q.ready) return;
    q.desc = static_cast<uint64_t>(q.pfn) * (s.guest_page_size ? s.guest_page_size : 4096);
    q.avail = q.desc + 16ull * q.num;
    q.used = align_up(q.avail + 6 + 2ull * q.num, q.align ? q.align : 4096);
}

uint64_t Mmio::rd_queue_ready() {
    VirtqueueState *q = selected();
    return (!legacy_ && q) ? q->ready : 0;
}

void Mmio::wr_queue_ready(uint64_t v) {
    VirtqueueState *q = selected();
    if (legacy_ || !q) return ts::guest_error("%s: QueueReady ignored", path());
    q->ready = v & 1;
}

// Desc/Driver/Device low and high words at 0x80, 0x84, 0x90, 0x94, 0xa0, 0xa4.
uint64_t Mmio::rd_queue_addr(unsigned i) {
    VirtqueueState *q = selected();
    if (legacy_ || !q || (i % 4) > 1) return 0;
    uint64_t addr = (i / 4 == 0) ? q->desc : (i / 4 == 1) ? q->avail : q->used;
    return (i % 4) ? addr >> 32 : addr & 0xffffffff;
}

void Mmio::wr_queue_addr(unsigned i, uint64_t v) {
    VirtqueueState *q = selected();
    if (legacy_ || !q || (i % 4) > 1) return ts::guest_error("%s: queue address write ignored", path());
    if (q->ready) return ts::guest_error("%s: queue address written while the queue is ready", path());
    uint64_t &addr = (i / 4 == 0) ? q->desc : (i / 4 == 1) ? q->avail : q->used;
    unsigned shift = (i % 4) ? 32 : 0;
    addr = (addr & ~(0xffffffffull << shift)) | ((v & 0xffffffff) << shift);
}

void Mmio::wr_queue_notify(uint64_t v) {
    if (!dev_ || (s.status & kStatusNeedsReset)) return;
    if (v >= dev_->num_queues()) return ts::guest_error("%s: notify of queue %llu", path(), static_cast<unsigned long long>(v));
    if (!(s.status & kStatusDriverOk)) return ts::guest_error("%s: notify before DRIVER_OK", path());
    dev_->handle_queue(static_cast<unsigned>(v));
}

void Mmio::wr_interrupt_ack(uint64_t v) {
    s.interrupt_status &= ~static_cast<uint32_t>(v);
    update_irq();
}

void Mmio::wr_status(uint64_t v) {
    auto val = static_cast<uint32_t>(v & 0xff);
    if (val == 0) return reset_device();
    if ((val & kStatusFeaturesOk) && !(s.status & kStatusFeaturesOk)) {
        // Refuse (leave FEATURES_OK clear) features we did not offer; a modern
        // device needs VERSION_1.
        uint64_t offered = offered_features();
        if ((s.driver_features & ~offered) || (!legacy_ && !(s.driver_features & kFVersion1))) {
            ts::guest_error("%s: driver accepted features 0x%llx not offered (0x%llx)", path(),
                            static_cast<unsigned long long>(s.driver_features),
                            static_cast<unsigned long long>(offered));
            val &= ~kStatusFeaturesOk;
        }
    }
    bool was_ok = s.status & kStatusDriverOk;
    s.status = val | (s.status & kStatusNeedsReset);
    if (legacy_ && (val & kStatusDriverOk)) s.driver_features &= offered_features();
    for (auto &q : queues_) q->set_indirect(s.driver_features & kFIndirectDesc);
    if (!was_ok && (val & kStatusDriverOk) && dev_) dev_->driver_ready();
}

void Mmio::notify_used(unsigned index) {
    if (queue(index).interrupts_suppressed()) return;
    s.interrupt_status |= kIntUsedBuffer;
    update_irq();
}

void Mmio::config_changed() {
    s.config_generation++;
    if (!(s.status & kStatusDriverOk)) return;
    s.interrupt_status |= kIntConfigChange;
    update_irq();
}

void Mmio::needs_reset(const char *why) {
    ts::guest_error("%s: %s; device needs reset", path(), why);
    s.status |= kStatusNeedsReset;
    config_changed();
}

void Mmio::reset_device() {
    for (auto &q : s.queues) q = VirtqueueState{};
    s.driver_features = 0;
    s.status = 0;
    s.device_features_sel = s.driver_features_sel = 0;
    s.queue_sel = 0;
    s.interrupt_status = 0;
    for (auto &q : queues_) q->set_indirect(false);
    update_irq();
    if (dev_) dev_->device_reset();
}

void Mmio::post_load() {
    for (auto &q : queues_) q->set_indirect(s.driver_features & kFIndirectDesc);
    if (dev_) dev_->state_loaded();
    update_irq();
}

void Mmio::reset() {
    s.guest_page_size = 0;
    s.config_generation = 0;
    reset_device();
}

// ---- Access ---------------------------------------------------------------------

uint64_t Mmio::read(uint64_t offset, unsigned size) {
    if (offset >= kConfig) {
        std::span<uint8_t> cfg = dev_ ? dev_->config() : std::span<uint8_t>();
        uint64_t off = offset - kConfig;
        if (off + size > cfg.size()) {
            ts::guest_error("%s: config read beyond the config space at 0x%llx", path(),
                            static_cast<unsigned long long>(offset));
            return 0;
        }
        return get_le(cfg, off, size);
    }
    if (size != 4) {
        ts::guest_error("%s: %u-byte register read at 0x%llx", path(), size, static_cast<unsigned long long>(offset));
        return 0;
    }
    return ts::reg_read(std::span<const ts::Reg<Mmio>>(regs_), *this, offset, size);
}

void Mmio::write(uint64_t offset, unsigned size, uint64_t value) {
    if (offset >= kConfig) {
        std::span<uint8_t> cfg = dev_ ? dev_->config() : std::span<uint8_t>();
        uint64_t off = offset - kConfig;
        if (off + size > cfg.size()) {
            ts::guest_error("%s: config write beyond the config space at 0x%llx", path(),
                            static_cast<unsigned long long>(offset));
            return;
        }
        put_le(cfg, off, value, size);
        dev_->config_written(off, size);
        return;
    }
    if (size != 4) {
        ts::guest_error("%s: %u-byte register write at 0x%llx", path(), size, static_cast<unsigned long long>(offset));
        return;
    }
    ts::reg_write(std::span<const ts::Reg<Mmio>>(regs_), *this, offset, size, value);
}

// ---- Lifecycle ----------------------------------------------------------------------

void Mmio::realize() {
    legacy_ = prop_bool("force-legacy");
    irq_ = ts::gpio_out(object(), "irq", 1).at(0);
    regs_ = {
        ts::reg<&Mmio::rd_magic, nullptr>(0x000, "MagicValue"),
        ts::reg<&Mmio::rd_version, nullptr>(0x004, "Version"),
        ts::reg<&Mmio::rd_device_id, nullptr>(0x008, "DeviceID"),
        ts::reg<&Mmio::rd_vendor_id, nullptr>(0x00c, "VendorID"),
        ts::reg<&Mmio::rd_device_features, nullptr>(0x010, "DeviceFeatures"),
        ts::reg<nullptr, &Mmio::wr_device_features_sel>(0x014, "DeviceFeaturesSel"),
        ts::reg<nullptr, &Mmio::wr_driver_features>(0x020, "DriverFeatures"),
        ts::reg<nullptr, &Mmio::wr_driver_features_sel>(0x024, "DriverFeaturesSel"),
        ts::reg<nullptr, &Mmio::wr_guest_page_size>(0x028, "GuestPageSize"),
        ts::reg<nullptr, &Mmio::wr_queue_sel>(0x030, "QueueSel"),
        ts::reg<&Mmio::rd_queue_num_max, nullptr>(0x034, "QueueNumMax"),
        ts::reg<nullptr, &Mmio::wr_queue_num>(0x038, "QueueNum"),
        ts::reg<nullptr, &Mmio::wr_queue_align>(0x03c, "QueueAlign"),
        ts::reg<&Mmio::rd_queue_pfn, &Mmio::wr_queue_pfn>(0x040, "QueuePFN"),
        ts::reg<&Mmio::rd_queue_ready, &Mmio::wr_queue_ready>(0x044, "QueueReady"),
        ts::reg<nullptr, &Mmio::wr_queue_notify>(0x050, "QueueNotify"),
        ts::reg<&Mmio::rd_interrupt_status, nullptr>(0x060, "InterruptStatus"),
        ts::reg<nullptr, &Mmio::wr_interrupt_ack>(0x064, "InterruptACK"),
        ts::reg<&Mmio::rd_status, &Mmio::wr_status>(0x070, "Status"),
        ts::reg_array<&Mmio::rd_queue_addr, &Mmio::wr_queue_addr>(0x080, 12, 4, "QueueDesc/Driver/Device"),
        ts::reg<&Mmio::rd_config_generation, nullptr>(0x0fc, "ConfigGeneration"),
    };
    static unsigned bus_count = 0;
    std::string bus = "virtio-mmio-bus." + std::to_string(bus_count++);
    ts_error err{};
    if (ts::host().bus_add(object(), "virtio-bus", bus.c_str(), &err) != TS_OK) throw ts::Error(err.message);
    static const ts_mmio_ops ops = ts::mmio_ops<Mmio>(1, 8);
    add_mmio(type_name, kSize, ops, this);
}

void Mmio::plug(ts_object *child) {
    virtio::Device *d = as_virtio_device(child);
    if (!d) throw ts::Error(std::string(ts::host().object_type(child)) + " is not a virtio device");
    if (dev_) throw ts::Error("virtio-mmio bus already has a device");
    if (d->num_queues() > kMaxQueues) throw ts::Error("too many virtqueues");
    dev_ = d;
    child_ = child;
    queues_.clear();
    for (unsigned q = 0; q < d->num_queues(); q++)
        queues_.push_back(std::make_unique<Virtqueue>(s.queues[q], d->queue_max(q)));
    d->set_transport(this);
}

void Mmio::unplug(ts_object *child) {
    if (child != child_) return;
    dev_->set_transport(nullptr);
    dev_ = nullptr;
    child_ = nullptr;
    queues_.clear();
    reset_device();
}

}  // namespace virtio
