#include "plugins/abi_guard.hpp"
#include "net/config.hpp"

#include "log/log.hpp"
#include "net/net.hpp"
#include "qom/object.hpp"

#include <tessera/classes.h>

#include <cstddef>
#include <map>
#include <memory>

namespace tessera::net {

namespace {

// An option as given (for messages) and parsed.
struct Opt {
    std::string text;
    KeyVals kv;
};

struct NicRequest {
    KeyVals kv;          // model=, mac=, id=/name=
    std::string netdev;  // client the NIC attaches to
};

std::vector<Opt> g_netdevs;              // -netdev
std::vector<Opt> g_nics;                 // -nic
std::vector<Opt> g_nets;                 // -net (nic and backends, in order)
std::vector<NicRequest> g_nic_requests;  // filled by create_backends
std::map<const ts_object *, Client *> g_by_object;
unsigned g_anon = 0;

KeyVals parse(std::string_view opt, const std::string &arg) {
    try {
        return parse_keyval(arg, "type");
    } catch (const UsageError &e) {
        throw UsageError("-" + std::string(opt) + " " + arg + ": " + e.what());
    }
}

// Keys that may repeat (hostfwd=..,hostfwd=..) reach the plugin as one
// property with the values separated by newlines.
void set_props(ts_object *o, const KeyVals &kv, std::initializer_list<std::string_view> skip) {
    std::vector<std::pair<std::string, std::string>> merged;
    for (auto &[k, v] : kv.items) {
        bool skipped = false;
        for (auto s : skip) skipped |= k == s;
        if (skipped) continue;
        auto it = std::find_if(merged.begin(), merged.end(), [&](auto &p) { return p.first == k; });
        if (it == merged.end()) merged.emplace_back(k, v);
        else if (k == "hostfwd" || k == "guestfwd") it->second += "\n" + v;
        else it->second = v;
    }
    for (auto &[k, v] : merged) object_set_prop(o, k, v);
}

Client &create_netdev(const std::string &type, const std::string &id, const KeyVals &kv, std::string_view opt) {
    const TypeImpl &t = type_get(type, "-" + std::string(opt));
    if (t.kind != TypeKind::Netdev)
        throw UsageError("Parameter 'type' does not accept value '" + type + "'");
    Client &c = client_new(ClientKind::Netdev, id, type);
    ts_object *o = object_new_named(object_container("/netdevs"), type, id);
    c.obj = o;
    g_by_object[o] = &c;
    set_props(o, kv, {"type", "id", "name", "vlan", "model", "mac", "macaddr"});
    auto *nc = static_cast<const ts_netdev_class *>(t.cls);
    void *inst = o->instance;
    c.receive = [nc, inst](std::span<const uint8_t> f) {
        if (nc->receive) nc->receive(inst, f.data(), f.size());
    };
    // virtio-net headers (appended to the class in ABI 1.2).
    if (nc->size >= offsetof(ts_netdev_class, set_vnet) + sizeof(nc->set_vnet) && nc->vnet_capable && nc->set_vnet) {
        c.vnet_capable = [nc, inst] { return nc->vnet_capable(inst) != 0; };
        c.set_vnet = [nc, inst](bool on) { nc->set_vnet(inst, on); };
    }
    object_realize(o);
    return c;
}

template <class F>
void with_context(std::string_view opt, const std::string &text, F &&f) {
    try {
        f();
    } catch (const UsageError &e) {
        throw UsageError("-" + std::string(opt) + " " + text + ": " + e.what());
    }
}

}  // namespace

void config_netdev(const std::string &arg) {
    KeyVals kv = parse("netdev", arg);
    if (!kv.has("id")) throw UsageError("-netdev " + arg + ": Parameter 'id' is missing");
    if (kv.get("type").empty()) throw UsageError("-netdev " + arg + ": Parameter 'type' is missing");
    g_netdevs.push_back({arg, std::move(kv)});
}
void config_nic(const std::string &arg) {
    KeyVals kv = parse("nic", arg);
    if (kv.get("type") != "none") g_nics.push_back({arg, std::move(kv)});
}
void config_net(const std::string &arg) {
    KeyVals kv = parse("net", arg);
    if (kv.get("type") != "none") g_nets.push_back({arg, std::move(kv)});
}
void config_reset() {
    g_netdevs.clear();
    g_nics.clear();
    g_nets.clear();
    g_nic_requests.clear();
    g_by_object.clear();
    g_anon = 0;
}

void create_backends(const std::vector<KeyVals> &objects) {
    for (const auto &[text, kv] : g_netdevs)
        with_context("netdev", text, [&] { create_netdev(kv.get("type"), kv.get("id"), kv, "netdev"); });
    unsigned nic_n = 0;
    for (const auto &[text, kv] : g_nics)
        with_context("nic", text, [&] {
            // As the reference: -nic TYPE makes netdev __org.qemu.nicN and a NIC on it.
            std::string id = kv.get("id", "__org.qemu.nic" + std::to_string(nic_n++));
            create_netdev(kv.get("type"), id, kv, "nic");
            g_nic_requests.push_back({kv, id});
        });
    for (const auto &[text, kv] : g_nets)
        with_context("net", text, [&] {
            int hub = kv.has("vlan") ? static_cast<int>(parse_uint(kv.get("vlan"))) : 0;
            Client &port = hub_add_port(hub);
            if (kv.get("type") == "nic") {
                g_nic_requests.push_back({kv, port.name});
                return;
            }
            std::string id = kv.get("name", kv.get("id", "#net" + std::to_string(g_anon++)));
            Client &c = create_netdev(kv.get("type"), id, kv, "net");
            connect(c, port);
        });
    for (const auto &o : objects) {
        if (o.get("qom-type") != "filter-dump") continue;
        with_context("object", "filter-dump,id=" + o.get("id"), [&] {
            for (auto &[k, v] : o.items)
                if (k != "qom-type" && k != "id" && k != "netdev" && k != "file" && k != "maxlen" &&
                    k != "queue" && k != "status")
                    throw UsageError("Property 'filter-dump." + k + "' not found");
            if (!o.has("netdev")) throw UsageError("Parameter 'netdev' is missing");
            if (!o.has("file")) throw UsageError("Parameter 'file' is missing");
            uint64_t maxlen = o.has("maxlen") ? parse_uint(o.get("maxlen")) : 65536;
            add_dump(o.get("netdev"), std::make_shared<PcapWriter>(o.get("file"), static_cast<uint32_t>(maxlen)));
        });
    }
}

std::vector<KeyVals> nic_devices(const std::string &default_model) {
    std::vector<KeyVals> out;
    for (const auto &r : g_nic_requests) {
        KeyVals d;
        d.set("driver", r.kv.get("model", default_model));
        d.set("netdev", r.netdev);
        if (r.kv.has("mac")) d.set("mac", r.kv.get("mac"));
        if (r.kv.has("macaddr")) d.set("mac", r.kv.get("macaddr"));
        if (r.kv.has("id") && r.kv.get("type") == "nic") d.set("id", r.kv.get("id"));
        out.push_back(std::move(d));
    }
    return out;
}

void check_peers() {
    for (const auto &c : clients()) {
        if (c->kind == ClientKind::Nic || c->peer) continue;
        if (c->kind == ClientKind::HubPort) warn_report("hub port " + c->name + " has no peer");
        else warn_report("netdev " + c->name + " has no peer");
    }
}

// ---- host table ----

namespace {
Client *as_client(ts_net_client *nc) { return nc; }
}  // namespace

ts_net_client *host_nic_attach(ts_object *obj, const char *prop_name, const ts_net_nic_ops *ops, void *opaque,
                               ts_error *err) {
    ts_net_client *out = nullptr;
    guarded(err, [&] {
        std::string prop = prop_name ? prop_name : "netdev";
        ts_object::Prop *p = obj ? obj->find_prop(prop) : nullptr;
        if (!p) throw UsageError("Property '" + std::string(obj && obj->type ? obj->type->name : "?") + "." + prop +
                                 "' not found");
        Client *backend = nullptr;
        if (p->value && !p->value->empty()) {
            backend = client_find(*p->value);
            if (!backend)
                throw UsageError("Property '" + obj->type->name + "." + prop + "' can't find value '" + *p->value +
                                 "'");
        }
        static unsigned anon = 0;
        std::string name = !obj->id.empty() ? obj->id : obj->type->name + "." + std::to_string(anon++);
        Client &nic = client_new(ClientKind::Nic, name, "nic");
        nic.obj = obj;
        if (backend) connect(nic, *backend);
        if (ops) {
            if (ops->can_receive) nic.can_receive = [ops, opaque] { return ops->can_receive(opaque) != 0; };
            if (ops->receive)
                nic.receive = [ops, opaque](std::span<const uint8_t> f) { ops->receive(opaque, f.data(), f.size()); };
            if (ops->link_changed) nic.link_changed = [ops, opaque](bool up) { ops->link_changed(opaque, up); };
            if (ops->size >= offsetof(ts_net_nic_ops, set_vnet) + sizeof(ops->set_vnet) && ops->set_vnet)
                nic.set_vnet = [ops, opaque](bool on) { ops->set_vnet(opaque, on); };
        }
        negotiate_vnet(nic);
        out = &nic;
    });
    return out;
}

ts_net_client *host_net_attach(ts_object *obj, const char *prop, ts_error *err) {
    return host_nic_attach(obj, prop, nullptr, nullptr, err);
}

ts_status host_net_send(ts_net_client *nc, const uint8_t *frame, size_t len) {
    if (!nc) return TS_ERROR;
    return send(*as_client(nc), {frame, len}) ? TS_OK : TS_ERROR;
}

ts_net_client *host_backend_client(ts_object *netdev) {
    auto it = g_by_object.find(netdev);
    return it == g_by_object.end() ? nullptr : it->second;
}

void host_net_flush(ts_net_client *nc) {
    if (nc) flush(*nc);
}

int host_net_link_up(ts_net_client *nc) { return nc && nc->link_up && (!nc->peer || nc->peer->link_up); }

void host_net_default_mac(uint8_t mac[6]) {
    static unsigned next = 0;
    const uint8_t m[6] = {0x52, 0x54, 0x00, 0x12, 0x34, static_cast<uint8_t>(0x56 + next++)};
    std::copy(m, m + 6, mac);
}

void host_net_set_info(ts_net_client *nc, const char *info) {
    if (nc) nc->info = info ? info : "";
}

}  // namespace tessera::net
