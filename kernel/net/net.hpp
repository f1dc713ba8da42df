// The net core: clients (a NIC's or a netdev's end of a link), peers, hubs
// for the legacy -net form, receive queues, link state, filter-dump capture.
// Everything runs under the kernel lock; nothing here knows about plugins
// except through the callbacks a client is given (host_glue.cpp wires those).
#pragma once

#include "net/pcap.hpp"

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct ts_object;

namespace tessera::net {

struct Hub;

enum class ClientKind { Nic, Netdev, HubPort };

}  // namespace tessera::net

// A client. The C ABI's opaque ts_net_client is this struct.
struct ts_net_client {
    tessera::net::ClientKind kind;
    std::string name;   // netdev id, hub port name ("hub0port1") or NIC id/path
    std::string type;   // "user", "hubport", "virtio-net-device", ...
    std::string info;   // `info network` detail ("macaddr=..", "net=10.0.2.0,...")
    ts_net_client *peer = nullptr;
    tessera::net::Hub *hub = nullptr;
    ts_object *obj = nullptr;  // the netdev or NIC instance, if any

    // How frames reach this client. can_receive null: always ready.
    std::function<bool()> can_receive;
    std::function<void(std::span<const uint8_t>)> receive;
    std::function<void(bool up)> link_changed;
    // virtio-net headers on the link (net.h set_vnet): what the client can do,
    // how it is told, and whether its link carries them (both ends agreed).
    std::function<bool()> vnet_capable;
    std::function<void(bool on)> set_vnet;
    bool vnet = false;

    bool link_up = true;
    std::deque<std::vector<uint8_t>> queue;  // frames held while !can_receive()
    std::vector<std::shared_ptr<tessera::net::PcapWriter>> dumps;
    uint64_t rx_frames = 0, tx_frames = 0, dropped = 0;
};

namespace tessera::net {

using Client = ts_net_client;

inline constexpr size_t kQueueLimit = 1024;  // frames held per client before dropping

struct Hub {
    int id = 0;
    std::vector<Client *> ports;
};

// Registry. Names are unique among netdevs and hub ports (they share the
// -netdev id space, as in the reference).
Client &client_new(ClientKind kind, std::string name, std::string type);
Client *client_find(std::string_view name);             // netdev or hub port by name
Client *client_find_any(std::string_view name);         // also NICs
const std::vector<std::unique_ptr<Client>> &clients();
void clients_clear();                                   // tests and shutdown

// Links two clients both ways; throws UsageError if either is taken.
void connect(Client &a, Client &b);
// A NIC and the netdev it is linked to directly switch their link to
// vnet-prefixed frames when both can (set_vnet on both); true if they did.
bool negotiate_vnet(Client &nic);
inline constexpr size_t kVnetHdrLen = 12;
// Hub n (created on first use) gets a new port named hub<n>port<k>.
Client &hub_add_port(int hub_id);
Hub *hub_find(int id);

// A frame sent by `from` goes to its peer or to the other ports of its hub.
// Returns false if it was dropped (no peer, link down, queue full).
bool send(Client &from, std::span<const uint8_t> frame);
// Deliver queued frames while the client can take them.
void flush(Client &c);
// set_link: both ends of the link see it (as the reference's NIC+peer).
void set_link(std::string_view name, bool up);

// filter-dump: capture every frame entering or leaving a netdev.
void add_dump(std::string_view netdev, std::shared_ptr<PcapWriter> w);

// `info network` text.
std::string info_text();

}  // namespace tessera::net
