// gdbstub_start/gdbstub_stop: the server's chardev comes and goes, "none"
// stops it and a new device replaces it (HMP "gdbserver").
#include "gdbstub/gdbstub.hpp"

#include "chardev/registry.hpp"
#include "loop/bql.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>

using namespace tessera;

namespace {

// A port nobody listens on right now.
int free_port() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len);
    close(fd);
    return ntohs(a.sin_port);
}

// The kernel's listen backlog accepts without the main loop running.
bool listening(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0;
    close(fd);
    return ok;
}

struct GdbServerTest : ::testing::Test {
    BqlGuard bql;
    void TearDown() override {
        gdbstub_stop();
        chardev_remove_all();
    }
};

}  // namespace

TEST_F(GdbServerTest, NoneStopsAndStartWorksAgain) {
    gdbstub_start("none");  // nothing running: fine
    EXPECT_FALSE(gdbstub_running());
    int port = free_port();
    std::string spec = "tcp:127.0.0.1:" + std::to_string(port);
    gdbstub_start(spec);
    EXPECT_TRUE(gdbstub_running());
    ASSERT_NE(chardev_find("gdb"), nullptr);
    EXPECT_TRUE(listening(port));

    gdbstub_start("none");
    EXPECT_FALSE(gdbstub_running());
    EXPECT_EQ(chardev_find("gdb"), nullptr);
    EXPECT_FALSE(listening(port));

    gdbstub_start(spec);
    EXPECT_TRUE(gdbstub_running());
    EXPECT_TRUE(listening(port));
}

TEST_F(GdbServerTest, SecondDeviceReplacesTheFirst) {
    int p1 = free_port();
    gdbstub_start("tcp:127.0.0.1:" + std::to_string(p1));
    int p2 = free_port();
    ASSERT_NE(p1, p2);
    gdbstub_start("tcp:127.0.0.1:" + std::to_string(p2));
    EXPECT_TRUE(gdbstub_running());
    EXPECT_FALSE(listening(p1));
    EXPECT_TRUE(listening(p2));
    EXPECT_EQ(chardev_ids(), std::vector<std::string>{"gdb"});
}

TEST_F(GdbServerTest, BadSpecKeepsTheRunningServer) {
    gdbstub_start("null");
    EXPECT_THROW(gdbstub_start("nosuchbackend:x"), UsageError);
    EXPECT_TRUE(gdbstub_running());
    EXPECT_NE(chardev_find("gdb"), nullptr);
}

TEST_F(GdbServerTest, UserChardevOutlivesTheServer) {
    chardev_new("mygdb", chardev_legacy_opts("null"));
    gdbstub_start_chardev("mygdb");
    EXPECT_THROW(gdbstub_start_chardev("mygdb"), UsageError);  // one server at a time
    gdbstub_stop();
    EXPECT_FALSE(gdbstub_running());
    ASSERT_NE(chardev_find("mygdb"), nullptr);
    EXPECT_FALSE(chardev_find("mygdb")->has_frontend());
    gdbstub_start_chardev("mygdb");  // attachable again
    EXPECT_TRUE(gdbstub_running());
    EXPECT_THROW(gdbstub_start_chardev("missing"), UsageError);
}
