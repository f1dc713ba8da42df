// virtio-net-device (virtio 1.2, 5.1): one receive and one transmit queue on
// the netdev= backend; MAC, link STATUS, mergeable receive buffers, and the
// offloads (offload.hpp). Backends take whole frames without a virtio-net
// header, so this device does the work the driver left: it completes partial
// checksums (CSUM) and segments TSO frames (HOST_TSO4/6, HOST_ECN) before
// sending; on receive it marks frames whose TCP/UDP checksum it verified
// (DATA_VALID, with GUEST_CSUM) and joins in-order TCP segments into GSO
// frames (GUEST_TSO4/6) until the main loop goes idle (a bottom half).
// A peer that takes virtio-net headers (a vnet tap, net.h set_vnet) gets
// and gives frames with their header unchanged instead.
#pragma once

#include "../virtio.hpp"
#include "offload.hpp"

#include <tessera/net.h>

#include <array>
#include <deque>
#include <vector>

// The offload switches, named as the reference's virtio-net properties
// (all on by default): a `kNetProps` list of both transports includes them.
#define VIRTIO_NET_OFFLOAD_PROPS                                                        \
    ts::prop_bool("csum", "on", "checksum offload (CSUM)"),                             \
        ts::prop_bool("guest_csum", "on", "verified receive checksums (GUEST_CSUM)"),   \
        ts::prop_bool("host_tso4", "on", "TSO over IPv4, segmented here (HOST_TSO4)"),  \
        ts::prop_bool("host_tso6", "on", "TSO over IPv6, segmented here (HOST_TSO6)"),  \
        ts::prop_bool("host_ecn", "on", "TSO with ECN (HOST_ECN)"),                     \
        ts::prop_bool("guest_tso4", "on", "joined TCP/IPv4 receive segments (GUEST_TSO4)"), \
        ts::prop_bool("guest_tso6", "on", "joined TCP/IPv6 receive segments (GUEST_TSO6)"), \
        ts::prop_bool("mrg_rxbuf", "on", "mergeable receive buffers (MRG_RXBUF)")

namespace virtio {

class Net : public ts::Device, public virtio::Device {
public:
    static constexpr const char *type_name = "virtio-net-device";
    static constexpr unsigned kQueueSize = 256;
    static constexpr unsigned kRx = 0, kTx = 1;
    // Feature bits (5.1.3).
    static constexpr uint64_t kFCsum = 1ull << 0, kFGuestCsum = 1ull << 1, kFMac = 1ull << 5,
                              kFGuestTso4 = 1ull << 7, kFGuestTso6 = 1ull << 8, kFHostTso4 = 1ull << 11,
                              kFHostTso6 = 1ull << 12, kFHostEcn = 1ull << 13, kFMrgRxbuf = 1ull << 15,
                              kFStatus = 1ull << 16;
    static constexpr uint16_t kLinkUp = 1;

    explicit Net(ts_object *obj) : ts::Device(obj) {}
    ~Net() override;
    Net(const Net &) = delete;
    Net &operator=(const Net &) = delete;
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
    void device_reset() override { drop_held(); }
    // Frames held from before a loadvm are not the loaded guest's.
    void state_loaded() override { drop_held(); }

    // Net front end (called by the kernel's net core).
    bool can_receive();
    void receive(std::span<const uint8_t> frame);
    void link_changed(bool up);
    // The link carries virtio-net headers (a vnet tap): pass them through.
    void set_vnet(bool on) { vnet_ = on; }

    // virtio_net_hdr length for the negotiated features (10 legacy, 12 with
    // VERSION_1 or MRG_RXBUF).
    size_t header_len() const;

    // Ends the TCP group being joined and delivers what waits (the bottom
    // half; tests call it directly).
    void end_of_batch();

private:
    // A frame for the guest with its header, waiting for receive buffers.
    struct Held {
        std::vector<uint8_t> frame;
        offload::VnetHdr hdr;
    };
    enum class Put { Done, NoRoom, TooBig, Failed };

    void transmit();
    void transmit_chains();
    void send_out(std::span<const uint8_t> frame);
    void fill_config();
    void close_group();
    void receive_vnet(std::span<const uint8_t> frame, uint64_t features);
    // To the guest now, or held (in order) until buffers come.
    void enqueue(std::span<const uint8_t> frame, const offload::VnetHdr &hdr);
    // Frames arrive in a burst until the bottom half runs.
    void start_burst();
    // Writes held frames into receive buffers while there are some.
    void deliver_held();
    Put put(std::span<const uint8_t> frame, offload::VnetHdr hdr);
    void drop_held();

    ts_net_client *nc_ = nullptr;
    std::array<uint8_t, 6> mac_{};
    uint64_t offered_ = 0;  // feature bits the properties leave on
    bool link_up_ = true;
    bool vnet_ = false;
    std::array<uint8_t, 12> config_{};
    std::vector<uint8_t> buf_;
    offload::Coalescer group_;
    std::deque<Held> held_;
    ts_bh *bh_ = nullptr;
    bool in_burst_ = false;
    bool in_tx_ = false;  // inside transmit(): frames back are its answer
};

using offload::complete_checksum;

}  // namespace virtio
