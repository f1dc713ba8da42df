// QMP transports (a chardev front end, or QMP's own listening socket with
// any number of clients), event broadcast and the run-state events.
#include "qmp/qmp_internal.hpp"
#include "qmp/session.hpp"

#include "chardev/registry.hpp"
#include "loop/main_loop.hpp"
#include "vcpu/vcpu.hpp"

#include <tessera/host.h>

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

namespace tessera {

namespace {

// Output a client does not read piles up to this much, then it is dropped
// rather than letting it hold the VM's memory hostage.
constexpr size_t kMaxOutput = 16u << 20;

class Client {
public:
    virtual ~Client() = default;
    virtual bool alive() const { return true; }
    QmpSession &session() { return *session_; }

protected:
    std::unique_ptr<QmpSession> session_;
};

std::vector<std::unique_ptr<Client>> &clients() {
    static std::vector<std::unique_ptr<Client>> c;
    return c;
}

// Clients close themselves from inside their own callbacks; they are freed
// later, from this bottom half.
Bh *reap_bh() {
    static Bh *bh = main_loop().bh_new(
        [](void *) {
            std::erase_if(clients(), [](const auto &c) { return !c->alive(); });
        },
        nullptr);
    return bh;
}

// ---- A socket client of QMP's own listener ----
class SocketClient : public Client {
public:
    SocketClient(int fd, bool pretty) : fd_(fd) {
        session_ = std::make_unique<QmpSession>(
            QmpSession::Io{[this](std::string_view s) { write(s); }, [this] { close(); }}, pretty);
        main_loop().set_fd_handler(fd_, [](void *c, int) { static_cast<SocketClient *>(c)->readable(); }, nullptr,
                                   this);
    }
    // Only the fd: at exit the main loop may be gone already (close() first
    // when it is not).
    ~SocketClient() override {
        if (fd_ >= 0) ::close(fd_);
    }
    bool alive() const override { return fd_ >= 0; }

    // Blocks (briefly) until queued output is out; used at exit.
    void flush(int timeout_ms) {
        while (fd_ >= 0 && !out_.empty()) {
            pollfd p{fd_, POLLOUT, 0};
            if (poll(&p, 1, timeout_ms) <= 0) return;
            writable();
        }
    }

private:
    void readable() {
        char buf[65536];
        ssize_t n = recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) {
            session_->input(std::string_view(buf, size_t(n)));
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            close();  // mid-command or not, the VM runs on
        }
    }
    void write(std::string_view s) {
        if (fd_ < 0) return;
        if (out_.empty()) {
            ssize_t n = send(fd_, s.data(), s.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n < 0 && errno != EAGAIN && errno != EINTR) {
                close();
                return;
            }
            s.remove_prefix(n > 0 ? size_t(n) : 0);
        }
        if (s.empty()) return;
        out_ += s;
        if (out_.size() > kMaxOutput) {
            close();
            return;
        }
        watch(true);
    }
    void writable() {
        ssize_t n = send(fd_, out_.data(), out_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            close();
            return;
        }
        out_.erase(0, n > 0 ? size_t(n) : 0);
        if (out_.empty()) watch(false);
    }
    void watch(bool want_write) {
        main_loop().set_fd_handler(
            fd_, [](void *c, int) { static_cast<SocketClient *>(c)->readable(); },
            want_write ? [](void *c, int) { static_cast<SocketClient *>(c)->writable(); } : FdCallback{}, this);
    }
public:
    void close() {
        if (fd_ < 0) return;
        main_loop().set_fd_handler(fd_, nullptr, nullptr, nullptr);
        ::close(fd_);
        fd_ = -1;
        out_.clear();
        main_loop().bh_schedule(reap_bh());
    }

private:
    int fd_;
    std::string out_;
};

// ---- A chardev front end (one client at a time, reconnects restart) ----
class ChardevClient : public Client {
public:
    ChardevClient(Chardev &chr, bool pretty) {
        session_ = std::make_unique<QmpSession>(QmpSession::Io{[this](std::string_view s) {
                                                                   if (fe_) fe_->write(s);
                                                                   else early_ += s;
                                                               },
                                                               {}},
                                                pretty);
        ChrHandlers h;
        h.can_receive = [] { return size_t(65536); };
        h.receive = [this](std::span<const uint8_t> d) {
            session_->input(std::string_view(reinterpret_cast<const char *>(d.data()), d.size()));
        };
        h.event = [this](ChrEvent e) {
            if (e == ChrEvent::Opened || e == ChrEvent::MuxIn) session_->greet();
        };
        fe_ = &chr.attach(std::move(h));
        if (!early_.empty()) fe_->write(std::exchange(early_, {}));
    }

private:
    ChrFrontend *fe_ = nullptr;
    std::string early_;
};

// ---- QMP's own listening socket ----
class Listener {
public:
    Listener(int fd, std::string unix_path, bool pretty) : fd_(fd), path_(std::move(unix_path)), pretty_(pretty) {
        main_loop().set_fd_handler(fd_, [](void *l, int) { static_cast<Listener *>(l)->accept_one(false); },
                                   nullptr, this);
    }
    ~Listener() {
        ::close(fd_);
        if (!path_.empty()) unlink(path_.c_str());
    }
    void stop() { main_loop().set_fd_handler(fd_, nullptr, nullptr, nullptr); }
    void accept_one(bool blocking) {
        int c;
        do
            c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC | (blocking ? 0 : SOCK_NONBLOCK));
        while (c < 0 && errno == EINTR && blocking);
        if (c < 0) return;
        if (blocking) fcntl(c, F_SETFL, fcntl(c, F_GETFL) | O_NONBLOCK);
        auto client = std::make_unique<SocketClient>(c, pretty_);
        client->session().greet();
        clients().push_back(std::move(client));
    }

private:
    int fd_;
    std::string path_;
    bool pretty_;
};

std::vector<std::unique_ptr<Listener>> &listeners() {
    static std::vector<std::unique_ptr<Listener>> l;
    return l;
}

std::string errno_text() { return std::strerror(errno); }

int listen_unix(const std::string &path) {
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.size() >= sizeof sa.sun_path) throw UsageError("UNIX socket path '" + path + "' is too long");
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    unlink(path.c_str());
    if (s < 0 || bind(s, reinterpret_cast<sockaddr *>(&sa), sizeof sa) != 0 || listen(s, 16) != 0) {
        std::string m = "Failed to bind socket to " + path + ": " + errno_text();
        if (s >= 0) ::close(s);
        throw UsageError(m);
    }
    return s;
}

int listen_tcp(const std::string &host, const std::string &port) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    addrinfo *list = nullptr;
    int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &list);
    if (rc != 0) throw UsageError("address resolution failed for " + host + ":" + port + ": " + gai_strerror(rc));
    std::unique_ptr<addrinfo, void (*)(addrinfo *)> keep(list, freeaddrinfo);
    int err = 0;
    for (addrinfo *ai = list; ai; ai = ai->ai_next) {
        int s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        int one = 1;
        if (s >= 0) setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (s >= 0 && bind(s, ai->ai_addr, ai->ai_addrlen) == 0 && listen(s, 16) == 0) return s;
        err = errno;
        if (s >= 0) ::close(s);
    }
    throw UsageError("Failed to bind socket: " + std::string(std::strerror(err)));
}

// ---- Run-state events ----
QmpIdentity g_identity;
std::atomic<int> g_shutdown_cause{0};
std::atomic<bool> g_shutdown_signal{false};
RunState g_last_state = RunState::Prelaunch;
bool g_stop_pending = false;
bool g_listening = false;
bool g_host_reset_reported = false;  // system_reset sent RESET before the reset ran

Json shutdown_data() {
    int cause = g_shutdown_cause.exchange(0);
    bool sig = g_shutdown_signal.exchange(false);
    switch (cause) {
    case TS_SHUTDOWN_GUEST_POWEROFF: return Json::Object{{"guest", true}, {"reason", "guest-shutdown"}};
    case TS_SHUTDOWN_GUEST_RESET: return Json::Object{{"guest", true}, {"reason", "guest-reset"}};
    case TS_SHUTDOWN_GUEST_PANIC: return Json::Object{{"guest", true}, {"reason", "guest-panic"}};
    default: return Json::Object{{"guest", false}, {"reason", sig ? "host-signal" : "host-qmp-quit"}};
    }
}

// A stop that is followed by a start within the same main-loop callback (a
// reset) is not news: STOP waits for this bottom half.
Bh *stop_bh() {
    static Bh *bh = main_loop().bh_new([](void *) { qmp_flush_state_events(); }, nullptr);
    return bh;
}

void on_run_state(RunState s) {
    RunState prev = std::exchange(g_last_state, s);
    if (s == RunState::Running) {
        if (g_stop_pending) {
            g_stop_pending = false;
            return;
        }
        if (prev != RunState::Running) qmp_emit_event("RESUME");
    } else if (s == RunState::Shutdown) {
        g_stop_pending = false;
        if (prev != RunState::Shutdown) qmp_emit_event("SHUTDOWN", shutdown_data());
    } else if (prev == RunState::Running) {
        g_stop_pending = true;
        main_loop().bh_schedule(stop_bh());
    }
}

void ensure_listening() {
    if (g_listening) return;
    g_listening = true;
    g_last_state = runstate();
    vcpu_add_state_listener(on_run_state);
}

}  // namespace

const QmpIdentity &qmp_identity() { return g_identity; }
void qmp_set_identity(QmpIdentity id) { g_identity = std::move(id); }

void qmp_note_quit() {
    g_shutdown_cause = TS_SHUTDOWN_HOST_QUIT;
    g_shutdown_signal = false;
}
void qmp_note_shutdown_cause(int ts_cause, bool from_signal) {
    g_shutdown_cause = ts_cause;
    // A signal handler notes first, then requests HOST_QUIT like any quit:
    // the later plain note must not hide the signal.
    if (ts_cause != TS_SHUTDOWN_HOST_QUIT) g_shutdown_signal = false;
    else if (from_signal) g_shutdown_signal = true;
}

void qmp_note_host_reset() { g_host_reset_reported = true; }

void qmp_reset_done() {
    if (std::exchange(g_host_reset_reported, false)) return;  // the command told its clients already
    qmp_emit_event("RESET", Json::Object{{"guest", true}, {"reason", "guest-reset"}});
}

void qmp_flush_state_events() {
    if (!g_stop_pending) return;
    g_stop_pending = false;
    qmp_emit_event("STOP");
}

void qmp_emit_event(std::string_view name, Json data) {
    Json msg = Json::Object{{"timestamp", qmp_timestamp()}, {"event", name}};
    if (!data.is_null()) msg.set("data", std::move(data));
    // A client may drop out while we send: iterate by index over a stable list.
    auto &cs = clients();
    for (size_t i = 0; i < cs.size(); i++)
        if (cs[i]->alive()) cs[i]->session().event(msg);
}

void qmp_start(const std::string &chardev_id, bool pretty) {
    Chardev *chr = chardev_find(chardev_id);
    if (!chr) throw UsageError("-mon: chardev '" + chardev_id + "' not found");
    ensure_listening();
    clients().push_back(std::make_unique<ChardevClient>(*chr, pretty));
}

void qmp_start_legacy(std::string_view spec, const std::string &id, bool pretty) {
    KeyVals kv = chardev_legacy_opts(spec);
    bool own = kv.get("backend") == "socket" && kv.has("server") && parse_bool(kv.get("server"));
    for (const auto &[k, v] : kv.items)
        own = own && (k == "backend" || k == "path" || k == "host" || k == "port" || k == "server" || k == "wait");
    if (!own) {
        std::string chr = chardev_from_legacy(spec, id);
        if (chr.empty()) return;  // "none"
        qmp_start(chr, pretty);
        return;
    }
    std::string path = kv.get("path");
    int fd = kv.has("path") ? listen_unix(path) : listen_tcp(kv.get("host"), kv.get("port"));
    ensure_listening();
    auto l = std::make_unique<Listener>(fd, path, pretty);
    if (!kv.has("wait") || parse_bool(kv.get("wait"))) {
        // Worded like the socket chardev's (and the reference's) notice.
        std::string where = path.empty() ? "tcp:" + kv.get("host") + ":" + kv.get("port") : "unix:" + path;
        std::fprintf(stderr, "info: tessera waiting for connection on: disconnected:%s,server=on\n", where.c_str());
        l->accept_one(true);
    }
    listeners().push_back(std::move(l));
}

void qmp_stop_all() {
    for (auto &c : clients())
        if (auto *s = dynamic_cast<SocketClient *>(c.get())) {
            s->flush(200);
            s->close();
        }
    for (auto &l : listeners()) l->stop();
    listeners().clear();
    clients().clear();
}

}  // namespace tessera
