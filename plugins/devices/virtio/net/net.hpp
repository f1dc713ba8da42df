// virtio-net-device (virtio 1.2, 5.1): one receive and one transmit queue on
// the netdev= backend; MAC, link STATUS, mergeable receive buffers, and the
// checksum flags (the backend gets whole frames, so a partial checksum the
// driver leaves, with CSUM negotiated, is completed here).
#pragma once

#include "../virtio.hpp"

#include <tessera/net.h>

#include <array>
#include <vector>

namespace virtio {

class Net : public ts::Device, public virtio::Device {
public:
    static constexpr const char *type_name = "virtio-net-device";
    static constexpr unsigned kQueueSize = 256;
    static constexpr unsigned kRx = 0, kTx = 1;
    // Feature bits (5.1.3).
    static constexpr uint64_t kFCsum = 1ull << 0, kFGuestCsum = 1ull << 1, kFMac = 1ull << 5,
                              kFMrgRxbuf = 1ull << 15, kFStatus = 1ull << 16;
    // virtio_net_hdr flags and the config status bit.
    static constexpr uint8_t kHdrNeedsCsum = 1, kHdrDataValid = 2;
    static constexpr uint16_t kLinkUp = 1;

    explicit Net(ts_object *obj) : ts::Device(obj) {}
    void realize();

    uint32_t device_id() const override { return 1; }
    uint64_t device_features() const override;
    unsigned num_queues() const override { return 2; }
    unsigned queue_max(unsigned) const override { return kQueueSize; }
    std::span<uint8_t> config() override { return config_; }
    void config_written(uint64_t, unsigned) override { fill_config(); }  // read-only
    void handle_queue(unsigned index) override;
    void driver_ready() override {
        if (nc_) ts::host().net_flush(nc_);
    }
    void device_reset() override {}

    // Net front end (called by the kernel's net core).
    bool can_receive();
    void receive(std::span<const uint8_t> frame);
    void link_changed(bool up);

    // virtio_net_hdr length for the negotiated features (10 legacy, 12 with
    // VERSION_1 or MRG_RXBUF).
    size_t header_len() const;

private:
    void transmit();
    void fill_config();

    ts_net_client *nc_ = nullptr;
    std::array<uint8_t, 6> mac_{};
    bool link_up_ = true;
    std::array<uint8_t, 12> config_{};
    std::vector<uint8_t> buf_;
};

// Completes a partial checksum: the 16-bit one's complement sum of
// frame[start..] stored at start+offset (virtio-net NEEDS_CSUM). Exposed for
// tests; false if the offsets are outside the frame.
bool complete_checksum(std::span<uint8_t> frame, size_t start, size_t offset);

}  // namespace virtio
