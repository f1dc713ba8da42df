// Stream sockets (tcp and unix, client or server) and udp.
#include "chardev/backends.hpp"
#include "loop/main_loop.hpp"
#include "loop/timer.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <optional>

namespace tessera {
namespace {

std::string errno_text(int e) { return std::strerror(e); }

// Owns a socket fd.
struct Fd {
    int fd = -1;
    Fd() = default;
    explicit Fd(int f) : fd(f) {}
    Fd(Fd &&o) noexcept : fd(std::exchange(o.fd, -1)) {}
    Fd &operator=(Fd &&o) noexcept
    {
        reset();
        fd = std::exchange(o.fd, -1);
        return *this;
    }
    ~Fd() { reset(); }
    void reset()
    {
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    explicit operator bool() const { return fd >= 0; }
};

// "host:port" with brackets around IPv6 literals.
std::string host_port(const std::string &host, const std::string &port)
{
    return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + port;
}

struct AddrList {
    addrinfo *list = nullptr;
    ~AddrList() { freeaddrinfo(list); }
};

void resolve(AddrList &out, const std::string &host, const std::string &port, int socktype, bool passive)
{
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = socktype;
    hints.ai_flags = passive ? AI_PASSIVE : 0;
    int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &out.list);
    if (rc != 0)
        throw UsageError("address resolution failed for " + host_port(host, port) + ": " + gai_strerror(rc));
}

std::string sockaddr_text(const sockaddr_storage &ss)
{
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (ss.ss_family == AF_INET) {
        auto *a = reinterpret_cast<const sockaddr_in *>(&ss);
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        port = ntohs(a->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        auto *a = reinterpret_cast<const sockaddr_in6 *>(&ss);
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        port = ntohs(a->sin6_port);
    } else {
        return "unix";
    }
    return host_port(host, std::to_string(port));
}

int bound_port(int fd)
{
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (fd < 0 || getsockname(fd, reinterpret_cast<sockaddr *>(&ss), &len) != 0)
        return -1;
    if (ss.ss_family == AF_INET)
        return ntohs(reinterpret_cast<sockaddr_in *>(&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(reinterpret_cast<sockaddr_in6 *>(&ss)->sin6_port);
    return -1;
}

sockaddr_un unix_addr(const std::string &path)
{
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.size() >= sizeof sa.sun_path)
        throw UsageError("UNIX socket path '" + path + "' is too long");
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    return sa;
}

// Where a stream socket goes: tcp host/port or a unix path.
struct StreamAddr {
    bool is_unix = false;
    std::string host, port, path;
    std::string text() const { return is_unix ? path : host_port(host, port); }
};

Fd stream_listen(const StreamAddr &a)
{
    if (a.is_unix) {
        sockaddr_un sa = unix_addr(a.path);
        Fd s(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        unlink(a.path.c_str());
        if (!s || bind(s.fd, reinterpret_cast<sockaddr *>(&sa), sizeof sa) != 0 || listen(s.fd, 1) != 0)
            throw UsageError("Failed to bind socket to " + a.path + ": " + errno_text(errno));
        return s;
    }
    AddrList addrs;
    resolve(addrs, a.host, a.port, SOCK_STREAM, true);
    int err = 0;
    for (addrinfo *ai = addrs.list; ai; ai = ai->ai_next) {
        Fd s(socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
        int one = 1;
        if (s)
            setsockopt(s.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (s && bind(s.fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(s.fd, 1) == 0)
            return s;
        err = errno;
    }
    throw UsageError("Failed to bind socket: " + errno_text(err));
}

// Blocking connect; an empty Fd and errno on failure.
Fd stream_connect(const StreamAddr &a, int &err)
{
    if (a.is_unix) {
        sockaddr_un sa = unix_addr(a.path);
        Fd s(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (s && connect(s.fd, reinterpret_cast<sockaddr *>(&sa), sizeof sa) == 0)
            return s;
        err = errno;
        return {};
    }
    AddrList addrs;
    resolve(addrs, a.host, a.port, SOCK_STREAM, false);
    err = ECONNREFUSED;
    for (addrinfo *ai = addrs.list; ai; ai = ai->ai_next) {
        Fd s(socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
        if (s && connect(s.fd, ai->ai_addr, ai->ai_addrlen) == 0)
            return s;
        err = errno;
    }
    return {};
}

size_t send_all(int fd, std::span<const uint8_t> data, bool &broken)
{
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
        if (n > 0) {
            done += size_t(n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && errno == EAGAIN) {
            pollfd p{fd, POLLOUT, 0};
            poll(&p, 1, -1);
        } else {
            broken = true;
            break;
        }
    }
    return done;
}

class SocketChardev : public Chardev {
public:
    SocketChardev(std::string id, StreamAddr addr, bool server, bool nodelay, int reconnect_s)
        : Chardev(std::move(id)), addr_(std::move(addr)), server_(server), nodelay_(nodelay),
          reconnect_s_(reconnect_s),
          retry_(Clock::Realtime, [](void *s) { static_cast<SocketChardev *>(s)->retry(); }, this)
    {
    }
    ~SocketChardev() override
    {
        drop_connection(false);
        if (listener_) {
            main_loop().set_fd_handler(listener_.fd, nullptr, nullptr, nullptr);
            if (addr_.is_unix)
                unlink(addr_.path.c_str());
        }
    }
    std::string_view kind() const override { return "socket"; }
    int local_port() const override { return bound_port(listener_ ? listener_.fd : conn_.fd); }

    std::string filename() const override
    {
        std::string base = addr_.is_unix ? "unix:" + addr_.path : "tcp:" + addr_.text();
        if (server_)
            base += ",server=on";
        if (!conn_)
            return "disconnected:" + base;
        return base + " <-> " + peer_;
    }

    void listen_on(Fd listener)
    {
        listener_ = std::move(listener);
        if (!addr_.is_unix && addr_.port == "0")
            addr_.port = std::to_string(bound_port(listener_.fd));
        watch_listener();
    }
    // Server with wait=on: block until the first client.
    void wait_for_client()
    {
        chardev_info("info: tessera waiting for connection on: " + filename());
        int fd;
        do
            fd = accept4(listener_.fd, nullptr, nullptr, SOCK_CLOEXEC);
        while (fd < 0 && errno == EINTR);
        if (fd < 0)
            throw UsageError("Failed to accept connection: " + errno_text(errno));
        main_loop().set_fd_handler(listener_.fd, nullptr, nullptr, nullptr);
        connected(Fd(fd));
    }
    // Client: connect now; failing is an error unless reconnect= retries.
    void try_connect(bool first)
    {
        int err = 0;
        Fd s = stream_connect(addr_, err);
        if (s) {
            connected(std::move(s));
            return;
        }
        if (reconnect_s_ <= 0 && first)
            throw UsageError("could not connect to " + addr_.text() + ": " + errno_text(err));
        if (reconnect_s_ > 0)
            retry_.mod(clock_ns(Clock::Realtime) + int64_t(reconnect_s_) * 1'000'000'000);
    }
    // reconnect= timer: errors (a name that stopped resolving) only delay.
    void retry()
    {
        try {
            try_connect(false);
        } catch (const UsageError &) {
            retry_.mod(clock_ns(Clock::Realtime) + int64_t(reconnect_s_) * 1'000'000'000);
        }
    }
    void adopt(Fd connected_fd) { connected(std::move(connected_fd)); }

protected:
    size_t backend_write(std::span<const uint8_t> data) override
    {
        if (!conn_)
            return data.size();  // nobody there: drop, as the reference does
        bool broken = false;
        size_t n = send_all(conn_.fd, data, broken);
        if (broken)
            drop_connection(true);
        return broken ? data.size() : n;
    }
    void backend_accept_input() override
    {
        if (conn_ && !watching_ && has_frontend()) {
            watching_ = true;
            main_loop().set_fd_handler(conn_.fd, [](void *s, int) { static_cast<SocketChardev *>(s)->on_readable(); },
                                       nullptr, this);
        }
    }

private:
    void watch_listener()
    {
        main_loop().set_fd_handler(listener_.fd, [](void *s, int) { static_cast<SocketChardev *>(s)->on_accept(); },
                                   nullptr, this);
    }
    void on_accept()
    {
        int fd = accept4(listener_.fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
            return;
        // One client at a time: stop listening until it leaves.
        main_loop().set_fd_handler(listener_.fd, nullptr, nullptr, nullptr);
        connected(Fd(fd));
    }
    void connected(Fd s)
    {
        conn_ = std::move(s);
        if (nodelay_ && !addr_.is_unix) {
            int one = 1;
            setsockopt(conn_.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        }
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        getpeername(conn_.fd, reinterpret_cast<sockaddr *>(&ss), &len);
        peer_ = addr_.is_unix ? "unix" : sockaddr_text(ss);
        set_open(true);
        backend_accept_input();
    }
    void drop_connection(bool notify)
    {
        if (!conn_)
            return;
        if (watching_)
            main_loop().set_fd_handler(conn_.fd, nullptr, nullptr, nullptr);
        watching_ = false;
        conn_.reset();
        if (!notify)
            return;
        set_open(false);
        if (server_ && listener_)
            watch_listener();
        else if (!server_ && reconnect_s_ > 0)
            retry_.mod(clock_ns(Clock::Realtime) + int64_t(reconnect_s_) * 1'000'000'000);
    }
    void on_readable()
    {
        size_t room = frontend_can_receive();
        if (room == 0) {
            main_loop().set_fd_handler(conn_.fd, nullptr, nullptr, nullptr);
            watching_ = false;
            return;
        }
        std::array<uint8_t, 4096> buf;
        ssize_t n = recv(conn_.fd, buf.data(), std::min(room, buf.size()), MSG_DONTWAIT);
        if (n > 0)
            frontend_receive(std::span(buf.data(), size_t(n)));
        else if (n == 0 || (errno != EAGAIN && errno != EINTR))
            drop_connection(true);
    }

    StreamAddr addr_;
    bool server_, nodelay_;
    int reconnect_s_;
    Fd listener_, conn_;
    std::string peer_;
    bool watching_ = false;
    Timer retry_;
};

// udp: one socket connected to the remote; datagrams are delivered as the
// front end makes room.
class UdpChardev : public Chardev {
public:
    UdpChardev(std::string id, Fd s) : Chardev(std::move(id)), sock_(std::move(s)) { set_open(true); }
    ~UdpChardev() override
    {
        if (watching_)
            main_loop().set_fd_handler(sock_.fd, nullptr, nullptr, nullptr);
    }
    std::string_view kind() const override { return "udp"; }
    int local_port() const override { return bound_port(sock_.fd); }

protected:
    size_t backend_write(std::span<const uint8_t> data) override
    {
        // Datagrams to nobody are not the front end's problem.
        send(sock_.fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        return data.size();
    }
    void backend_accept_input() override
    {
        flush();
        if (pending_.empty() && !watching_ && has_frontend()) {
            watching_ = true;
            main_loop().set_fd_handler(sock_.fd, [](void *s, int) { static_cast<UdpChardev *>(s)->on_readable(); },
                                       nullptr, this);
        }
    }

private:
    void flush()
    {
        while (!pending_.empty()) {
            size_t room = std::min(frontend_can_receive(), pending_.size());
            if (room == 0)
                return;
            std::vector<uint8_t> chunk(pending_.begin(), pending_.begin() + long(room));
            pending_.erase(pending_.begin(), pending_.begin() + long(room));
            frontend_receive(chunk);
        }
    }
    void on_readable()
    {
        std::vector<uint8_t> buf(65536);
        ssize_t n = recv(sock_.fd, buf.data(), buf.size(), MSG_DONTWAIT);
        if (n <= 0)
            return;  // ICMP errors from an absent peer and the like
        pending_.assign(buf.begin(), buf.begin() + n);
        flush();
        if (!pending_.empty()) {  // full: wait for accept_input()
            main_loop().set_fd_handler(sock_.fd, nullptr, nullptr, nullptr);
            watching_ = false;
        }
    }
    Fd sock_;
    std::vector<uint8_t> pending_;
    bool watching_ = false;
};

bool is_listening_socket(int fd)
{
    int on = 0;
    socklen_t len = sizeof on;
    return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on;
}

}  // namespace

ChardevPtr make_socket_chardev(const std::string &id, const KeyVals &opts)
{
    bool server = opt_bool(opts, "server", false);
    bool wait = opt_bool(opts, "wait", true);
    bool nodelay = opt_bool(opts, "nodelay", false);
    int reconnect = int(opts.has("reconnect") ? parse_int(opts.get("reconnect")) : 0);
    if (opt_bool(opts, "telnet", false) || opt_bool(opts, "tn3270", false) || opt_bool(opts, "websocket", false))
        throw UsageError("chardev: socket: telnet, tn3270 and websocket are not supported");

    StreamAddr addr;
    if (opts.has("fd")) {
        int fd = int(parse_int(opts.get("fd")));
        int type = 0;
        socklen_t len = sizeof type;
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM)
            throw UsageError("File descriptor '" + opts.get("fd") + "' is not a stream socket");
        bool listening = is_listening_socket(fd);
        addr.host = "fd";
        addr.port = opts.get("fd");
        auto chr = std::make_unique<SocketChardev>(id, addr, listening, nodelay, 0);
        if (listening) {
            chr->listen_on(Fd(fd));
            if (wait && server)
                chr->wait_for_client();
        } else {
            chr->adopt(Fd(fd));
        }
        return chr;
    }
    if (opts.has("path")) {
        addr.is_unix = true;
        addr.path = opts.get("path");
    } else {
        if (!opts.has("port"))
            throw UsageError("chardev: socket: no port given");
        addr.host = opts.get("host", server ? "" : "localhost");
        addr.port = opts.get("port");
        if (addr.host.empty() && server)
            addr.host = "0.0.0.0";
    }
    if (server && reconnect > 0)
        throw UsageError("'reconnect' option is incompatible with 'server' option");
    auto chr = std::make_unique<SocketChardev>(id, addr, server, nodelay, reconnect);
    if (server) {
        chr->listen_on(stream_listen(addr));
        if (wait)
            chr->wait_for_client();
    } else {
        chr->try_connect(true);
    }
    return chr;
}

ChardevPtr make_udp_chardev(const std::string &id, const KeyVals &opts)
{
    if (!opts.has("port"))
        throw UsageError("chardev: udp: remote port not specified");
    std::string host = opts.get("host", "localhost"), port = opts.get("port");
    AddrList remote;
    resolve(remote, host, port, SOCK_DGRAM, false);
    Fd s(socket(remote.list->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!s)
        throw UsageError("Failed to create socket: " + errno_text(errno));
    std::string laddr = opts.get("localaddr"), lport = opts.get("localport", "0");
    if (!laddr.empty() || lport != "0") {
        AddrList local;
        addrinfo hints{};
        hints.ai_family = remote.list->ai_family;
        hints.ai_socktype = SOCK_DGRAM;
        hints.ai_flags = AI_PASSIVE;
        int rc = getaddrinfo(laddr.empty() ? nullptr : laddr.c_str(), lport.c_str(), &hints, &local.list);
        if (rc != 0)
            throw UsageError("address resolution failed for " + host_port(laddr, lport) + ": " + gai_strerror(rc));
        if (bind(s.fd, local.list->ai_addr, local.list->ai_addrlen) != 0)
            throw UsageError("Failed to bind socket: " + errno_text(errno));
    }
    if (connect(s.fd, remote.list->ai_addr, remote.list->ai_addrlen) != 0)
        throw UsageError("could not connect to " + host_port(host, port) + ": " + errno_text(errno));
    return std::make_unique<UdpChardev>(id, std::move(s));
}

}  // namespace tessera
