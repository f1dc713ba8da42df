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
    [](void *o, int on) { static_cast<Net *>(o)->set_vnet(on != 0); },
};

// The reference's default MACs when the kernel does not hand them out.
unsigned g_mac_index = 0;

constexpr size_t kMaxFrame = 65535 + 18;  // an IP packet of 64 KiB behind a VLAN tag

}  // namespace

Net::~Net() {
    if (bh_) ts::host().bh_free(bh_);
}

void Net::realize() {
    // The properties exist on both transports; a test host may lack them.
    struct Switch {
        const char *prop;
        uint64_t bits;
    };
    static constexpr Switch kSwitches[] = {
        {"csum", kFCsum | kFHostTso4 | kFHostTso6 | kFHostEcn},  // TSO needs CSUM
        {"guest_csum", kFGuestCsum | kFGuestTso4 | kFGuestTso6},  // and GUEST_TSO GUEST_CSUM
        {"host_tso4", kFHostTso4},
        {"host_tso6", kFHostTso6},
        {"host_ecn", kFHostEcn},
        {"guest_tso4", kFGuestTso4},
        {"guest_tso6", kFGuestTso6},
        {"mrg_rxbuf", kFMrgRxbuf},
    };
    offered_ = kFMac | kFStatus | kFMrgRxbuf | kFCsum | kFGuestCsum | kFHostTso4 | kFHostTso6 | kFHostEcn |
               kFGuestTso4 | kFGuestTso6;
    for (const Switch &sw : kSwitches) {
        int on = 1;
        if (ts::host().prop_get_bool(object(), sw.prop, &on) == TS_OK && !on) offered_ &= ~sw.bits;
    }
    if (!(offered_ & (kFHostTso4 | kFHostTso6))) offered_ &= ~kFHostEcn;
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
    // Receive coalescing needs to know when a burst ends: a bottom half.
    if (h.bh_new && h.bh_schedule && h.bh_free)
        bh_ = h.bh_new([](void *o) { ts::contained(Net::type_name, [&] { static_cast<Net *>(o)->end_of_batch(); }); },
                       this);
    fill_config();
}

uint64_t Net::device_features() const {
    // Joining received segments needs the bottom half that ends a burst.
    return bh_ ? offered_ : offered_ & ~(kFGuestTso4 | kFGuestTso6);
}

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
    if (!up) drop_held();
    fill_config();
    if (transport_ && transport_->driver_ok()) transport_->config_changed();
}

void Net::handle_queue(unsigned index) {
    if (index == kTx) return transmit();
    if (index != kRx) return;
    // New buffers: frames held here go first, then those the kernel holds.
    deliver_held();
    if (nc_ && held_.empty()) ts::host().net_flush(nc_);
}

void Net::send_out(std::span<const uint8_t> frame) {
    if (link_up_ && nc_) ts::host().net_send(nc_, frame.data(), frame.size());
}

void Net::transmit() {
    // What the backend answers while we send (slirp acks and sends data
    // right away) is one burst, ended below without the bottom half.
    struct TxScope {
        bool &flag;
        explicit TxScope(bool &f) : flag(f) { flag = true; }
        ~TxScope() { flag = false; }
    };
    {
        TxScope scope(in_tx_);
        transmit_chains();
    }
    if (in_burst_) end_of_batch();
}

void Net::transmit_chains() {
    const size_t hl = header_len();
    const uint64_t f = transport_ ? transport_->negotiated_features() : 0;
    drain(kTx, [&](const Chain &c) -> uint32_t {
        if (c.out_len < hl || c.out_len - hl > kMaxFrame) {
            ts::guest_error("%s: transmit buffer of %llu bytes", path(), static_cast<unsigned long long>(c.out_len));
            return 0;
        }
        std::array<uint8_t, 12> raw{};
        c.read(0, std::span(raw.data(), hl));
        const auto hdr = offload::VnetHdr::parse(std::span(raw.data(), hl));
        if (vnet_) {
            // The peer takes the header as it is (num_buffers 0 in the
            // 12-byte form even when the driver's is 10 bytes).
            buf_.assign(raw.begin(), raw.end());
            buf_[10] = buf_[11] = 0;
            buf_.resize(raw.size() + c.out_len - hl);
            c.read(hl, std::span(buf_).subspan(raw.size()));
        } else {
            buf_.resize(c.out_len - hl);
            c.read(hl, buf_);
        }
        if (hdr.gso_type != offload::VnetHdr::kGsoNone) {
            const uint8_t kind = hdr.gso_type & static_cast<uint8_t>(~offload::VnetHdr::kGsoEcn);
            const bool allowed = (kind == offload::VnetHdr::kGsoTcpv4 && (f & kFHostTso4)) ||
                                 (kind == offload::VnetHdr::kGsoTcpv6 && (f & kFHostTso6));
            if (!allowed || ((hdr.gso_type & offload::VnetHdr::kGsoEcn) && !(f & kFHostEcn))) {
                ts::guest_error("%s: gso_type 0x%x was not negotiated", path(), hdr.gso_type);
                return 0;
            }
            if (vnet_) {
                send_out(buf_);
                return 0;
            }
            if (!offload::segment(hdr, buf_, [&](std::span<const uint8_t> s) { send_out(s); }))
                ts::guest_error("%s: a %zu-byte TSO frame does not match its header (gso_size %u)", path(),
                                buf_.size(), hdr.gso_size);
            return 0;
        }
        if (!vnet_ && (f & kFCsum) && (hdr.flags & offload::VnetHdr::kNeedsCsum) &&
            !complete_checksum(buf_, hdr.csum_start, hdr.csum_offset))
            ts::guest_error("%s: checksum offsets %u+%u outside a %zu-byte frame", path(), hdr.csum_start,
                            hdr.csum_offset, buf_.size());
        send_out(buf_);
        return 0;
    });
}

bool Net::can_receive() {
    if (!transport_ || !transport_->driver_ok() || !link_up_ || !held_.empty()) return false;
    try {
        return transport_->queue(kRx).has_avail();
    } catch (const GuestError &e) {
        transport_->needs_reset(e.what());
        return false;
    }
}

// A frame from the backend. TCP data segments join the open group (sent at
// the end of the burst); anything else ends the group and goes in order.
void Net::receive(std::span<const uint8_t> frame) {
    if (!transport_ || !transport_->driver_ok() || !link_up_) return;
    const uint64_t f = transport_->negotiated_features();
    if (vnet_) return receive_vnet(frame, f);
    if (bh_ && (f & kFGuestCsum) && (f & (kFGuestTso4 | kFGuestTso6))) {
        const bool v4 = f & kFGuestTso4, v6 = f & kFGuestTso6;
        if (auto L = offload::Coalescer::candidate(frame, v4, v6)) {
            if (!group_.append(frame, *L)) {
                close_group();
                group_.start(frame, *L);
                start_burst();
            }
            if (group_.closed()) close_group();
            deliver_held();
            return;
        }
        // Pure ACKs: the first of a burst goes at once (a lone ACK must not
        // wait), later ones of the burst are merged.
        if (auto L = offload::Coalescer::ack_candidate(frame, v4, v6); L && in_burst_) {
            if (!group_.append_ack(frame, *L)) {
                close_group();
                group_.start_ack(frame, *L);
            }
            deliver_held();
            return;
        }
        close_group();
        start_burst();
    }
    offload::VnetHdr hdr;
    if (f & kFGuestCsum) {
        auto L = offload::parse(frame);
        if (L && offload::l4_checksum_ok(frame, *L)) hdr.flags = offload::VnetHdr::kDataValid;
    }
    enqueue(frame, hdr);
}

// A frame with the peer's header (a vnet tap): what the guest negotiated
// passes as it is; a GSO type it did not is segmented here, a partial
// checksum it cannot take is completed.
void Net::receive_vnet(std::span<const uint8_t> frame, uint64_t f) {
    if (frame.size() <= 12) return;
    offload::VnetHdr hdr = offload::VnetHdr::parse(frame.first(12));
    hdr.num_buffers = 0;
    std::span<const uint8_t> body = frame.subspan(12);
    const uint8_t kind = hdr.gso_type & static_cast<uint8_t>(~offload::VnetHdr::kGsoEcn);
    if (hdr.gso_type != offload::VnetHdr::kGsoNone) {
        const bool takes = !(hdr.gso_type & offload::VnetHdr::kGsoEcn) &&
                           ((kind == offload::VnetHdr::kGsoTcpv4 && (f & kFGuestTso4)) ||
                            (kind == offload::VnetHdr::kGsoTcpv6 && (f & kFGuestTso6)));
        if (!takes) {
            offload::VnetHdr sh;
            if (f & kFGuestCsum) sh.flags = offload::VnetHdr::kDataValid;
            if (!offload::segment(hdr, body, [&](std::span<const uint8_t> s) { enqueue(s, sh); }))
                ts::log_unimp("%s: a %zu-byte GSO frame (type 0x%x) from the peer could not be segmented", path(),
                              body.size(), hdr.gso_type);
            return;
        }
    }
    if ((hdr.flags & offload::VnetHdr::kNeedsCsum) && !(f & kFGuestCsum)) {
        std::vector<uint8_t> copy(body.begin(), body.end());
        complete_checksum(copy, hdr.csum_start, hdr.csum_offset);
        hdr.flags = 0;
        return enqueue(copy, hdr);
    }
    if (!(f & kFGuestCsum)) hdr.flags &= static_cast<uint8_t>(~offload::VnetHdr::kDataValid);
    enqueue(body, hdr);
}

void Net::enqueue(std::span<const uint8_t> frame, const offload::VnetHdr &hdr) {
    if (held_.empty()) {
        const Put r = put(frame, hdr);
        if (r == Put::Failed) return;
        if (r == Put::Done) return transport_->notify_used(kRx);
    }
    held_.push_back({std::vector<uint8_t>(frame.begin(), frame.end()), hdr});
    deliver_held();
}

void Net::start_burst() {
    if (in_burst_) return;
    in_burst_ = true;
    // During transmit() the burst ends with it; else when the main loop has
    // dispatched what woke it (the bottom half runs after that).
    if (!in_tx_) ts::host().bh_schedule(bh_);
}

void Net::end_of_batch() {
    in_burst_ = false;
    close_group();
    deliver_held();
}

void Net::close_group() {
    if (!group_.active()) return;
    Held h;
    h.frame = group_.take(h.hdr);
    held_.push_back(std::move(h));
}

void Net::drop_held() {
    in_burst_ = false;
    group_.clear();
    held_.clear();
}

void Net::deliver_held() {
    if (!transport_) return;
    bool any = false;
    while (!held_.empty()) {
        Held &h = held_.front();
        const Put r = put(h.frame, h.hdr);
        if (r == Put::Failed) return drop_held();
        if (r == Put::NoRoom) break;
        if (r == Put::TooBig) {
            // A joined frame larger than every buffer the driver gave:
            // hand it over as the segments it was made of.
            Held big = std::move(h);
            held_.pop_front();
            std::vector<Held> parts;
            offload::segment(big.hdr, big.frame, [&](std::span<const uint8_t> s) {
                offload::VnetHdr ph;
                ph.flags = offload::VnetHdr::kDataValid;
                parts.push_back({std::vector<uint8_t>(s.begin(), s.end()), ph});
            });
            for (auto it = parts.rbegin(); it != parts.rend(); ++it) held_.push_front(std::move(*it));
            continue;
        }
        held_.pop_front();
        any = true;
    }
    if (any) transport_->notify_used(kRx);
}

// One frame into one buffer or, with mergeable buffers, as many as it takes;
// the header's num_buffers says how many. No interrupt here: callers raise
// one per burst.
Net::Put Net::put(std::span<const uint8_t> frame, offload::VnetHdr hdr) {
    const uint64_t f = transport_->negotiated_features();
    const bool mrg = f & kFMrgRxbuf;
    const bool gso = hdr.gso_type != offload::VnetHdr::kGsoNone;
    const size_t hl = header_len();
    Virtqueue &vq = transport_->queue(kRx);
    std::vector<Chain> chains;
    std::vector<uint32_t> written;
    try {
        const size_t total = frame.size() + hl;
        size_t done = 0;
        while (done < total) {
            auto c = vq.pop();
            if (!c) {
                vq.unpop(static_cast<unsigned>(chains.size()));
                // Wait for the driver to add buffers, unless even the whole
                // ring is too small: then a joined frame goes as its
                // segments and any other is dropped.
                if (chains.size() < vq.size()) return Put::NoRoom;
                if (gso) return Put::TooBig;
                ts::guest_error("%s: a %zu-byte frame is larger than all receive buffers", path(), frame.size());
                return Put::Done;
            }
            const size_t room = c->in_len;
            if (done == 0 && room < hl) {
                vq.push(*c, 0);  // unusable: hand it back empty
                throw GuestError("receive buffer smaller than the virtio-net header");
            }
            if (!mrg && gso && room < total) {
                vq.unpop(1);
                return Put::TooBig;
            }
            const size_t n = std::min(room, total - done);
            if (done == 0) {
                hdr.num_buffers = 1;  // fixed below
                const auto hb = hdr.bytes();
                c->write(0, std::span<const uint8_t>(hb.data(), hl));
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
        return Put::Failed;
    }
    return Put::Done;
}

}  // namespace virtio
