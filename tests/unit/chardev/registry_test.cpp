#include "chardev/registry.hpp"

#include <gtest/gtest.h>

using namespace tessera;

namespace {

std::string render(const KeyVals &kv)
{
    std::string out;
    for (auto &[k, v] : kv.items)
        out += (out.empty() ? "" : ",") + k + "=" + v;
    return out;
}

std::string error_of(auto &&fn)
{
    try {
        fn();
    } catch (const UsageError &e) {
        return e.what();
    }
    return "(no error)";
}

KeyVals backend(std::string name)
{
    KeyVals kv;
    kv.set("backend", std::move(name));
    return kv;
}

}  // namespace

TEST(ChardevRegistry, CreateFindRemove)
{
    Chardev &c = chardev_new("n0", backend("null"));
    EXPECT_EQ(chardev_find("n0"), &c);
    EXPECT_EQ(chardev_find("nope"), nullptr);
    EXPECT_EQ(chardev_ids(), std::vector<std::string>{"n0"});
    EXPECT_TRUE(chardev_remove("n0"));
    EXPECT_FALSE(chardev_remove("n0"));
    auto names = chardev_backend_names();
    EXPECT_NE(std::find(names.begin(), names.end(), "socket"), names.end());
}

TEST(ChardevRegistry, ErrorsInTheReferenceWords)
{
    EXPECT_EQ(error_of([] { chardev_new("", backend("null")); }), "chardev: no id specified");
    chardev_new("a", backend("null"));
    EXPECT_EQ(error_of([] { chardev_new("a", backend("null")); }), "Duplicate ID 'a' for chardev");
    EXPECT_EQ(error_of([] { chardev_new("b", backend("nul")); }), "'nul' is not a valid char driver name");
    KeyVals bad = backend("null");
    bad.set("foo", "1");
    EXPECT_EQ(error_of([&] { chardev_new("b", bad); }), "Invalid parameter 'foo'");
    EXPECT_EQ(error_of([] { chardev_new("b", backend("socket")); }), "chardev: socket: no port given");
    EXPECT_EQ(error_of([] { chardev_new("b", backend("vc")); }),
              "chardev 'vc' is not available: tessera has no graphical console");
    Chardev &a = *chardev_find("a");
    a.attach({});
    EXPECT_EQ(error_of([&] { a.attach({}); }), "chardev 'a' is already in use");
    chardev_remove_all();
}

TEST(ChardevLegacy, SpecsToOptions)
{
    struct Case {
        const char *spec, *opts;
    } cases[] = {
        {"stdio", "backend=stdio"},
        {"null", "backend=null"},
        {"pty", "backend=pty"},
        {"vc:80Cx24C", "backend=vc"},
        {"file:/tmp/out.log", "backend=file,path=/tmp/out.log"},
        {"pipe:/tmp/fifo", "backend=pipe,path=/tmp/fifo"},
        {"tcp:127.0.0.1:4444", "backend=socket,host=127.0.0.1,port=4444"},
        {"tcp::4444,server=on,wait=off", "backend=socket,server=on,wait=off,port=4444"},
        {"tcp:[::1]:5555,server,nowait", "backend=socket,server=on,wait=off,host=::1,port=5555"},
        {"telnet:localhost:23,server=on", "backend=socket,server=on,host=localhost,port=23,telnet=on"},
        {"udp:10.0.0.1:5000@:6000", "backend=udp,host=10.0.0.1,port=5000,localport=6000"},
        {"udp::5000@127.0.0.1:6000", "backend=udp,port=5000,localaddr=127.0.0.1,localport=6000"},
        {"unix:/tmp/s.sock,server=on,wait=off", "backend=socket,server=on,wait=off,path=/tmp/s.sock"},
        {"/dev/ttyS0", "backend=serial,path=/dev/ttyS0"},
        {"mon:stdio", "backend=stdio,mux=on"},
        {"mon:tcp::4444,server=on", "backend=socket,server=on,port=4444,mux=on"},
    };
    for (auto &c : cases)
        EXPECT_EQ(render(chardev_legacy_opts(c.spec)), c.opts) << c.spec;
    EXPECT_TRUE(chardev_legacy_wants_monitor("mon:stdio"));
    EXPECT_FALSE(chardev_legacy_wants_monitor("stdio"));
}

TEST(ChardevLegacy, Errors)
{
    for (const char *spec : {"foo:bar", "tcp:4444", "tcp:", "udp:host", "unix:", "mon:", "bogus"})
        EXPECT_EQ(error_of([&] { chardev_legacy_opts(spec); }), std::string("'") + spec + "' is not a valid char driver")
            << spec;
    EXPECT_EQ(error_of([] { chardev_from_legacy("vc", "serial0"); }),
              "chardev 'vc' is not available: tessera has no graphical console");
    EXPECT_EQ(error_of([] { chardev_from_legacy("telnet::4444,server=on", "serial0"); }),
              "chardev: socket: telnet, tn3270 and websocket are not supported");
    EXPECT_EQ(error_of([] { chardev_from_legacy("chardev:missing", "serial0"); }), "chardev 'missing' not found");
}

TEST(ChardevLegacy, CreatesChardevs)
{
    EXPECT_EQ(chardev_from_legacy("none", "serial0"), "");
    EXPECT_EQ(chardev_find("serial0"), nullptr);
    EXPECT_EQ(chardev_from_legacy("null", "serial0"), "serial0");
    EXPECT_EQ(chardev_find("serial0")->kind(), "null");
    EXPECT_EQ(chardev_from_legacy("chardev:serial0", "serial1"), "serial0");
    EXPECT_EQ(chardev_from_legacy("mon:null", "compat_monitor0"), "compat_monitor0");
    EXPECT_EQ(chardev_find("compat_monitor0")->kind(), "mux");
    chardev_remove_all();
}
