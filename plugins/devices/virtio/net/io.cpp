#include "net.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdio>

namespace virtio {

namespace {

const ts_net_nic_ops kNicOps = {
    sizeof(ts_net_nic_ops),
    [](void *o) -> int {
        int r = 0;
        ts::contained(Net::type_name, [&] { r = static_cast<Net *>(o)->can_receive(); });
        return r;
    },
    [](void *o, const uint8_t *f, size_t len) {
        ts::contained(Net::type_name, [&] { static_cast<Net *>(o)->receive({f, len}); });
    },
    [](void *o, int up) { ts::contained(Net::type_name, [&] { static_cast<Net *>(o)->link_changed(up != 0); }); },
};

// The reference's default MACs when the kernel does not hand them out.
unsigned g_mac_index = 0;

constexpr size_t kMaxFrame = 65535 + 14;

}  // namespace

bool complete_checksum(std::span<uint8_t> frame, size_t start, size_t offset) {
    if (start >= frame.size() || offset + 2 > frame.size() - start) return false;
    uint32_t sum = 0;
    for (size_t i = start; i + 1 < frame.size(); i += 2) sum += static_cast<uint32_t>(frame[i] << 8 | frame[i + 1]);
    if ((frame.size() - start) & 1) sum += static_cast<uint32_t>(frame.back() << 8);
    // The driver left the pseudo-header sum in the field; it is part of the sum above.
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    const auto c = static_cast<uint16_t>(~sum);
    frame[start + offset] = static_cast<uint8_t>(c >> 8);
    frame[start + offset + 1] = static_cast<uint8_t>(c);
    return true;
}

void Net::realize() {
    std::string_view mac = prop_str("mac");
    if (!mac.empty()) {
        unsigned b[6];
        if (std::sscanf(std::string(mac).c_str(), "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
            throw ts::Error("Property 'mac' expects a MAC address");
        for (int i = 0; i < 6; i++) mac_[i] = static_cast<uint8_t>(b[i]);
    } else if (ts::host().size >= offsetof(ts_host, net_default_mac) + sizeof(void *) && ts::host().net_default_mac) {
        ts::host().net_default_mac(mac_.data());
    } else {
        unsigned n = g_mac_index++;
        mac_ = {0x52, 0x54, 0x00, 0x12, 0x34, static_cast<uint8_t>(0x56 + n)};
    }
    if (mac_[0] & 1) throw ts::Error("Property 'mac': a multicast MAC address cannot be a NIC's");
    // The net entries came after ABI 1.0: without them the NIC has no link.
    const ts_host &h = ts::host();
    const bool have_net = h.size >= offsetof(ts_host, net_set_info) + sizeof(h.net_set_info) && h.net_nic_attach;
    if (!have_net) {
        if (!prop_str("netdev").empty()) throw ts::Error("this tessera kernel has no networking");
        fill_config();
        return;
    }
    ts_error err{};
    nc_ = h.net_nic_attach(object(), "netdev", &kNicOps, this, &err);
    if (!nc_) throw ts::Error(err.message);
    char info[96];
    std::snprintf(info, sizeof info, "model=%s,macaddr=%02x:%02x:%02x:%02x:%02x:%02x",
                  ts::host().object_type(object()), mac_[0], mac_[1], mac_[2], mac_[3], mac_[4], mac_[5]);
    ts::host().net_set_info(nc_, info);
    link_up_ = ts::host().net_link_up(nc_) != 0;
    fill_config();
}

uint64_t Net::device_features() const { return kFMac | kFStatus | kFMrgRxbuf | kFCsum | kFGuestCsum; }

void Net::fill_config() {
    std::copy(mac_.begin(), mac_.end(), config_.begin());
    put_le(config_, 6, link_up_ ? kLinkUp : 0, 2);
    put_le(config_, 8, 1, 2);      // max_virtqueue_pairs
    put_le(config_, 10, 1500, 2);  // mtu (read only with VIRTIO_NET_F_MTU)
}

size_t Net::header_len() const {
    const uint64_t f = transport_ ? transport_->negotiated_features() : 0;
    return (f & (kFVersion1 | kFMrgRxbuf)) ? 12 : 10;
}

void Net::link_changed(bool up) {
    link_up_ = up;
    fill_config();
    if (transport_ && transport_->driver_ok()) transport_->config_changed();
}

void Net::handle_queue(unsigned index) {
    if (index == kTx) transmit();
    else if (index == kRx && nc_) ts::host().net_flush(nc_);  // new buffers: frames held by the kernel can go
}

void Net::transmit() {
    const size_t hl = header_len();
    const bool csum = transport_ && (transport_->negotiated_features() & kFCsum);
    drain(kTx, [&](const Chain &c) -> uint32_t {
        if (c.out_len < hl || c.out_len - hl > kMaxFrame) {
            ts::guest_error("%s: transmit buffer of %llu bytes", path(), static_cast<unsigned long long>(c.out_len));
            return 0;
        }
        std::array<uint8_t, 12> hdr{};
        c.read(0, std::span(hdr.data(), hl));
        buf_.resize(c.out_len - hl);
        c.read(hl, buf_);
        if (csum && (hdr[0] & kHdrNeedsCsum)) {
            const size_t start = get_le(hdr, 6, 2), off = get_le(hdr, 8, 2);
            if (!complete_checksum(buf_, start, off))
                ts::guest_error("%s: checksum offsets %zu+%zu outside a %zu-byte frame", path(), start, off,
                                buf_.size());
        }
        if (hdr[1] != 0) ts::log_unimp("%s: segmentation offload (gso_type %u) was not negotiated", path(), hdr[1]);
        if (link_up_ && nc_) ts::host().net_send(nc_, buf_.data(), buf_.size());
        return 0;
    });
}

bool Net::can_receive() {
    if (!transport_ || !transport_->driver_ok() || !link_up_) return false;
    try {
        return transport_->queue(kRx).has_avail();
    } catch (const GuestError &e) {
        transport_->needs_reset(e.what());
        return false;
    }
}

// One frame into one buffer or, with mergeable buffers, as many as it takes;
// the header's num_buffers says how many.
void Net::receive(std::span<const uint8_t> frame) {
    if (!transport_) return;
    const uint64_t f = transport_->negotiated_features();
    const bool mrg = f & kFMrgRxbuf;
    const size_t hl = header_len();
    Virtqueue &vq = transport_->queue(kRx);
    std::vector<Chain> chains;
    std::vector<uint32_t> written;
    try {
        size_t total = frame.size() + hl, done = 0;
        while (done < total) {
            auto c = vq.pop();
            if (!c) {
                // Not enough buffers: give them back and drop the frame, as
                // the reference does when it was told it could receive.
                vq.unpop(static_cast<unsigned>(chains.size()));
                ts::guest_error("%s: no receive buffer for a %zu-byte frame", path(), frame.size());
                return;
            }
            const size_t room = c->in_len;
            if (done == 0 && room < hl) {
                vq.push(*c, 0);  // unusable: hand it back empty
                transport_->notify_used(kRx);
                throw GuestError("receive buffer smaller than the virtio-net header");
            }
            size_t n = std::min(room, total - done);
            if (done == 0) {
                std::array<uint8_t, 12> hdr{};
                if (f & kFGuestCsum) hdr[0] = kHdrDataValid;  // the backend's frames carry valid sums
                if (hl == 12) put_le(hdr, 10, 1, 2);           // num_buffers, fixed below
                size_t h = std::min(n, hl);
                c->write(0, std::span<const uint8_t>(hdr.data(), h));
                if (n > hl) c->write(hl, frame.first(n - hl));
            } else {
                c->write(0, frame.subspan(done - hl, n));
            }
            done += n;
            chains.push_back(std::move(*c));
            written.push_back(static_cast<uint32_t>(n));
            if (!mrg) break;  // one buffer: a longer frame is truncated
        }
        if (chains.size() > 1) {
            std::array<uint8_t, 2> nb{};
            put_le(nb, 0, chains.size(), 2);
            chains[0].write(10, nb);
        }
        vq.push_batch(chains, written);
    } catch (const GuestError &e) {
        transport_->needs_reset(e.what());
        return;
    }
    transport_->notify_used(kRx);
}

}  // namespace virtio
