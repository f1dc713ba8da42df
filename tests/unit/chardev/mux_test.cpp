#include "chardev/mux.hpp"
#include "chardev/registry.hpp"
#include "helpers.hpp"

#include <gtest/gtest.h>

using namespace tessera;
using namespace tessera::test;

namespace {

// A backend the test drives by hand: input is injected, output collected.
class ScriptedBackend : public Chardev {
public:
    ScriptedBackend() : Chardev("scripted") { set_open(true); }
    std::string_view kind() const override { return "scripted"; }
    void type(std::string_view keys)
    {
        // Like a real backend: only as much as the front end takes.
        while (!keys.empty()) {
            size_t n = std::min(frontend_can_receive(), keys.size());
            if (n == 0)
                break;
            frontend_receive(bytes(keys.substr(0, n)));
            keys.remove_prefix(n);
        }
        left += keys;
    }
    void event(ChrEvent e) { frontend_event(e); }
    std::string out, left;

protected:
    size_t backend_write(std::span<const uint8_t> d) override
    {
        out.append(reinterpret_cast<const char *>(d.data()), d.size());
        return d.size();
    }
};

class Mux : public ::testing::Test {
protected:
    void SetUp() override
    {
        mux_set_hooks({[this] { quits++; }, [this] { syncs++; }});
        serial_fe = &mux.attach(serial.handlers());
        monitor_fe = &mux.attach(monitor.handlers());
        mux.set_focus(0);  // the serial port, as after machine creation
        serial.events.clear();
        monitor.events.clear();
    }
    void TearDown() override
    {
        mux_set_hooks({});
        mux_set_escape_char(1);
    }
    ScriptedBackend backend;
    MuxChardev mux{"mux0", backend};
    Recorder serial, monitor;
    ChrFrontend *serial_fe = nullptr, *monitor_fe = nullptr;
    int quits = 0, syncs = 0;
};

}  // namespace

TEST_F(Mux, InputGoesToFocusAndOutputFromAll)
{
    backend.type("ls\r");
    EXPECT_EQ(serial.got, "ls\r");
    EXPECT_EQ(monitor.got, "");
    serial_fe->write(bytes("guest "));
    monitor_fe->write(bytes("(qemu) "));
    EXPECT_EQ(backend.out, "guest (qemu) ");
}

TEST_F(Mux, NewFrontendGetsOpenedAndFocus)
{
    Recorder third;
    ScriptedBackend b2;
    MuxChardev m2("m2", b2);
    Recorder first;
    m2.attach(first.handlers());
    EXPECT_EQ(first.events, (std::vector<ChrEvent>{ChrEvent::Opened, ChrEvent::MuxIn}));
    m2.attach(third.handlers());
    EXPECT_EQ(m2.focus(), 1u);
    EXPECT_TRUE(first.saw(ChrEvent::MuxOut));
}

TEST_F(Mux, CtrlAxCallsQuitHook)
{
    backend.type("\x01x");
    EXPECT_EQ(quits, 1);
    EXPECT_EQ(backend.out, "tessera: Terminated\n\r");
    EXPECT_EQ(serial.got, "");
}

TEST_F(Mux, CtrlAcSwitchesFocus)
{
    backend.type("a\x01" "cb");
    EXPECT_EQ(serial.got, "a");
    EXPECT_EQ(monitor.got, "b");
    EXPECT_EQ(serial.events, std::vector<ChrEvent>{ChrEvent::MuxOut});
    EXPECT_EQ(monitor.events, std::vector<ChrEvent>{ChrEvent::MuxIn});
    backend.type("\x01" "cc");  // and round again
    EXPECT_EQ(serial.got, "ac");
}

TEST_F(Mux, CtrlACtrlASendsLiteral)
{
    backend.type("\x01\x01z");
    EXPECT_EQ(serial.got, "\x01z");
    EXPECT_EQ(quits, 0);
}

TEST_F(Mux, CtrlAhPrintsHelp)
{
    backend.type("\x01h");
    EXPECT_EQ(backend.out,
              "\n\r"
              "C-a h    print this help\n\r"
              "C-a x    exit emulator\n\r"
              "C-a s    save disk data back to file (if -snapshot)\n\r"
              "C-a t    toggle console timestamps\n\r"
              "C-a b    send break (magic sysrq)\n\r"
              "C-a c    switch between console and monitor\n\r"
              "C-a C-a  sends C-a\n\r");
    EXPECT_EQ(serial.got, "");
}

TEST_F(Mux, BreakSyncAndUnknownKeys)
{
    backend.type("\x01" "b\x01s\x01q");
    EXPECT_EQ(serial.events, std::vector<ChrEvent>{ChrEvent::Break});
    EXPECT_EQ(syncs, 1);
    EXPECT_EQ(serial.got, "");  // C-a q is swallowed
}

TEST_F(Mux, TimestampsPrefixLines)
{
    backend.type("\x01t");
    serial_fe->write(bytes("one\ntwo\n"));
    // Switching on starts mid-line: the first line has no stamp.
    EXPECT_TRUE(backend.out.starts_with("one\n[00:00:00.")) << backend.out;
    EXPECT_NE(backend.out.find("] two\n"), std::string::npos) << backend.out;
    backend.out.clear();
    backend.type("\x01t");
    serial_fe->write(bytes("plain\n"));
    EXPECT_EQ(backend.out, "plain\n");
}

TEST_F(Mux, EchrChangesEscape)
{
    mux_set_escape_char(0x05);  // C-e
    backend.type("\x01\x05x");
    EXPECT_EQ(serial.got, "\x01");
    EXPECT_EQ(quits, 1);
    mux_set_escape_char('~');
    backend.out.clear();
    backend.type("~h");
    EXPECT_TRUE(backend.out.starts_with("\n\rEscape-Char set to Ascii: 0x7e\n\r\n\rEscape-Char h    print this help"))
        << backend.out;
}

TEST_F(Mux, QueuesWhileFrontendIsFull)
{
    serial.room = 2;
    backend.type("abcdef");
    EXPECT_EQ(serial.got, "ab");
    serial.room = SIZE_MAX;
    serial_fe->accept_input();
    EXPECT_EQ(serial.got, "abcdef");
}

TEST_F(Mux, BackendEventsReachFrontends)
{
    backend.event(ChrEvent::Closed);
    EXPECT_TRUE(serial.saw(ChrEvent::Closed));
    EXPECT_TRUE(monitor.saw(ChrEvent::Closed));
    EXPECT_FALSE(mux.is_open());
}

TEST_F(Mux, TooManyFrontends)
{
    Recorder a, b, c;
    mux.attach(a.handlers());
    mux.attach(b.handlers());
    EXPECT_THROW(mux.attach(c.handlers()), UsageError);
}

TEST(MuxRegistry, MuxOnCreatesBaseAndMux)
{
    KeyVals opts;
    opts.set("backend", "ringbuf");
    opts.set("mux", "on");
    Chardev &m = chardev_new("m", opts);
    EXPECT_EQ(m.kind(), "mux");
    ASSERT_NE(chardev_find("m-base"), nullptr);
    EXPECT_EQ(chardev_find("m-base")->kind(), "ringbuf");
    Recorder a, b;
    m.attach(a.handlers());
    m.attach(b.handlers());  // a plain chardev would refuse a second one
    EXPECT_THROW(chardev_find("m-base")->attach({}), UsageError);
    EXPECT_THROW(chardev_remove("m-base"), UsageError);  // the mux uses it
    chardev_remove("m");
    EXPECT_EQ(chardev_find("m-base"), nullptr);
}
