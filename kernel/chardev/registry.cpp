#include "log/trace.hpp"
#include "chardev/registry.hpp"

#include "chardev/backends.hpp"
#include "chardev/mux.hpp"
#include "loop/main_loop.hpp"

#include <algorithm>
#include <iostream>
#include <memory>
#include <optional>

namespace tessera {
namespace {

// Keys every backend takes besides its own.
constexpr std::string_view kCommonKeys = "backend id mux logfile logappend";

struct BackendInfo {
    std::string_view name;
    ChardevPtr (*make)(const std::string &, const KeyVals &);
    std::string_view keys;  // space separated
};

ChardevPtr make_vc_chardev(const std::string &, const KeyVals &)
{
    throw UsageError("chardev 'vc' is not available: tessera has no graphical console");
}

constexpr BackendInfo kBackends[] = {
    {"null", make_null_chardev, ""},
    {"stdio", make_stdio_chardev, "signal"},
    {"file", make_file_chardev, "path append input-path"},
    {"pipe", make_pipe_chardev, "path"},
    {"serial", make_serial_chardev, "path"},
    {"tty", make_serial_chardev, "path"},
    {"pty", make_pty_chardev, ""},
    {"socket", make_socket_chardev,
     "host port path server wait nodelay reconnect fd telnet tn3270 websocket to ipv4 ipv6 abstract tight"},
    {"udp", make_udp_chardev, "host port localaddr localport ipv4 ipv6"},
    {"ringbuf", make_ringbuf_chardev, "size"},
    {"memory", make_ringbuf_chardev, "size"},
    {"vc", make_vc_chardev, "width height cols rows"},
};

bool in_list(std::string_view list, std::string_view key)
{
    while (!list.empty()) {
        size_t sp = list.find(' ');
        if (list.substr(0, sp) == key)
            return true;
        list = sp == std::string_view::npos ? std::string_view{} : list.substr(sp + 1);
    }
    return false;
}

std::function<void(const std::string &)> g_info_hook;

// Chardevs in creation order; destroyed newest first (a mux before its base)
// and before the main loop they registered handlers with.
struct Registry {
    Registry() { MainLoop::instance(); }
    ~Registry() { clear(); }
    void clear()
    {
        while (!all.empty())
            all.pop_back();
    }
    std::vector<ChardevPtr> all;
};
Registry &registry()
{
    static Registry r;
    return r;
}

}  // namespace

void chardev_info(const std::string &line)
{
    if (g_info_hook)
        g_info_hook(line);
    else
        std::cerr << line << std::endl;
}

void chardev_set_info_hook(std::function<void(const std::string &)> hook) { g_info_hook = std::move(hook); }

bool opt_bool(const KeyVals &opts, std::string_view key, bool fallback)
{
    const std::string *v = opts.find(key);
    if (!v)
        return fallback;
    try {
        return parse_bool(*v);
    } catch (const UsageError &) {
        throw UsageError("Parameter '" + std::string(key) + "' expects 'on' or 'off'");
    }
}

std::string opt_required(const KeyVals &opts, std::string_view key, std::string_view backend, std::string_view what)
{
    const std::string *v = opts.find(key);
    if (!v || v->empty())
        throw UsageError("chardev: " + std::string(backend) + ": no " + std::string(what) + " given");
    return *v;
}

Chardev &chardev_new(std::string id, const KeyVals &opts)
{
    trace(TraceEvent::ChardevNew, "id=%s backend=%s", id.c_str(), opts.get("backend").c_str());
    if (id.empty())
        throw UsageError("chardev: no id specified");
    if (chardev_find(id))
        throw UsageError("Duplicate ID '" + id + "' for chardev");
    std::string backend = opts.get("backend");
    auto info = std::ranges::find(kBackends, backend, &BackendInfo::name);
    if (backend.empty() || info == std::end(kBackends))
        throw UsageError("'" + backend + "' is not a valid char driver name");
    for (const auto &[key, value] : opts.items)
        if (!in_list(kCommonKeys, key) && !in_list(info->keys, key))
            throw UsageError("Invalid parameter '" + key + "'");
    bool mux = opt_bool(opts, "mux", false);
    std::string base_id = mux ? id + "-base" : id;
    if (mux && chardev_find(base_id))
        throw UsageError("Duplicate ID '" + base_id + "' for chardev");

    ChardevPtr chr = info->make(base_id, opts);
    if (opts.has("logfile"))
        chr->set_logfile(opts.get("logfile"), opt_bool(opts, "logappend", false));
    Registry &reg = registry();
    Chardev &made = *reg.all.emplace_back(std::move(chr));
    if (!mux)
        return made;
    return *reg.all.emplace_back(std::make_unique<MuxChardev>(id, made));
}

Chardev *chardev_find(std::string_view id)
{
    for (auto &c : registry().all)
        if (c->id() == id)
            return c.get();
    return nullptr;
}

bool chardev_remove(std::string_view id)
{
    auto &all = registry().all;
    auto it = std::ranges::find_if(all, [&](const ChardevPtr &c) { return c->id() == id; });
    if (it == all.end())
        return false;
    for (auto &c : all)
        if (auto *mux = dynamic_cast<MuxChardev *>(c.get()); mux && &mux->base() == it->get())
            throw UsageError("Chardev '" + std::string(id) + "' is busy");
    all.erase(it);
    // A mux takes its base with it.
    std::string base = std::string(id) + "-base";
    std::erase_if(all, [&](const ChardevPtr &c) { return c->id() == base; });
    return true;
}

void chardev_remove_all() { registry().clear(); }

std::vector<std::string> chardev_ids()
{
    std::vector<std::string> ids;
    for (auto &c : registry().all)
        ids.push_back(c->id());
    return ids;
}

std::vector<std::string> chardev_backend_names()
{
    std::vector<std::string> names;
    for (const auto &b : kBackends)
        names.emplace_back(b.name);
    std::ranges::sort(names);
    return names;
}

// ---- legacy specs ---------------------------------------------------------
namespace {

[[noreturn]] void invalid(std::string_view spec)
{
    throw UsageError("'" + std::string(spec) + "' is not a valid char driver");
}

// "[HOST]:PORT" or "[v6addr]:PORT" into host and port; false if malformed.
bool split_host_port(std::string_view text, std::string &host, std::string &port)
{
    size_t colon;
    if (text.starts_with('[')) {
        size_t close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
            return false;
        host = std::string(text.substr(1, close - 1));
        colon = close + 1;
    } else {
        colon = text.rfind(':');
        if (colon == std::string_view::npos)
            return false;
        host = std::string(text.substr(0, colon));
    }
    port = std::string(text.substr(colon + 1));
    return !port.empty();
}

}  // namespace

KeyVals chardev_legacy_opts(std::string_view full_spec)
{
    std::string_view spec = full_spec;
    KeyVals kv;
    bool mux = false;
    if (spec.starts_with("mon:")) {
        spec.remove_prefix(4);
        mux = true;
    }
    auto rest_after = [&](std::string_view prefix) -> std::optional<std::string_view> {
        if (!spec.starts_with(prefix))
            return std::nullopt;
        return spec.substr(prefix.size());
    };

    if (spec == "null" || spec == "stdio" || spec == "pty" || spec == "vc" || spec.starts_with("vc:")) {
        kv.set("backend", std::string(spec.substr(0, spec.find(':'))));
    } else if (spec == "none") {
        kv.set("backend", "none");
    } else if (auto path = rest_after("file:")) {
        kv.set("backend", "file");
        kv.set("path", std::string(*path));
    } else if (auto path = rest_after("pipe:")) {
        kv.set("backend", "pipe");
        kv.set("path", std::string(*path));
    } else if (auto rest = spec.starts_with("tcp:") ? rest_after("tcp:") : rest_after("telnet:")) {
        size_t comma = rest->find(',');
        std::string host, port;
        if (!split_host_port(rest->substr(0, comma), host, port))
            invalid(full_spec);
        if (comma != std::string_view::npos)
            kv = parse_keyval(rest->substr(comma + 1));
        kv.set("backend", "socket");
        if (!host.empty())
            kv.set("host", host);
        kv.set("port", port);
        if (spec.starts_with("telnet:"))
            kv.set("telnet", "on");
    } else if (auto rest = rest_after("unix:")) {
        size_t comma = rest->find(',');
        if (comma != std::string_view::npos)
            kv = parse_keyval(rest->substr(comma + 1));
        kv.set("backend", "socket");
        kv.set("path", std::string(rest->substr(0, comma)));
        if (kv.get("path").empty())
            invalid(full_spec);
    } else if (auto rest = rest_after("udp:")) {
        size_t at = rest->find('@');
        std::string host, port, lhost, lport;
        if (!split_host_port(rest->substr(0, at), host, port))
            invalid(full_spec);
        if (at != std::string_view::npos && !split_host_port(rest->substr(at + 1), lhost, lport))
            invalid(full_spec);
        kv.set("backend", "udp");
        if (!host.empty())
            kv.set("host", host);
        kv.set("port", port);
        if (!lhost.empty())
            kv.set("localaddr", lhost);
        if (!lport.empty())
            kv.set("localport", lport);
    } else if (spec.starts_with("/dev/")) {
        kv.set("backend", "serial");
        kv.set("path", std::string(spec));
    } else {
        invalid(full_spec);
    }
    if (mux)
        kv.set("mux", "on");
    // Keep "backend" first, as a -chardev argument would have it.
    std::ranges::stable_partition(kv.items, [](const auto &item) { return item.first == "backend"; });
    return kv;
}

std::string chardev_from_legacy(std::string_view spec, std::string id)
{
    if (spec == "none")
        return {};
    if (spec.starts_with("chardev:")) {
        std::string name(spec.substr(8));
        if (!chardev_find(name))
            throw UsageError("chardev '" + name + "' not found");
        return name;
    }
    KeyVals kv = chardev_legacy_opts(spec);
    if (kv.get("backend") == "none")
        invalid(spec);  // "mon:none"
    chardev_new(id, kv);
    return id;
}

}  // namespace tessera
