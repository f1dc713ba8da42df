// The modern virtio-pci transport (virtio 1.2, 4.1): common, notify, ISR and
// device configuration structures in BAR 4, MSI-X in BAR 1, INTx otherwise.
// The device models are the virtio plugin's (blk, rng, net), compiled in.
#pragma once

#include "pci.hpp"

#include "../virtio/virtio.hpp"

#include <memory>

namespace pci {

// A virtio-pci function's guest-visible state for snapshots: copied from the
// transport, config space and MSI-X table before a save, and back after a
// load (the live copies stay where the code uses them).
inline constexpr unsigned kMsixMaxVectors = virtio::kMaxQueues + 1;
struct VirtioPciState {
    uint8_t config[kConfigSize];
    virtio::VirtqueueState queues[virtio::kMaxQueues];
    uint16_t queue_vector[virtio::kMaxQueues];
    uint64_t driver_features;
    uint32_t dfselect, gfselect;
    uint16_t queue_sel, config_vector;
    uint8_t status, isr, generation, intx;
    uint8_t msix_table[kMsixMaxVectors * 16];
    uint64_t msix_pba[1];
};

class VirtioPci : public ts::Device, public Function, public virtio::Transport {
public:
    static constexpr unsigned kCapBar = 4, kMsixBar = 1;
    static constexpr uint64_t kCapBarSize = 0x4000, kMsixBarSize = 0x1000;
    static constexpr uint64_t kCommon = 0x0, kIsr = 0x1000, kDevice = 0x2000, kNotify = 0x3000;
    static constexpr uint32_t kNotifyMultiplier = 4;
    static constexpr uint16_t kNoVector = 0xffff;

    VirtioPciState s{};

    explicit VirtioPci(ts_object *obj) : ts::Device(obj) {}
    void pre_save();
    void post_load();
    const char *name() const override { return ts::host().object_type(object()); }

    // Transport
    virtio::Virtqueue &queue(unsigned index) override { return *queues_.at(index); }
    void notify_used(unsigned index) override;
    void config_changed() override;
    void needs_reset(const char *why) override;
    bool driver_ok() const override { return status_ & virtio::kStatusDriverOk; }
    uint64_t negotiated_features() const override { return driver_features_; }

    // BAR 4 and BAR 1 accesses.
    uint64_t cap_read(uint64_t off, unsigned size);
    void cap_write(uint64_t off, unsigned size, uint64_t value);
    uint64_t msix_read(uint64_t off, unsigned size) { return msix_.read(off, size); }
    void msix_write(uint64_t off, unsigned size, uint64_t value) { msix_.write(off, size, value); }

protected:
    // After the device model exists: PCI identity, capabilities, BARs, queues.
    void realize_transport(virtio::Device &dev, uint32_t pci_class);
    void reset_transport();

private:
    uint64_t common_read(uint64_t off, unsigned size);
    void common_write(uint64_t off, unsigned size, uint64_t value);
    void set_status(uint8_t v);
    uint64_t offered_features() const;
    void add_virtio_cap(uint8_t type, uint32_t offset, uint32_t length, unsigned extra = 0);

    virtio::Device *dev_ = nullptr;
    virtio::VirtqueueState qs_[virtio::kMaxQueues]{};
    std::vector<std::unique_ptr<virtio::Virtqueue>> queues_;
    std::array<uint16_t, virtio::kMaxQueues> queue_vector_{};
    uint64_t driver_features_ = 0;
    uint32_t dfselect_ = 0, gfselect_ = 0;
    uint16_t queue_sel_ = 0, config_vector_ = kNoVector;
    uint8_t status_ = 0, isr_ = 0, generation_ = 0;
    Msix msix_;
};

// One virtio-pci type per device model D (virtio::Blk, Rng, Net).
template <class D>
class VirtioPciOf : public VirtioPci {
public:
    VirtioPciOf(ts_object *obj) : VirtioPci(obj), dev_(obj) {}
    void realize() {
        dev_.realize();
        realize_transport(dev_, pci_class());
    }
    void reset() { reset_transport(); }

private:
    static uint32_t pci_class();
    D dev_;
};

}  // namespace pci
