// net-socket.so: netdevs that carry frames over host sockets.
//   stream  TCP or unix stream, server=on|off, addr.type=inet|unix|fd; each
//           frame is preceded by its length (32-bit big endian), as the
//           reference's stream and socket netdevs do, so either interoperates.
//   dgram   one UDP or unix datagram per frame: local.* and/or remote.*.
//   socket  the older form: listen=/connect= (stream), mcast=, udp= (dgram).
#include "../netdev.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace net {
namespace {

constexpr size_t kMaxFrame = 65536 + 14;
constexpr size_t kMaxBacklog = 4 << 20;  // bytes waiting for a slow peer before frames drop

// An fd closed on scope exit unless released.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd &&o) noexcept : fd_(o.release()) {}
    Fd &operator=(Fd &&o) noexcept {
        if (this != &o) reset(o.release());
        return *this;
    }
    ~Fd() { reset(); }
    int get() const { return fd_; }
    int release() { return std::exchange(fd_, -1); }
    void reset(int fd = -1) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }
    explicit operator bool() const { return fd_ >= 0; }

private:
    int fd_ = -1;
};

std::string errstr() { return std::strerror(errno); }

// A resolved socket address.
struct Addr {
    sockaddr_storage ss{};
    socklen_t len = 0;
    int family() const { return ss.ss_family; }
    const sockaddr *sa() const { return reinterpret_cast<const sockaddr *>(&ss); }
    std::string text() const {
        char h[INET6_ADDRSTRLEN] = "?";
        if (family() == AF_UNIX) return reinterpret_cast<const sockaddr_un *>(&ss)->sun_path;
        int port = 0;
        if (family() == AF_INET) {
            auto *in = reinterpret_cast<const sockaddr_in *>(&ss);
            inet_ntop(AF_INET, &in->sin_addr, h, sizeof h);
            port = ntohs(in->sin_port);
        } else if (family() == AF_INET6) {
            auto *in = reinterpret_cast<const sockaddr_in6 *>(&ss);
            inet_ntop(AF_INET6, &in->sin6_addr, h, sizeof h);
            port = ntohs(in->sin6_port);
        }
        return std::string(h) + ":" + std::to_string(port);
    }
};

Addr inet_addr(const std::string &host, const std::string &port, bool passive, int socktype) {
    addrinfo hints{}, *res = nullptr;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = socktype;
    hints.ai_flags = passive ? AI_PASSIVE : 0;
    if (port.empty()) throw ts::Error("a port is required");
    int r = getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res);
    if (r != 0 || !res) throw ts::Error("address resolution failed for " + host + ":" + port + ": " + gai_strerror(r));
    Addr a;
    std::memcpy(&a.ss, res->ai_addr, res->ai_addrlen);
    a.len = res->ai_addrlen;
    freeaddrinfo(res);
    return a;
}

Addr unix_addr(const std::string &path) {
    Addr a;
    auto *un = reinterpret_cast<sockaddr_un *>(&a.ss);
    if (path.empty() || path.size() >= sizeof un->sun_path) throw ts::Error("unix socket path '" + path + "' is invalid");
    un->sun_family = AF_UNIX;
    std::memcpy(un->sun_path, path.data(), path.size());
    a.len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
    return a;
}

// "host:port" (host may be empty or [v6]).
Addr host_port(std::string_view s, bool passive, int socktype) {
    size_t c = s.rfind(':');
    if (c == std::string_view::npos) throw ts::Error("'" + std::string(s) + "' is not HOST:PORT");
    std::string host(s.substr(0, c));
    if (host.size() > 1 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    return inet_addr(host, std::string(s.substr(c + 1)), passive, socktype);
}

void set_nonblock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

class Socket : public Backend {
public:
    explicit Socket(ts_object *o) : Backend(o) {}
    ~Socket() {
        for (int fd : {listen_.get(), conn_.get(), dgram_.get()})
            if (fd >= 0) ts::host().fd_set_handler(fd, nullptr, nullptr, nullptr);
        if (!unlink_path_.empty()) ::unlink(unlink_path_.c_str());
    }

    void receive(std::span<const uint8_t> frame);

protected:
    // Stream side.
    void listen_on(const Addr &a);
    void connect_to(const Addr &a);
    void adopt_stream(Fd fd, const std::string &peer);
    // Datagram side: bound to local (if any), sending to remote.
    void open_dgram(const Addr *local, const Addr &remote, bool multicast, const std::string &mcast_if);

    std::string unlink_path_;

private:
    void on_accept();
    void on_stream_readable();
    void on_stream_writable();
    void on_dgram_readable();
    void close_stream(const char *why);
    void watch_stream();

    Fd listen_, conn_, dgram_;
    Addr remote_;
    std::vector<uint8_t> in_, out_;
    size_t out_pos_ = 0;
    std::string what_;
};

void Socket::listen_on(const Addr &a) {
    Fd fd(::socket(a.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) throw ts::Error("cannot create socket: " + errstr());
    int one = 1;
    if (a.family() != AF_UNIX) setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    else ::unlink(reinterpret_cast<const sockaddr_un *>(&a.ss)->sun_path);
    if (::bind(fd.get(), a.sa(), a.len) != 0) throw ts::Error("cannot bind " + a.text() + ": " + errstr());
    if (::listen(fd.get(), 1) != 0) throw ts::Error("cannot listen on " + a.text() + ": " + errstr());
    if (a.family() == AF_UNIX) unlink_path_ = a.text();
    set_nonblock(fd.get());
    listen_ = std::move(fd);
    ts::host().fd_set_handler(listen_.get(), [](void *o, int) { static_cast<Socket *>(o)->on_accept(); }, nullptr, this);
    what_ = "listening on " + a.text();
    set_info(what_);
}

void Socket::connect_to(const Addr &a) {
    Fd fd(::socket(a.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) throw ts::Error("cannot create socket: " + errstr());
    if (::connect(fd.get(), a.sa(), a.len) != 0) throw ts::Error("cannot connect to " + a.text() + ": " + errstr());
    adopt_stream(std::move(fd), a.text());
}

void Socket::adopt_stream(Fd fd, const std::string &peer) {
    set_nonblock(fd.get());
    int one = 1;
    setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    conn_ = std::move(fd);
    in_.clear();
    out_.clear();
    out_pos_ = 0;
    watch_stream();
    set_info("connected to " + peer);
}

void Socket::watch_stream() {
    if (!conn_) return;
    ts::host().fd_set_handler(
        conn_.get(), [](void *o, int) { static_cast<Socket *>(o)->on_stream_readable(); },
        out_.size() > out_pos_ ? [](void *o, int) { static_cast<Socket *>(o)->on_stream_writable(); } : ts_fd_cb{},
        this);
}

void Socket::on_accept() {
    Fd fd(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!fd) return;
    if (conn_) return;  // one peer at a time, as the reference: later ones are closed
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    getpeername(fd.get(), reinterpret_cast<sockaddr *>(&ss), &len);
    Addr a;
    a.ss = ss;
    a.len = len;
    adopt_stream(std::move(fd), a.family() == AF_UNIX ? "unix client" : a.text());
}

void Socket::close_stream(const char *why) {
    ts::host().fd_set_handler(conn_.get(), nullptr, nullptr, nullptr);
    conn_.reset();
    ts::host().error_report("netdev %s: %s", id(), why);
    set_info(listen_ ? what_ : "disconnected");
}

void Socket::on_stream_readable() {
    uint8_t buf[65536];
    ssize_t n = ::read(conn_.get(), buf, sizeof buf);
    if (n == 0) return close_stream("connection closed by the peer");
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        return close_stream("connection error");
    }
    in_.insert(in_.end(), buf, buf + n);
    size_t pos = 0;
    while (in_.size() - pos >= 4) {
        const uint32_t len = uint32_t(in_[pos]) << 24 | uint32_t(in_[pos + 1]) << 16 | uint32_t(in_[pos + 2]) << 8 |
                             in_[pos + 3];
        if (len > kMaxFrame) {
            in_.clear();
            return close_stream("the peer sent a frame length beyond 64 KiB");
        }
        if (in_.size() - pos - 4 < len) break;
        send(std::span<const uint8_t>(in_.data() + pos + 4, len));
        pos += 4 + len;
    }
    in_.erase(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(pos));
}

void Socket::on_stream_writable() {
    while (out_pos_ < out_.size()) {
        ssize_t n = ::write(conn_.get(), out_.data() + out_pos_, out_.size() - out_pos_);
        if (n < 0) {
            if (errno == EAGAIN) break;
            if (errno == EINTR) continue;
            return close_stream("write error");
        }
        out_pos_ += static_cast<size_t>(n);
    }
    if (out_pos_ == out_.size()) {
        out_.clear();
        out_pos_ = 0;
    }
    watch_stream();
}

void Socket::open_dgram(const Addr *local, const Addr &remote, bool multicast, const std::string &mcast_if) {
    Fd fd(::socket(remote.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd) throw ts::Error("cannot create socket: " + errstr());
    int one = 1;
    if (multicast) {
        if (remote.family() != AF_INET) throw ts::Error("mcast= needs an IPv4 multicast address");
        setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        auto *in = reinterpret_cast<const sockaddr_in *>(&remote.ss);
        if (!IN_MULTICAST(ntohl(in->sin_addr.s_addr)))
            throw ts::Error(remote.text() + " is not a multicast address");
        sockaddr_in any{};
        any.sin_family = AF_INET;
        any.sin_port = in->sin_port;
        if (::bind(fd.get(), reinterpret_cast<sockaddr *>(&any), sizeof any) != 0)
            throw ts::Error("cannot bind " + remote.text() + ": " + errstr());
        ip_mreq mreq{};
        mreq.imr_multiaddr = in->sin_addr;
        mreq.imr_interface.s_addr = htonl(INADDR_ANY);
        if (!mcast_if.empty() && inet_pton(AF_INET, mcast_if.c_str(), &mreq.imr_interface) != 1)
            throw ts::Error("localaddr '" + mcast_if + "' is not an IPv4 address");
        if (setsockopt(fd.get(), IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq) != 0)
            throw ts::Error("cannot join " + remote.text() + ": " + errstr());
        // Every instance on this host sees the others' frames.
        setsockopt(fd.get(), IPPROTO_IP, IP_MULTICAST_LOOP, &one, sizeof one);
        if (!mcast_if.empty())
            setsockopt(fd.get(), IPPROTO_IP, IP_MULTICAST_IF, &mreq.imr_interface, sizeof mreq.imr_interface);
    } else if (local) {
        if (local->family() == AF_UNIX) ::unlink(local->text().c_str());
        if (::bind(fd.get(), local->sa(), local->len) != 0)
            throw ts::Error("cannot bind " + local->text() + ": " + errstr());
        if (local->family() == AF_UNIX) unlink_path_ = local->text();
    }
    set_nonblock(fd.get());
    dgram_ = std::move(fd);
    remote_ = remote;
    ts::host().fd_set_handler(dgram_.get(), [](void *o, int) { static_cast<Socket *>(o)->on_dgram_readable(); },
                              nullptr, this);
    set_info(std::string(multicast ? "mcast=" : "udp=") + remote.text());
}

void Socket::on_dgram_readable() {
    uint8_t buf[kMaxFrame];
    for (int i = 0; i < 64; i++) {  // bounded work per wake-up
        ssize_t n = ::recv(dgram_.get(), buf, sizeof buf, 0);
        if (n <= 0) return;
        send(std::span<const uint8_t>(buf, static_cast<size_t>(n)));
    }
}

void Socket::receive(std::span<const uint8_t> frame) {
    if (dgram_) {
        ::sendto(dgram_.get(), frame.data(), frame.size(), MSG_DONTWAIT, remote_.sa(), remote_.len);
        return;
    }
    if (!conn_) return;  // not connected yet: the frame is lost, as on a cable
    if (out_.size() - out_pos_ + frame.size() + 4 > kMaxBacklog) return;
    const auto len = static_cast<uint32_t>(frame.size());
    const uint8_t hdr[4] = {uint8_t(len >> 24), uint8_t(len >> 16), uint8_t(len >> 8), uint8_t(len)};
    out_.insert(out_.end(), hdr, hdr + 4);
    out_.insert(out_.end(), frame.begin(), frame.end());
    on_stream_writable();
}

// ---- the three option forms ----

// addr.type=inet|unix|fd with addr.host/addr.port, addr.path or addr.str,
// under a prefix ("addr", "local", "remote").
class Stream : public Socket {
public:
    static constexpr const char *type_name = "stream";
    using Socket::Socket;
    void realize() {
        const bool server = flag("server");
        const std::string type(str("addr.type"));
        if (type.empty()) throw ts::Error("Parameter 'addr.type' is missing");
        if (type == "fd") {
            int fd = std::stoi(std::string(str("addr.str")));
            Fd f(::dup(fd));
            if (!f) throw ts::Error("addr.str: file descriptor " + std::to_string(fd) + " is not open");
            if (server) throw ts::Error("addr.type=fd is only available with server=off in tessera");
            adopt_stream(std::move(f), "fd " + std::to_string(fd));
            return;
        }
        Addr a = type == "unix" ? unix_addr(std::string(str("addr.path")))
               : type == "inet" ? inet_addr(std::string(str("addr.host")), std::string(str("addr.port")), server,
                                            SOCK_STREAM)
                                : throw ts::Error("Parameter 'addr.type' does not accept value '" + type + "'");
        if (server) listen_on(a);
        else connect_to(a);
    }
};

Addr dgram_side(const Backend &b, const std::string &p) {
    const std::string type(b.str((p + ".type").c_str()));
    if (type == "unix") return unix_addr(std::string(b.str((p + ".path").c_str())));
    if (type == "inet")
        return inet_addr(std::string(b.str((p + ".host").c_str())), std::string(b.str((p + ".port").c_str())),
                         p == "local", SOCK_DGRAM);
    throw ts::Error("Parameter '" + p + ".type' does not accept value '" + type + "'");
}

class Dgram : public Socket {
public:
    static constexpr const char *type_name = "dgram";
    using Socket::Socket;
    void realize() {
        const bool has_local = !str("local.type").empty(), has_remote = !str("remote.type").empty();
        if (!has_remote) throw ts::Error("dgram requires remote= (a local-only dgram socket is not available in tessera)");
        Addr remote = dgram_side(*this, "remote");
        bool mcast = false;
        if (remote.family() == AF_INET)
            mcast = IN_MULTICAST(ntohl(reinterpret_cast<const sockaddr_in *>(&remote.ss)->sin_addr.s_addr));
        if (mcast) {
            open_dgram(nullptr, remote, true, has_local ? std::string(str("local.host")) : "");
            return;
        }
        if (!has_local) throw ts::Error("dgram with a unicast remote needs local= too");
        Addr local = dgram_side(*this, "local");
        open_dgram(&local, remote, false, "");
    }
};

class LegacySocket : public Socket {
public:
    static constexpr const char *type_name = "socket";
    using Socket::Socket;
    void realize() {
        const std::string listen(str("listen")), connect(str("connect")), mcast(str("mcast")), udp(str("udp")),
            fd(str("fd")), localaddr(str("localaddr"));
        int n = !listen.empty() + !connect.empty() + !mcast.empty() + !udp.empty() + !fd.empty();
        if (n != 1) throw ts::Error("exactly one of listen= connect= mcast= udp= fd= is required");
        if (!listen.empty()) return listen_on(host_port(listen, true, SOCK_STREAM));
        if (!connect.empty()) return connect_to(host_port(connect, false, SOCK_STREAM));
        if (!fd.empty()) {
            Fd f(::dup(std::stoi(fd)));
            if (!f) throw ts::Error("fd=" + fd + " is not open");
            return adopt_stream(std::move(f), "fd " + fd);
        }
        if (!mcast.empty()) return open_dgram(nullptr, host_port(mcast, false, SOCK_DGRAM), true, localaddr);
        if (localaddr.empty()) throw ts::Error("udp= needs localaddr=HOST:PORT");
        Addr local = host_port(localaddr, true, SOCK_DGRAM);
        open_dgram(&local, host_port(udp, false, SOCK_DGRAM), false, "");
    }
};

constexpr ts_prop_decl kStreamProps[] = {
    ts::prop_bool("server", "off", "listen (on) or connect (off)"),
    ts::prop_str("addr.type", nullptr, "inet, unix or fd"),
    ts::prop_str("addr.host", nullptr, "inet: host name or address"),
    ts::prop_str("addr.port", nullptr, "inet: port"),
    ts::prop_str("addr.path", nullptr, "unix: socket path"),
    ts::prop_str("addr.str", nullptr, "fd: file descriptor number"),
    ts::prop_bool("addr.numeric", "off", "inet: host and port are numeric"),
    ts::prop_bool("addr.ipv4", "on", "inet: allow IPv4"),
    ts::prop_bool("addr.ipv6", "on", "inet: allow IPv6"),
};
constexpr ts_prop_decl kDgramProps[] = {
    ts::prop_str("local.type", nullptr, "inet or unix"),
    ts::prop_str("local.host", nullptr, "inet: local address (multicast: the interface)"),
    ts::prop_str("local.port", nullptr, "inet: local port"),
    ts::prop_str("local.path", nullptr, "unix: local socket path"),
    ts::prop_str("remote.type", nullptr, "inet or unix"),
    ts::prop_str("remote.host", nullptr, "inet: remote (or multicast group) address"),
    ts::prop_str("remote.port", nullptr, "inet: remote port"),
    ts::prop_str("remote.path", nullptr, "unix: remote socket path"),
};
constexpr ts_prop_decl kSocketProps[] = {
    ts::prop_str("listen", nullptr, "[HOST]:PORT to listen on (stream)"),
    ts::prop_str("connect", nullptr, "HOST:PORT to connect to (stream)"),
    ts::prop_str("mcast", nullptr, "MADDR:PORT multicast group (datagrams)"),
    ts::prop_str("udp", nullptr, "HOST:PORT remote for unicast datagrams"),
    ts::prop_str("localaddr", nullptr, "mcast: interface address; udp: HOST:PORT to bind"),
    ts::prop_str("fd", nullptr, "an already connected stream socket"),
};
const ts_netdev_class kStream = netdev_class<Stream>(kStreamProps);
const ts_netdev_class kDgram = netdev_class<Dgram>(kDgramProps);
const ts_netdev_class kSocket = netdev_class<LegacySocket>(kSocketProps);

constexpr ts::ClassEntry kClasses[] = {{"stream", &kStream}, {"dgram", &kDgram}, {"socket", &kSocket}};
const void *get_class(const char *name) { return ts::find_class(kClasses, name); }

}  // namespace
}  // namespace net

TESSERA_PLUGIN("net-socket", "0.1.0",
               "type netdev stream - - frames over a stream socket (inet, unix)\n"
               "type netdev dgram - - frames as datagrams (udp, multicast, unix)\n"
               "type netdev socket - - the older socket netdev (listen, connect, mcast, udp)\n",
               net::get_class);
