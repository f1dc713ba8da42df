#include "chardev/registry.hpp"
#include "chardev/ringbuf.hpp"
#include "helpers.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

using namespace tessera;
using namespace tessera::test;
namespace fs = std::filesystem;

namespace {

KeyVals kv(std::initializer_list<std::pair<std::string, std::string>> items)
{
    KeyVals k;
    for (auto &[a, b] : items)
        k.set(a, b);
    return k;
}

// A fresh temporary folder per test, removed afterwards.
class ChardevBackend : public ::testing::Test {
protected:
    void SetUp() override
    {
        char tmpl[] = "/tmp/tessera-chardev-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override
    {
        chardev_remove_all();
        fs::remove_all(dir_);
    }
    std::string path(const std::string &name) const { return (dir_ / name).string(); }
    fs::path dir_;
};

int tcp_connect(int port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(uint16_t(port));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(connect(s, reinterpret_cast<sockaddr *>(&sa), sizeof sa), 0);
    return s;
}

// A bound socket on 127.0.0.1 with an ephemeral port; returns the port.
int bind_loopback(int s)
{
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(s, reinterpret_cast<sockaddr *>(&sa), sizeof sa), 0);
    socklen_t len = sizeof sa;
    getsockname(s, reinterpret_cast<sockaddr *>(&sa), &len);
    return ntohs(sa.sin_port);
}

std::string slurp(const std::string &p)
{
    std::ifstream in(p);
    return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace

TEST_F(ChardevBackend, TcpServerRoundTrip)
{
    Chardev &chr = chardev_new("srv", kv({{"backend", "socket"}, {"host", "127.0.0.1"}, {"port", "0"},
                                          {"server", "on"}, {"wait", "off"}, {"nodelay", "on"}}));
    Recorder rec;
    ChrFrontend &fe = chr.attach(rec.handlers());
    int port = chr.local_port();
    ASSERT_GT(port, 0);
    EXPECT_EQ(chr.filename(), "disconnected:tcp:127.0.0.1:" + std::to_string(port) + ",server=on");
    EXPECT_EQ(fe.write(bytes("lost")), 4u);  // nobody connected: swallowed

    int client = tcp_connect(port);
    ASSERT_TRUE(spin_until([&] { return chr.is_open(); }));
    EXPECT_TRUE(rec.saw(ChrEvent::Opened));
    ASSERT_EQ(send(client, "ping", 4, 0), 4);
    ASSERT_TRUE(spin_until([&] { return rec.got == "ping"; }));
    EXPECT_EQ(fe.write(bytes("pong")), 4u);
    EXPECT_EQ(read_some(client, 4), "pong");

    close(client);
    ASSERT_TRUE(spin_until([&] { return rec.saw(ChrEvent::Closed); }));
    // Listening again: a second client gets in.
    int again = tcp_connect(port);
    ASSERT_TRUE(spin_until([&] { return chr.is_open(); }));
    close(again);
}

TEST_F(ChardevBackend, TcpClientConnectsAndReportsRefusal)
{
    int lst = socket(AF_INET, SOCK_STREAM, 0);
    int reuse = 1;  // the port is bound again below
    setsockopt(lst, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse);
    int port = bind_loopback(lst);
    ASSERT_EQ(listen(lst, 1), 0);
    Chardev &chr = chardev_new("cli", kv({{"backend", "socket"}, {"host", "127.0.0.1"}, {"port", std::to_string(port)}}));
    int peer = accept(lst, nullptr, nullptr);
    ASSERT_GE(peer, 0);
    Recorder rec;
    ChrFrontend &fe = chr.attach(rec.handlers());
    EXPECT_EQ(rec.events, std::vector<ChrEvent>{ChrEvent::Opened});  // already connected at attach
    fe.write(bytes("hello"));
    EXPECT_EQ(read_some(peer, 5), "hello");
    ASSERT_EQ(write(peer, "back", 4), 4);
    ASSERT_TRUE(spin_until([&] { return rec.got == "back"; }));
    close(peer);
    close(lst);  // port now closed

    try {
        chardev_new("refused", kv({{"backend", "socket"}, {"host", "127.0.0.1"}, {"port", std::to_string(port)}}));
        FAIL() << "connected to a closed port";
    } catch (const UsageError &e) {
        EXPECT_EQ(std::string(e.what()), "could not connect to 127.0.0.1:" + std::to_string(port) + ": Connection refused");
    }
    EXPECT_EQ(chardev_find("refused"), nullptr);
    // With reconnect= the failure is not fatal.
    EXPECT_NO_THROW(chardev_new("retry", kv({{"backend", "socket"}, {"host", "127.0.0.1"},
                                             {"port", std::to_string(port)}, {"reconnect", "1"}})));
    Chardev &retry = *chardev_find("retry");
    EXPECT_FALSE(retry.is_open());
    // Once something listens there, the next attempt (1 s later) gets in.
    int again = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(again, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(uint16_t(port));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(again, reinterpret_cast<sockaddr *>(&sa), sizeof sa), 0);
    ASSERT_EQ(listen(again, 1), 0);
    EXPECT_TRUE(spin_until([&] { return retry.is_open(); }, std::chrono::milliseconds(3000)));
    close(again);
}

TEST_F(ChardevBackend, InheritedListeningFd)
{
    int lst = socket(AF_INET, SOCK_STREAM, 0);
    int port = bind_loopback(lst);
    ASSERT_EQ(listen(lst, 1), 0);
    Chardev &chr = chardev_new("fd", kv({{"backend", "socket"}, {"fd", std::to_string(lst)}, {"server", "on"},
                                         {"wait", "off"}}));
    Recorder rec;
    chr.attach(rec.handlers());
    EXPECT_EQ(chr.local_port(), port);
    int c = tcp_connect(port);
    ASSERT_TRUE(spin_until([&] { return rec.saw(ChrEvent::Opened); }));
    close(c);
}

TEST_F(ChardevBackend, UnixSocketServer)
{
    std::string sock = path("s.sock");
    Chardev &chr = chardev_new("u", kv({{"backend", "socket"}, {"path", sock}, {"server", "on"}, {"wait", "off"}}));
    Recorder rec;
    ChrFrontend &fe = chr.attach(rec.handlers());
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::strcpy(sa.sun_path, sock.c_str());
    ASSERT_EQ(connect(c, reinterpret_cast<sockaddr *>(&sa), sizeof sa), 0);
    ASSERT_TRUE(spin_until([&] { return chr.is_open(); }));
    ASSERT_EQ(send(c, "abc", 3, 0), 3);
    ASSERT_TRUE(spin_until([&] { return rec.got == "abc"; }));
    fe.write(bytes("xyz"));
    EXPECT_EQ(read_some(c, 3), "xyz");
    close(c);
    chardev_remove("u");
    EXPECT_FALSE(fs::exists(sock));  // the server cleans up its socket file
}

TEST_F(ChardevBackend, UnixSocketClientErrorNamesPath)
{
    std::string sock = path("missing.sock");
    try {
        chardev_new("u", kv({{"backend", "socket"}, {"path", sock}}));
        FAIL();
    } catch (const UsageError &e) {
        EXPECT_EQ(std::string(e.what()), "could not connect to " + sock + ": No such file or directory");
    }
}

TEST_F(ChardevBackend, PtyOpenAndEcho)
{
    std::string info;
    chardev_set_info_hook([&](const std::string &line) { info = line; });
    Chardev &chr = chardev_new("serial0", kv({{"backend", "pty"}}));
    chardev_set_info_hook(nullptr);
    ASSERT_TRUE(chr.filename().starts_with("pty:/dev/pts/")) << chr.filename();
    std::string slave = chr.filename().substr(4);
    EXPECT_EQ(info, "char device redirected to " + slave + " (label serial0)");

    Recorder rec;
    ChrFrontend &fe = chr.attach(rec.handlers());
    // A fresh pty counts as connected (the reference's behaviour): output
    // waits in the pty for the first reader.
    EXPECT_TRUE(chr.is_open());
    EXPECT_EQ(fe.write(bytes("early ")), 6u);

    int s = open(slave.c_str(), O_RDWR | O_NOCTTY);
    ASSERT_GE(s, 0);
    fe.write(bytes("hello"));
    EXPECT_EQ(read_some(s, 11), "early hello");
    ASSERT_EQ(write(s, "typed\r", 6), 6);
    ASSERT_TRUE(spin_until([&] { return rec.got == "typed\r"; }));  // raw: no CR translation
    close(s);
    ASSERT_TRUE(spin_until([&] { return rec.saw(ChrEvent::Closed); }));
    EXPECT_FALSE(chr.is_open());
    EXPECT_EQ(fe.write(bytes("dropped")), 7u);  // nobody there: swallowed

    s = open(slave.c_str(), O_RDWR | O_NOCTTY);
    ASSERT_GE(s, 0);
    fe.write(bytes("again"));  // the write notices the new reader
    EXPECT_TRUE(chr.is_open());
    EXPECT_EQ(read_some(s, 5), "again");
    ASSERT_EQ(write(s, "in", 2), 2);
    ASSERT_TRUE(spin_until([&] { return rec.got == "typed\rin"; }));
    close(s);
}

TEST_F(ChardevBackend, FileAppendAndTruncate)
{
    std::string f = path("out.txt");
    {
        std::ofstream(f) << "old\n";
    }
    Chardev &a = chardev_new("f1", kv({{"backend", "file"}, {"path", f}, {"append", "on"}}));
    Recorder rec;
    a.attach(rec.handlers()).write(bytes("new\n"));
    EXPECT_TRUE(a.is_open());
    chardev_remove("f1");
    EXPECT_EQ(slurp(f), "old\nnew\n");

    chardev_new("f2", kv({{"backend", "file"}, {"path", f}})).attach({}).write(bytes("only\n"));
    chardev_remove("f2");
    EXPECT_EQ(slurp(f), "only\n");

    try {
        chardev_new("f3", kv({{"backend", "file"}, {"path", "/nonexistent/dir/x"}}));
        FAIL();
    } catch (const UsageError &e) {
        EXPECT_STREQ(e.what(), "Could not open '/nonexistent/dir/x': No such file or directory");
    }
    EXPECT_THROW(chardev_new("f4", kv({{"backend", "file"}})), UsageError);
}

TEST_F(ChardevBackend, LogfileCopiesOutput)
{
    std::string log = path("log.txt");
    Chardev &c = chardev_new("n", kv({{"backend", "null"}, {"logfile", log}}));
    c.attach({}).write(bytes("seen"));
    chardev_remove("n");
    EXPECT_EQ(slurp(log), "seen");
}

TEST_F(ChardevBackend, PipeInOutWithBackpressure)
{
    std::string base = path("p");
    ASSERT_EQ(mkfifo((base + ".in").c_str(), 0600), 0);
    ASSERT_EQ(mkfifo((base + ".out").c_str(), 0600), 0);
    int to_chr = open((base + ".in").c_str(), O_RDWR);
    int from_chr = open((base + ".out").c_str(), O_RDWR);
    Chardev &chr = chardev_new("p", kv({{"backend", "pipe"}, {"path", base}}));
    Recorder rec;
    rec.room = 0;  // the device is full
    ChrFrontend &fe = chr.attach(rec.handlers());
    ASSERT_EQ(write(to_chr, "0123456789", 10), 10);
    spin_for(std::chrono::milliseconds(30));
    EXPECT_EQ(rec.got, "");
    rec.room = 4;
    fe.accept_input();
    ASSERT_TRUE(spin_until([&] { return rec.got == "0123"; }));
    spin_for(std::chrono::milliseconds(20));
    EXPECT_EQ(rec.got, "0123");  // no more than it had room for
    rec.room = SIZE_MAX;
    fe.accept_input();
    ASSERT_TRUE(spin_until([&] { return rec.got == "0123456789"; }));
    fe.write(bytes("out"));
    EXPECT_EQ(read_some(from_chr, 3), "out");
    close(to_chr);
    close(from_chr);
}

TEST_F(ChardevBackend, RingbufWrapsAndReads)
{
    Chardev &rb = chardev_new("rb", kv({{"backend", "ringbuf"}, {"size", "8"}}));
    ChrFrontend &fe = rb.attach({});
    fe.write(bytes("0123456789"));
    EXPECT_EQ(chardev_ringbuf_read(rb, 3), "234");  // the oldest two were overwritten
    EXPECT_EQ(chardev_ringbuf_read(rb, 100), "56789");
    EXPECT_EQ(chardev_ringbuf_read(rb, 100), "");
    chardev_ringbuf_write(rb, bytes("ab"));
    EXPECT_EQ(chardev_ringbuf_read(rb, 100), "ab");

    try {
        chardev_new("rb2", kv({{"backend", "ringbuf"}, {"size", "100"}}));
        FAIL();
    } catch (const UsageError &e) {
        EXPECT_STREQ(e.what(), "size of ringbuf chardev must be power of two");
    }
    Chardev &null = chardev_new("nul", kv({{"backend", "null"}}));
    EXPECT_THROW(chardev_ringbuf_read(null, 1), UsageError);
}

TEST_F(ChardevBackend, UdpLoopback)
{
    int peer = socket(AF_INET, SOCK_DGRAM, 0);
    int peer_port = bind_loopback(peer);
    Chardev &chr = chardev_new("udp", kv({{"backend", "udp"}, {"host", "127.0.0.1"},
                                          {"port", std::to_string(peer_port)}, {"localaddr", "127.0.0.1"},
                                          {"localport", "0"}}));
    Recorder rec;
    ChrFrontend &fe = chr.attach(rec.handlers());
    EXPECT_TRUE(rec.saw(ChrEvent::Opened));
    fe.write(bytes("u1"));
    EXPECT_EQ(read_some(peer, 2), "u1");

    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(uint16_t(chr.local_port()));
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(sendto(peer, "u2-datagram", 11, 0, reinterpret_cast<sockaddr *>(&to), sizeof to), 11);
    ASSERT_TRUE(spin_until([&] { return rec.got == "u2-datagram"; }));
    close(peer);
}

// stdio puts the terminal in raw mode and restores it, also at exit. Run in a
// child whose stdin is a pty, so the test's own terminal is left alone.
TEST_F(ChardevBackend, StdioRawModeAndRestore)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    ASSERT_GE(master, 0);
    ASSERT_EQ(grantpt(master), 0);
    ASSERT_EQ(unlockpt(master), 0);
    std::string slave = ptsname(master);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        int s = open(slave.c_str(), O_RDWR | O_NOCTTY);
        if (s < 0 || dup2(s, 0) < 0)
            _exit(10);
        termios before{}, now{};
        tcgetattr(0, &before);
        if (!(before.c_lflag & ICANON))
            _exit(11);
        KeyVals opts = kv({{"backend", "stdio"}, {"signal", "off"}});
        chardev_new("io", opts);
        tcgetattr(0, &now);
        if ((now.c_lflag & (ICANON | ECHO | ISIG)) != 0)
            _exit(12);
        try {
            chardev_new("io2", opts);
            _exit(13);
        } catch (const UsageError &e) {
            if (std::string(e.what()) != "cannot use stdio by multiple character devices")
                _exit(14);
        }
        chardev_remove("io");
        tcgetattr(0, &now);
        if (now.c_lflag != before.c_lflag)
            _exit(15);
        chardev_new("io3", kv({{"backend", "stdio"}}));  // signal=on: C-c still interrupts
        tcgetattr(0, &now);
        if ((now.c_lflag & ISIG) == 0 || (now.c_lflag & ICANON) != 0)
            _exit(16);
        std::exit(0);  // atexit restores
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    termios after{};
    int s = open(slave.c_str(), O_RDWR | O_NOCTTY);
    ASSERT_GE(s, 0);
    tcgetattr(s, &after);
    EXPECT_TRUE(after.c_lflag & ICANON);  // cooked again after the child exited
    close(s);
    close(master);
}
