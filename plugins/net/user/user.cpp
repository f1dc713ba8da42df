// net-user.so: the `user` netdev (the reference's SLIRP user networking) on
// libslirp: DHCP, DNS, hostfwd=, guestfwd=cmd:, restrict=, net=, host=,
// dns=, dhcpstart=, ipv4=/ipv6=, hostname=, domainname=, tftp=, bootfile=.
//
// libslirp is driven from the kernel's main loop through the host table:
// after every event the stack's sockets are re-collected with
// slirp_pollfds_fill and registered with fd_set_handler; a timer covers
// slirp's own timeouts (TCP timers) and its opaque timers.
#include "../netdev.hpp"

#include <slirp/libslirp.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <map>

namespace net {
namespace {

struct PollFd {
    int fd;
    int events;
};

// "a.b.c.d" -> in_addr; throws ts::Error naming the option.
in_addr parse_ip(std::string_view s, const char *what) {
    in_addr a{};
    if (inet_pton(AF_INET, std::string(s).c_str(), &a) != 1)
        throw ts::Error(std::string("Parameter '") + what + "' expects an IPv4 address (got '" + std::string(s) + "')");
    return a;
}

int parse_port(std::string_view s, const char *what) {
    int v = -1;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || v < 0 || v > 65535)
        throw ts::Error(std::string("invalid port in ") + what + " '" + std::string(s) + "'");
    return v;
}

std::string_view cut(std::string_view &s, char sep) {
    size_t i = s.find(sep);
    std::string_view head = s.substr(0, i);
    s.remove_prefix(i == std::string_view::npos ? s.size() : i + 1);
    return head;
}

class User : public Backend {
public:
    static constexpr const char *type_name = "user";
    explicit User(ts_object *o) : Backend(o) {}
    ~User() {
        for (auto &[fd, ev] : registered_) ts::host().fd_set_handler(fd, nullptr, nullptr, nullptr);
        if (poll_timer_) ts::host().timer_free(poll_timer_);
        if (slirp_) slirp_cleanup(slirp_);
    }

    void realize();
    void receive(std::span<const uint8_t> frame) {
        slirp_input(slirp_, frame.data(), static_cast<int>(frame.size()));
        refresh();
    }

private:
    void configure_network(SlirpConfig &cfg);
    void add_hostfwd(const std::string &rule);
    void add_guestfwd(const std::string &rule);
    // Re-collect slirp's sockets and re-arm the poll timer.
    void refresh();
    void dispatch(int fd, int revents);

    static ssize_t send_packet(const void *buf, size_t len, void *opaque) {
        static_cast<User *>(opaque)->send({static_cast<const uint8_t *>(buf), len});
        return static_cast<ssize_t>(len);
    }
    static void guest_error(const char *msg, void *) { ts::guest_error("slirp: %s", msg); }
    static int64_t clock_get_ns(void *) { return ts::host().clock_ns(TS_CLOCK_REALTIME); }
    struct SlirpTimer {
        User *user;
        SlirpTimerId id;
        void *cb_opaque;
        ts_timer *t;
    };
    static void *timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque) {
        auto *st = new SlirpTimer{static_cast<User *>(opaque), id, cb_opaque, nullptr};  // freed in timer_free
        st->t = ts::host().timer_new(
            TS_CLOCK_REALTIME,
            [](void *o) {
                auto *s = static_cast<SlirpTimer *>(o);
                slirp_handle_timer(s->user->slirp_, s->id, s->cb_opaque);
                s->user->refresh();
            },
            st);
        return st;
    }
    static void timer_free(void *t, void *) {
        auto *st = static_cast<SlirpTimer *>(t);
        ts::host().timer_free(st->t);
        delete st;
    }
    static void timer_mod(void *t, int64_t expire_ms, void *) {
        ts::host().timer_mod(static_cast<SlirpTimer *>(t)->t, expire_ms * 1'000'000);
    }
    static void register_poll_fd(int, void *) {}
    static void unregister_poll_fd(int, void *) {}
    static void notify(void *opaque) { static_cast<User *>(opaque)->refresh(); }

    Slirp *slirp_ = nullptr;
    SlirpCb cb_{};
    std::vector<PollFd> pollfds_;          // the last fill, by slirp's index
    std::map<int, int> registered_;        // fd -> events given to the main loop
    ts_timer *poll_timer_ = nullptr;
    int current_fd_ = -1, current_revents_ = 0;
    bool in_refresh_ = false;
    std::string hostname_, tftp_, bootfile_, domain_;
};

void User::configure_network(SlirpConfig &cfg) {
    // Defaults as the reference: 10.0.2.0/24, host .2, DNS .3, DHCP from .15.
    uint32_t net = 0x0a000200, mask = 0xffffff00;
    if (auto n = str("net"); !n.empty()) {
        std::string_view rest = n;
        std::string_view addr = cut(rest, '/');
        net = ntohl(parse_ip(addr, "net").s_addr);
        if (!rest.empty()) {
            if (rest.find('.') != std::string_view::npos) mask = ntohl(parse_ip(rest, "net").s_addr);
            else {
                int bits = parse_port(rest, "net");
                if (bits < 8 || bits > 32) throw ts::Error("Parameter 'net' has an invalid prefix length");
                mask = bits == 32 ? 0xffffffff : ~(0xffffffffu >> bits);
            }
        }
        net &= mask;
    }
    auto in_net = [&](const char *prop, uint32_t def_host) {
        uint32_t a = net | def_host;
        if (auto s = str(prop); !s.empty()) a = ntohl(parse_ip(s, prop).s_addr);
        if ((a & mask) != net)
            throw ts::Error(std::string("Parameter '") + prop + "' must be in the guest network");
        in_addr r{};
        r.s_addr = htonl(a);
        return r;
    };
    cfg.vnetwork.s_addr = htonl(net);
    cfg.vnetmask.s_addr = htonl(mask);
    cfg.vhost = in_net("host", 2);
    cfg.vnameserver = in_net("dns", 3);
    cfg.vdhcp_start = in_net("dhcpstart", 15);
    cfg.in_enabled = flag("ipv4");
    cfg.in6_enabled = flag("ipv6");
    // IPv6 as the reference: fec0::/64, host ::2, DNS ::3.
    inet_pton(AF_INET6, "fec0::", &cfg.vprefix_addr6);
    cfg.vprefix_len = 64;
    inet_pton(AF_INET6, "fec0::2", &cfg.vhost6);
    inet_pton(AF_INET6, "fec0::3", &cfg.vnameserver6);
    if (!cfg.in_enabled && !cfg.in6_enabled) throw ts::Error("IPv4 and IPv6 cannot both be disabled");
}

void User::realize() {
    SlirpConfig cfg{};
    cfg.version = 4;
    const std::string restrict_opt(str("restrict"));
    cfg.restricted = restrict_opt == "on" || restrict_opt == "yes" || restrict_opt == "y" || restrict_opt == "true";
    configure_network(cfg);
    hostname_ = str("hostname");
    tftp_ = str("tftp");
    bootfile_ = str("bootfile");
    domain_ = str("domainname");
    cfg.vhostname = hostname_.empty() ? nullptr : hostname_.c_str();
    cfg.tftp_path = tftp_.empty() ? nullptr : tftp_.c_str();
    cfg.bootfile = bootfile_.empty() ? nullptr : bootfile_.c_str();
    cfg.vdomainname = domain_.empty() ? nullptr : domain_.c_str();
    cfg.if_mtu = 1500;
    cfg.if_mru = 1500;

    cb_.send_packet = send_packet;
    cb_.guest_error = guest_error;
    cb_.clock_get_ns = clock_get_ns;
    cb_.timer_free = timer_free;
    cb_.timer_mod = timer_mod;
    cb_.register_poll_fd = register_poll_fd;
    cb_.unregister_poll_fd = unregister_poll_fd;
    cb_.notify = notify;
    cb_.timer_new_opaque = timer_new_opaque;
    slirp_ = slirp_new(&cfg, &cb_, this);
    if (!slirp_) throw ts::Error("cannot create the user network stack");
    poll_timer_ = ts::host().timer_new(
        TS_CLOCK_REALTIME, [](void *o) { static_cast<User *>(o)->dispatch(-1, 0); }, this);

    for (const auto &r : list("hostfwd")) add_hostfwd(r);
    for (const auto &r : list("guestfwd")) add_guestfwd(r);

    char net[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &cfg.vnetwork, net, sizeof net);
    set_info(std::string("net=") + net + ",restrict=" + (cfg.restricted ? "on" : "off"));
    refresh();
}

// [tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport
void User::add_hostfwd(const std::string &rule) {
    std::string_view s = rule;
    bool udp = false;
    if (s.rfind("tcp:", 0) == 0) s.remove_prefix(4);
    else if (s.rfind("udp:", 0) == 0) {
        udp = true;
        s.remove_prefix(4);
    } else if (s.find(':') != std::string_view::npos && s.find(':') < s.find('-') &&
               s.substr(0, s.find(':')).find('.') == std::string_view::npos && !s.starts_with(":"))
        throw ts::Error("invalid host forwarding rule '" + rule + "' (protocol must be tcp or udp)");
    std::string_view host = cut(s, '-');
    std::string_view guest = s;
    if (guest.empty()) throw ts::Error("invalid host forwarding rule '" + rule + "'");
    std::string_view haddr = cut(host, ':');
    in_addr ha{}, ga{};
    if (!haddr.empty()) ha = parse_ip(haddr, "hostfwd");
    int hport = parse_port(host, "hostfwd");
    std::string_view gaddr = cut(guest, ':');
    if (!gaddr.empty()) ga = parse_ip(gaddr, "hostfwd");
    int gport = parse_port(guest, "hostfwd");
    if (slirp_add_hostfwd(slirp_, udp, ha, hport, ga, gport) < 0)
        throw ts::Error("could not set up host forwarding rule '" + rule + "'");
}

// tcp:server:port-cmd:command (the chardev form needs chardev access the
// plugin ABI does not give netdevs yet).
void User::add_guestfwd(const std::string &rule) {
    std::string_view s = rule;
    if (s.rfind("tcp:", 0) == 0) s.remove_prefix(4);
    std::string_view lhs = cut(s, '-');
    std::string_view srv = cut(lhs, ':');
    in_addr a = parse_ip(srv, "guestfwd");
    int port = parse_port(lhs, "guestfwd");
    if (s.rfind("cmd:", 0) != 0)
        throw ts::Error("guestfwd '" + rule + "': only the cmd:COMMAND form is available in tessera yet");
    std::string cmd(s.substr(4));
    if (slirp_add_exec(slirp_, cmd.c_str(), &a, port) < 0)
        throw ts::Error("conflicting/invalid guestfwd rule '" + rule + "'");
}

void User::refresh() {
    if (!slirp_ || in_refresh_) return;
    in_refresh_ = true;
    pollfds_.clear();
    uint32_t timeout = 1000;
    slirp_pollfds_fill(
        slirp_, &timeout,
        [](int fd, int events, void *o) {
            auto *u = static_cast<User *>(o);
            u->pollfds_.push_back({fd, events});
            return static_cast<int>(u->pollfds_.size() - 1);
        },
        this);
    std::map<int, int> want;
    for (const auto &p : pollfds_) want[p.fd] |= p.events;
    for (auto it = registered_.begin(); it != registered_.end();) {
        if (!want.count(it->first)) {
            ts::host().fd_set_handler(it->first, nullptr, nullptr, nullptr);
            it = registered_.erase(it);
        } else ++it;
    }
    for (const auto &[fd, ev] : want) {
        auto it = registered_.find(fd);
        if (it != registered_.end() && it->second == ev) continue;
        const bool rd = ev & (SLIRP_POLL_IN | SLIRP_POLL_PRI), wr = ev & SLIRP_POLL_OUT;
        ts::host().fd_set_handler(
            fd, rd ? [](void *o, int f) { static_cast<User *>(o)->dispatch(f, SLIRP_POLL_IN); } : ts_fd_cb{},
            wr ? [](void *o, int f) { static_cast<User *>(o)->dispatch(f, SLIRP_POLL_OUT); } : ts_fd_cb{}, this);
        registered_[fd] = ev;
    }
    ts::host().timer_mod(poll_timer_, ts::host().clock_ns(TS_CLOCK_REALTIME) +
                                          static_cast<int64_t>(std::min<uint32_t>(timeout, 1000)) * 1'000'000);
    in_refresh_ = false;
}

// One fd is ready (or the timer ran: fd -1): let slirp poll with that result.
void User::dispatch(int fd, int revents) {
    current_fd_ = fd;
    current_revents_ = revents;
    slirp_pollfds_poll(
        slirp_, 0,
        [](int idx, void *o) {
            auto *u = static_cast<User *>(o);
            if (idx < 0 || static_cast<size_t>(idx) >= u->pollfds_.size()) return 0;
            return u->pollfds_[static_cast<size_t>(idx)].fd == u->current_fd_ ? u->current_revents_ : 0;
        },
        this);
    current_fd_ = -1;
    refresh();
}

constexpr ts_prop_decl kProps[] = {
    ts::prop_str("net", nullptr, "guest network, ADDR[/MASK|/BITS] (default 10.0.2.0/24)"),
    ts::prop_str("host", nullptr, "the host's address in the guest network (default .2)"),
    ts::prop_str("dns", nullptr, "the DNS server's address (default .3)"),
    ts::prop_str("dhcpstart", nullptr, "first address DHCP hands out (default .15)"),
    ts::prop_bool("ipv4", "on", "IPv4 on the guest network"),
    ts::prop_bool("ipv6", "on", "IPv6 on the guest network"),
    ts::prop_str("restrict", "off", "on: the guest cannot reach the outside (hostfwd still works)"),
    ts::prop_str("hostname", nullptr, "hostname DHCP gives the guest"),
    ts::prop_str("domainname", nullptr, "DNS domain DHCP gives the guest"),
    ts::prop_str("tftp", nullptr, "folder served by the built-in TFTP server"),
    ts::prop_str("bootfile", nullptr, "BOOTP boot file name"),
    ts::prop_str("hostfwd", nullptr, "[tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport (repeatable)"),
    ts::prop_str("guestfwd", nullptr, "[tcp]:server:port-cmd:command (repeatable)"),
    ts::prop_str("smb", nullptr, "not available in tessera"),
};
const ts_netdev_class kUserClass = netdev_class<User>(kProps);

const void *get_class(const char *name) {
    return name && std::strcmp(name, "user") == 0 ? &kUserClass : nullptr;
}

}  // namespace
}  // namespace net

TESSERA_PLUGIN("net-user", "0.1.0", "type netdev user - - user mode network stack (libslirp)\n", net::get_class);
