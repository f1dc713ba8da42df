// QMP's transports in-process: on a socket chardev (one client at a time,
// a reconnect starts a new conversation) and on its own listener (several
// clients; a flooding client is dropped, the others go on).
#include "qmp/qmp.hpp"

#include "chardev/registry.hpp"
#include "loop/main_loop.hpp"

#include <gtest/gtest.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>

using namespace tessera;
namespace fs = std::filesystem;

namespace {

// The loop runs while the test waits for the peer, so the server side works.
struct Peer {
    int fd = -1;
    std::string buf;
    explicit Peer(const std::string &path) {
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        std::strncpy(sa.sun_path, path.c_str(), sizeof sa.sun_path - 1);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (connect(fd, reinterpret_cast<sockaddr *>(&sa), sizeof sa) != 0) {
            close(fd);
            fd = -1;
        }
    }
    ~Peer() {
        if (fd >= 0) close(fd);
    }
    void send(std::string_view s) { (void)!write(fd, s.data(), s.size()); }
    // Next CRLF-terminated message, or "" on EOF/timeout (3 s).
    std::string next() {
        auto end = std::chrono::steady_clock::now() + std::chrono::seconds(3);
        while (std::chrono::steady_clock::now() < end) {
            size_t nl = buf.find("\r\n");
            if (nl != std::string::npos) {
                std::string line = buf.substr(0, nl);
                buf.erase(0, nl + 2);
                return line;
            }
            main_loop().iterate(5'000'000);
            pollfd p{fd, POLLIN, 0};
            if (poll(&p, 1, 0) > 0) {
                char tmp[4096];
                ssize_t n = read(fd, tmp, sizeof tmp);
                if (n <= 0) return "";
                buf.append(tmp, size_t(n));
            }
        }
        return "";
    }
    std::string ask(std::string_view s) {
        send(s);
        return next();
    }
};

std::string temp_path(const char *name) {
    return (fs::temp_directory_path() / (std::string(name) + "-" + std::to_string(getpid()))).string();
}

}  // namespace

TEST(QmpTransport, ChardevClientsStartOverOnReconnect) {
    std::string path = temp_path("qmp-chr");
    KeyVals kv;
    kv.set("backend", "socket");
    kv.set("path", path);
    kv.set("server", "on");
    kv.set("wait", "off");
    chardev_new("qmpchr", kv);
    qmp_start("qmpchr", false);
    {
        Peer p(path);
        ASSERT_GE(p.fd, 0);
        EXPECT_NE(p.next().find("\"QMP\""), std::string::npos);
        EXPECT_EQ(p.ask(R"({"execute": "qmp_capabilities"})"), R"({"return": {}})");
        EXPECT_EQ(p.ask(R"({"execute": "query-name"})"), R"({"return": {}})");
    }
    Peer again(path);
    ASSERT_GE(again.fd, 0);
    EXPECT_NE(again.next().find("\"QMP\""), std::string::npos);
    // A new conversation: negotiation is needed again.
    EXPECT_NE(again.ask(R"({"execute": "query-name"})").find("CommandNotFound"), std::string::npos);
    EXPECT_THROW(qmp_start("nosuch", false), UsageError);
    chardev_remove("qmpchr");
}

TEST(QmpTransport, ListenerServesManyClientsAndDropsAFlood) {
    std::string path = temp_path("qmp-own");
    QmpIdentity id;
    id.name = "vm1";
    qmp_set_identity(id);
    qmp_start_legacy("unix:" + path + ",server=on,wait=off", "qmp-own", false);
    Peer a(path), b(path), flood(path);
    ASSERT_GE(a.fd, 0);
    for (Peer *p : {&a, &b, &flood}) {
        EXPECT_NE(p->next().find("\"QMP\""), std::string::npos);
        EXPECT_EQ(p->ask(R"({"execute": "qmp_capabilities"})"), R"({"return": {}})");
    }
    // An endless string: the client gets an error and is dropped.
    std::string chunk(64 * 1024, 'x');
    flood.send(R"({"execute": "qom-get", "arguments": {"path": ")");
    std::string reply;
    for (int i = 0; i < 20 && reply.empty(); i++) {
        flood.send(chunk);
        pollfd p{flood.fd, POLLIN, 0};
        main_loop().iterate(5'000'000);
        if (poll(&p, 1, 0) > 0) reply = flood.next();
    }
    EXPECT_NE(reply.find("GenericError"), std::string::npos) << reply;
    EXPECT_EQ(flood.next(), "");  // then EOF
    // The others are fine, and events reach them all.
    EXPECT_EQ(a.ask(R"({"execute": "query-name", "id": 1})"), R"({"return": {"name": "vm1"}, "id": 1})");
    qmp_emit_event("POWERDOWN");
    EXPECT_NE(a.next().find("\"event\": \"POWERDOWN\""), std::string::npos);
    EXPECT_NE(b.next().find("\"event\": \"POWERDOWN\""), std::string::npos);
    qmp_stop_all();
    EXPECT_FALSE(fs::exists(path));
}

TEST(QmpTransport, LegacySpecErrors) {
    EXPECT_THROW(qmp_start_legacy("bogus:thing", "x", false), UsageError);
    EXPECT_THROW(qmp_start_legacy("unix:/nonexistent-dir/sock,server=on,wait=off", "y", false), UsageError);
}
