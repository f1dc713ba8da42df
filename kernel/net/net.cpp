#include "net/net.hpp"

#include "options/error.hpp"

#include <algorithm>
#include <chrono>
#include <map>

namespace tessera::net {

namespace {

std::vector<std::unique_ptr<Client>> g_clients;
std::map<int, Hub> g_hubs;

int64_t wall_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

void capture(Client &c, std::span<const uint8_t> frame) {
    if (c.dumps.empty()) return;
    if (c.vnet) frame = frame.subspan(std::min(frame.size(), kVnetHdrLen));  // the pcap has the frame only
    const int64_t t = wall_ns();
    for (auto &d : c.dumps) d->write(frame, t);
}

// One frame into one client: queued while it cannot take it.
bool deliver(Client &to, std::span<const uint8_t> frame) {
    if (!to.link_up) return false;
    if (to.kind == ClientKind::Netdev) capture(to, frame);
    if (!to.queue.empty() || (to.can_receive && !to.can_receive())) {
        if (to.queue.size() >= kQueueLimit) {
            to.dropped++;
            return false;
        }
        to.queue.emplace_back(frame.begin(), frame.end());
        return true;
    }
    to.rx_frames++;
    if (to.receive) to.receive(frame);
    return true;
}

}  // namespace

Client &client_new(ClientKind kind, std::string name, std::string type) {
    if (kind != ClientKind::Nic && client_find(name))
        throw UsageError("Duplicate ID '" + name + "' for netdev");
    auto c = std::make_unique<Client>();
    c->kind = kind;
    c->name = std::move(name);
    c->type = std::move(type);
    g_clients.push_back(std::move(c));
    return *g_clients.back();
}

Client *client_find(std::string_view name) {
    for (auto &c : g_clients)
        if (c->kind != ClientKind::Nic && c->name == name) return c.get();
    return nullptr;
}

Client *client_find_any(std::string_view name) {
    if (Client *c = client_find(name)) return c;
    for (auto &c : g_clients)
        if (c->name == name) return c.get();
    return nullptr;
}

const std::vector<std::unique_ptr<Client>> &clients() { return g_clients; }

void clients_clear() {
    g_clients.clear();
    g_hubs.clear();
}

void connect(Client &a, Client &b) {
    if (a.peer) throw UsageError("Property 'netdev' can't take value '" + a.name + "', it's in use");
    if (b.peer) throw UsageError("Property 'netdev' can't take value '" + b.name + "', it's in use");
    a.peer = &b;
    b.peer = &a;
}

bool negotiate_vnet(Client &nic) {
    Client *nd = nic.peer;
    if (!nd || nd->kind != ClientKind::Netdev || !nic.set_vnet || !nd->set_vnet || !nd->vnet_capable ||
        !nd->vnet_capable())
        return false;
    nic.vnet = nd->vnet = true;
    nd->set_vnet(true);
    nic.set_vnet(true);
    return true;
}

Hub *hub_find(int id) {
    auto it = g_hubs.find(id);
    return it == g_hubs.end() ? nullptr : &it->second;
}

Client &hub_add_port(int hub_id) {
    Hub &h = g_hubs[hub_id];
    h.id = hub_id;
    std::string name = "hub" + std::to_string(hub_id) + "port" + std::to_string(h.ports.size());
    Client &p = client_new(ClientKind::HubPort, name, "hubport");
    p.hub = &h;
    // A frame arriving on a port from its peer goes to every other port's peer.
    p.receive = [&h, &p](std::span<const uint8_t> f) {
        for (Client *o : h.ports)
            if (o != &p && o->peer) deliver(*o->peer, f);
    };
    h.ports.push_back(&p);
    return p;
}

bool send(Client &from, std::span<const uint8_t> frame) {
    if (!from.link_up) return false;
    from.tx_frames++;
    if (from.kind == ClientKind::Netdev) capture(from, frame);
    if (!from.peer) {
        from.dropped++;
        return false;
    }
    return deliver(*from.peer, frame);
}

void flush(Client &c) {
    while (!c.queue.empty() && (!c.can_receive || c.can_receive())) {
        std::vector<uint8_t> f = std::move(c.queue.front());
        c.queue.pop_front();
        c.rx_frames++;
        if (c.receive) c.receive(f);
    }
}

void set_link(std::string_view name, bool up) {
    Client *c = client_find_any(name);
    if (!c) throw UsageError("Device '" + std::string(name) + "' not found");
    for (Client *x : {c, c->peer}) {
        if (!x || x->link_up == up) continue;
        x->link_up = up;
        if (!up) x->queue.clear();
        if (x->link_changed) x->link_changed(up);
    }
}

void add_dump(std::string_view netdev, std::shared_ptr<PcapWriter> w) {
    Client *c = client_find(netdev);
    if (!c) throw UsageError("netdev '" + std::string(netdev) + "' not found");
    c->dumps.push_back(std::move(w));
}

std::string info_text() {
    std::string s;
    auto line = [](const Client &c) {
        std::string l = c.name + ": index=0,type=" + c.type;
        if (!c.info.empty()) l += "," + c.info;
        if (!c.link_up) l += " [link=down]";
        return l + "\n";
    };
    // NICs with their peer under them, then unattached netdevs, then hubs with
    // what is on each port.
    for (auto &c : g_clients) {
        if (c->kind != ClientKind::Nic || (c->peer && c->peer->kind == ClientKind::HubPort)) continue;  // under its hub
        s += line(*c);
        if (c->peer) s += " \\ " + line(*c->peer);
    }
    for (auto &c : g_clients)
        if (c->kind == ClientKind::Netdev && !c->peer) s += line(*c);
    for (auto &[id, h] : g_hubs) {
        s += "hub " + std::to_string(id) + "\n";
        for (Client *p : h.ports) {
            s += " \\ " + p->name;
            if (p->peer) s += ": " + line(*p->peer);
            else s += "\n";
        }
    }
    return s;
}

}  // namespace tessera::net
