// virtio-mmio transport (virtio 1.2, 4.2): the modern register layout, or
// the legacy one (version 1: GuestPageSize, QueuePFN) with force-legacy=on.
// It creates a virtio-bus; the device plugged into it supplies the device id,
// features, queues and configuration space.
#pragma once

#include "../virtio.hpp"

#include <tessera/sdk/regs.hpp>

#include <array>
#include <memory>
#include <vector>

namespace virtio {

struct MmioState {
    VirtqueueState queues[kMaxQueues];
    uint64_t driver_features;
    uint32_t status;
    uint32_t device_features_sel, driver_features_sel;
    uint32_t queue_sel;
    uint32_t interrupt_status;
    uint32_t guest_page_size;
    uint32_t config_generation;
};

class Mmio : public ts::Device, public Transport {
public:
    static constexpr const char *type_name = "virtio-mmio";
    static constexpr uint64_t kSize = 0x200;
    static constexpr uint64_t kConfig = 0x100;
    MmioState s{};

    explicit Mmio(ts_object *obj) : ts::Device(obj) {}
    void realize();
    void reset();
    void post_load();
    void plug(ts_object *child);
    void unplug(ts_object *child);

    uint64_t read(uint64_t offset, unsigned size);
    void write(uint64_t offset, unsigned size, uint64_t value);

    // Transport
    Virtqueue &queue(unsigned index) override { return *queues_.at(index); }
    void notify_used(unsigned index) override;
    void config_changed() override;
    void needs_reset(const char *why) override;
    bool driver_ok() const override { return s.status & kStatusDriverOk; }
    uint64_t negotiated_features() const override { return s.driver_features; }

    // Registers
    uint64_t rd_magic() { return 0x74726976; }  // "virt"
    uint64_t rd_version() { return legacy_ ? 1 : 2; }
    uint64_t rd_device_id() { return dev_ ? dev_->device_id() : 0; }
    uint64_t rd_vendor_id() { return 0x554d4551; }  // "QEMU", as drivers expect
    uint64_t rd_device_features();
    void wr_device_features_sel(uint64_t v) { s.device_features_sel = static_cast<uint32_t>(v); }
    void wr_driver_features(uint64_t v);
    void wr_driver_features_sel(uint64_t v) { s.driver_features_sel = static_cast<uint32_t>(v); }
    void wr_guest_page_size(uint64_t v);
    void wr_queue_sel(uint64_t v) { s.queue_sel = static_cast<uint32_t>(v); }
    uint64_t rd_queue_num_max();
    void wr_queue_num(uint64_t v);
    void wr_queue_align(uint64_t v);
    uint64_t rd_queue_pfn();
    void wr_queue_pfn(uint64_t v);
    uint64_t rd_queue_ready();
    void wr_queue_ready(uint64_t v);
    void wr_queue_notify(uint64_t v);
    uint64_t rd_interrupt_status() { return s.interrupt_status; }
    void wr_interrupt_ack(uint64_t v);
    uint64_t rd_status() { return s.status; }
    void wr_status(uint64_t v);
    uint64_t rd_queue_addr(unsigned i);
    void wr_queue_addr(unsigned i, uint64_t v);
    uint64_t rd_config_generation() { return s.config_generation; }

private:
    VirtqueueState *selected();  // nullptr if queue_sel is out of range
    uint64_t offered_features() const;
    void legacy_layout(VirtqueueState &q);
    void update_irq() { irq_.set(s.interrupt_status != 0); }
    void reset_device();

    bool legacy_ = false;
    virtio::Device *dev_ = nullptr;
    ts_object *child_ = nullptr;
    ts::IrqOut irq_;
    std::vector<std::unique_ptr<Virtqueue>> queues_;
    std::vector<ts::Reg<Mmio>> regs_;
};

// Maps a plugged child to its virtio::Device (nullptr: not a virtio device
// of this plugin). Defined in plugin.cpp, which knows all device types.
Device *as_virtio_device(ts_object *child);

}  // namespace virtio
