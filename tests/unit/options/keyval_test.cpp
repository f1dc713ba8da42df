#include "options/keyval.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

using namespace tessera;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::ElementsAre;
using ::testing::ThrowsMessage;

namespace {

TEST(KeyVal, PlainPairsInOrder) {
    KeyVals kv = parse_keyval("a=1,b=two,c=");
    EXPECT_THAT(kv.items, ElementsAre(Pair("a", "1"), Pair("b", "two"), Pair("c", "")));
    EXPECT_FALSE(kv.wants_help());
    EXPECT_TRUE(parse_keyval("").items.empty());
}

TEST(KeyVal, ImpliedFirstKey) {
    KeyVals kv = parse_keyval("virt,accel=tcg", "type");
    EXPECT_THAT(kv.items, ElementsAre(Pair("type", "virt"), Pair("accel", "tcg")));
    // Only the first item may be implied; an explicit key works too.
    EXPECT_THAT(parse_keyval("type=virt", "type").items, ElementsAre(Pair("type", "virt")));
    EXPECT_THAT(parse_keyval("accel=tcg,virt", "type").items,
                ElementsAre(Pair("accel", "tcg"), Pair("virt", "on")));
}

TEST(KeyVal, DoubleCommaEscapes) {
    KeyVals kv = parse_keyval("file=a,,b.img,,,if=none");
    EXPECT_THAT(kv.items, ElementsAre(Pair("file", "a,b.img,"), Pair("if", "none")));
    EXPECT_THAT(parse_keyval("x,,y,id=z", "path").items,
                ElementsAre(Pair("path", "x,y"), Pair("id", "z")));
    EXPECT_EQ(parse_keyval("v=a=b").get("v"), "a=b");  // '=' inside a value is kept
}

TEST(KeyVal, EscapeRoundTrips) {
    EXPECT_EQ(escape_keyval("a,b,,c"), "a,,b,,,,c");
    EXPECT_EQ(escape_keyval("plain"), "plain");
    std::string odd = "x,y,,z,";
    EXPECT_EQ(parse_keyval("k=" + escape_keyval(odd)).get("k"), odd);
}

TEST(KeyVal, BareFlags) {
    KeyVals kv = parse_keyval("socket,id=c0,server,nowait", "backend");
    EXPECT_THAT(kv.items, ElementsAre(Pair("backend", "socket"), Pair("id", "c0"),
                                      Pair("server", "on"), Pair("wait", "off")));
    EXPECT_THAT(parse_keyval("no").items, ElementsAre(Pair("no", "on")));
    EXPECT_THAT([] { parse_keyval("driver=x,flag", {}, false, false); },
                ThrowsMessage<UsageError>(HasSubstr("expected '=' after parameter 'flag'")));
}

TEST(KeyVal, StrictSyntaxChecksKeys) {
    auto strict = [](const char *t) { return parse_keyval(t, "qom-type", false, false); };
    EXPECT_THAT(strict("memory-backend-ram,id=m0,size=1G,x-opt.0=a,__org.example_prop=1").items,
                ElementsAre(Pair("qom-type", "memory-backend-ram"), Pair("id", "m0"), Pair("size", "1G"),
                            Pair("x-opt.0", "a"), Pair("__org.example_prop", "1")));
    for (const char *bad : {"a..b=1", "a.=1", "1a=1", "a b=1", "__=1", "__Org_x=1", "__org_=1", ".a=1"})
        EXPECT_THAT([&] { strict(bad); },
                    ThrowsMessage<UsageError>(HasSubstr("invalid parameter"))) << bad;
    // The legacy syntax takes any key.
    EXPECT_EQ(parse_keyval("a b=1").get("a b"), "1");
}

TEST(KeyVal, TrailingCommaIgnored) {
    EXPECT_THAT(parse_keyval("a=1,").items, ElementsAre(Pair("a", "1")));
}

TEST(KeyVal, EmptyKeysAreErrors) {
    EXPECT_THAT([] { parse_keyval("=1"); }, ThrowsMessage<UsageError>(HasSubstr("empty parameter name")));
    EXPECT_THAT([] { parse_keyval("a=1,,,=2"); }, ThrowsMessage<UsageError>(HasSubstr("empty parameter name")));
    EXPECT_THAT([] { parse_keyval("a=1,,b"); }, testing::Not(testing::Throws<UsageError>()));
    EXPECT_THROW(parse_keyval(",a=1"), UsageError);
}

TEST(KeyVal, Help) {
    EXPECT_TRUE(parse_keyval("help", "type").wants_help());
    EXPECT_TRUE(parse_keyval("?", "driver").wants_help());
    KeyVals dev = parse_keyval("virtio-blk-device,help", "driver");
    EXPECT_TRUE(dev.wants_help());
    EXPECT_THAT(dev.items, ElementsAre(Pair("driver", "virtio-blk-device")));
    EXPECT_TRUE(parse_keyval("file=x,?").wants_help());
    EXPECT_TRUE(parse_keyval("help", {}, false, false).wants_help());
    EXPECT_FALSE(parse_keyval("file=help").wants_help());
    EXPECT_FALSE(parse_keyval("helpful", "type").wants_help());
    KeyVals manual;
    manual.set("help", "on");
    EXPECT_TRUE(manual.wants_help());
}

TEST(KeyVal, Accessors) {
    KeyVals kv = parse_keyval("a=1,b=2,a=3");
    EXPECT_EQ(kv.get("a"), "3");  // last wins
    EXPECT_EQ(kv.get("zz", "dflt"), "dflt");
    EXPECT_EQ(kv.find("zz"), nullptr);
    EXPECT_TRUE(kv.has("b"));
    kv.set("a", "9");
    EXPECT_THAT(kv.items, ElementsAre(Pair("a", "9"), Pair("b", "2")));
    kv.set("c", "4");
    EXPECT_EQ(kv.items.back(), std::make_pair(std::string("c"), std::string("4")));
    EXPECT_TRUE(kv.erase("b"));
    EXPECT_FALSE(kv.erase("b"));
    EXPECT_FALSE(kv.has("b"));
}

TEST(KeyVal, TypedGets) {
    KeyVals kv = parse_keyval("size=2G,ro=on,n=-3,u=0x10,bad=zz,m=512");
    EXPECT_EQ(kv.get_size("size"), uint64_t{2} << 30);
    EXPECT_EQ(kv.get_size("m", 'M'), uint64_t{512} << 20);
    EXPECT_EQ(kv.get_bool("ro"), true);
    EXPECT_EQ(kv.get_int("n"), -3);
    EXPECT_EQ(kv.get_uint("u"), 16u);
    EXPECT_EQ(kv.get_bool("absent"), std::nullopt);
    EXPECT_EQ(kv.get_size("absent"), std::nullopt);
    EXPECT_THAT([&] { kv.get_bool("bad"); },
                ThrowsMessage<UsageError>(testing::StartsWith("parameter 'bad': 'zz' is not a valid boolean")));
    EXPECT_THAT([&] { kv.get_size("bad"); },
                ThrowsMessage<UsageError>(testing::StartsWith("parameter 'bad': invalid size 'zz'")));
    EXPECT_THAT([&] { kv.get_uint("n"); },
                ThrowsMessage<UsageError>(testing::StartsWith("parameter 'n': '-3' must not be negative")));
    EXPECT_THROW(kv.get_int("bad"), UsageError);
}

TEST(KeyVal, JsonObjects) {
    KeyVals dev = parse_keyval(R"({"driver":"virtio-blk-device","drive":"d0"})", "driver", true);
    EXPECT_THAT(dev.items, ElementsAre(Pair("driver", "virtio-blk-device"), Pair("drive", "d0")));
    KeyVals bd = parse_keyval(
        R"({"driver":"qcow2","node-name":"n","file":{"driver":"file","filename":"x"}})", {}, true);
    EXPECT_THAT(bd.items, ElementsAre(Pair("driver", "qcow2"), Pair("node-name", "n"),
                                      Pair("file.driver", "file"), Pair("file.filename", "x")));
    KeyVals mixed = parse_keyval(R"({"a":[10,{"b":true}],"n":-3,"f":1.5,"ro":false})", {}, true);
    EXPECT_THAT(mixed.items, ElementsAre(Pair("a.0", "10"), Pair("a.1.b", "on"), Pair("n", "-3"),
                                         Pair("f", "1.5"), Pair("ro", "off")));
    // Without json_ok a brace is just text.
    EXPECT_EQ(parse_keyval("{x", "path").get("path"), "{x");
}

// A block node's "backing": null (no backing file) is keyval's "backing=".
TEST(KeyVal, JsonNullBackingIsEmpty) {
    KeyVals kv = parse_keyval(R"({"driver":"qcow2","backing":null,"file":{"backing":null}})", {}, true);
    ASSERT_NE(kv.find("backing"), nullptr);
    EXPECT_EQ(*kv.find("backing"), "");
    ASSERT_NE(kv.find("file.backing"), nullptr);
    EXPECT_EQ(*kv.find("file.backing"), "");
}

TEST(KeyVal, JsonErrors) {
    EXPECT_THAT([] { parse_keyval(R"({"a":null})", {}, true); },
                ThrowsMessage<UsageError>(HasSubstr("null is not a valid value for 'a'")));
    EXPECT_THAT([] { parse_keyval(R"({"a":1)", {}, true); },
                ThrowsMessage<UsageError>(HasSubstr("JSON parse error")));
    EXPECT_THAT([] { parse_keyval(R"({"":1})", {}, true); },
                ThrowsMessage<UsageError>(HasSubstr("empty member name")));
}

TEST(Size, Suffixes) {
    EXPECT_EQ(parse_size("0"), 0u);
    EXPECT_EQ(parse_size("4096"), 4096u);
    EXPECT_EQ(parse_size("512b"), 512u);
    EXPECT_EQ(parse_size("512B"), 512u);
    EXPECT_EQ(parse_size("1k"), 1024u);
    EXPECT_EQ(parse_size("1K"), 1024u);
    EXPECT_EQ(parse_size("2M"), 2u << 20);
    EXPECT_EQ(parse_size("2m"), 2u << 20);
    EXPECT_EQ(parse_size("3G"), uint64_t{3} << 30);
    EXPECT_EQ(parse_size("1T"), uint64_t{1} << 40);
    EXPECT_EQ(parse_size("1P"), uint64_t{1} << 50);
    EXPECT_EQ(parse_size("15E"), uint64_t{15} << 60);
    EXPECT_EQ(parse_size("1.5G"), uint64_t{3} << 29);
    EXPECT_EQ(parse_size("0x1000"), 0x1000u);
}

TEST(Size, DefaultSuffix) {
    EXPECT_EQ(parse_size("128", 'M'), uint64_t{128} << 20);
    EXPECT_EQ(parse_size("1G", 'M'), uint64_t{1} << 30);
    EXPECT_EQ(parse_size("0.5", 'M'), uint64_t{1} << 19);
    EXPECT_EQ(parse_size("100b", 'M'), 100u);
}

TEST(Size, Errors) {
    EXPECT_THAT([] { parse_size(""); }, ThrowsMessage<UsageError>(HasSubstr("empty")));
    EXPECT_THAT([] { parse_size("abc"); }, ThrowsMessage<UsageError>(HasSubstr("invalid size 'abc'")));
    EXPECT_THAT([] { parse_size("-1"); }, ThrowsMessage<UsageError>(HasSubstr("negative")));
    EXPECT_THAT([] { parse_size("1X"); }, ThrowsMessage<UsageError>(HasSubstr("unknown suffix")));
    EXPECT_THAT([] { parse_size("1KB"); }, ThrowsMessage<UsageError>(HasSubstr("trailing")));
    EXPECT_THAT([] { parse_size("16E"); }, ThrowsMessage<UsageError>(HasSubstr("too large")));
    EXPECT_THAT([] { parse_size("99999999999999999999"); },
                ThrowsMessage<UsageError>(HasSubstr("too large")));
    EXPECT_THAT([] { parse_size("1.5"); }, ThrowsMessage<UsageError>(HasSubstr("fraction")));
    EXPECT_THAT([] { parse_size("1."); }, ThrowsMessage<UsageError>(HasSubstr("after '.'")));
    EXPECT_THAT([] { parse_size("0x10k"); }, ThrowsMessage<UsageError>(HasSubstr("hex")));
    EXPECT_THAT([] { parse_size(" 1"); }, ThrowsMessage<UsageError>(HasSubstr("no digits")));
    EXPECT_EQ(parse_size("18446744073709551615"), std::numeric_limits<uint64_t>::max());
}

TEST(Bool, Spellings) {
    for (const char *t : {"on", "yes", "true", "y"}) EXPECT_TRUE(parse_bool(t)) << t;
    for (const char *f : {"off", "no", "false", "n"}) EXPECT_FALSE(parse_bool(f)) << f;
    EXPECT_THAT([] { parse_bool("maybe"); },
                ThrowsMessage<UsageError>(HasSubstr("'maybe' is not a valid boolean")));
    EXPECT_THROW(parse_bool(""), UsageError);
    EXPECT_THROW(parse_bool("1"), UsageError);
}

TEST(Int, Parsing) {
    EXPECT_EQ(parse_int("42"), 42);
    EXPECT_EQ(parse_int("-42"), -42);
    EXPECT_EQ(parse_int("+7"), 7);
    EXPECT_EQ(parse_int("0x1F"), 31);
    EXPECT_EQ(parse_int("-0x10"), -16);
    EXPECT_EQ(parse_int("010"), 8);
    EXPECT_EQ(parse_int("0"), 0);
    EXPECT_EQ(parse_int("9223372036854775807"), std::numeric_limits<int64_t>::max());
    EXPECT_EQ(parse_int("-9223372036854775808"), std::numeric_limits<int64_t>::min());
    EXPECT_EQ(parse_uint("18446744073709551615"), std::numeric_limits<uint64_t>::max());
    EXPECT_EQ(parse_uint("0xffffffffffffffff"), std::numeric_limits<uint64_t>::max());
}

TEST(Int, Errors) {
    EXPECT_THAT([] { parse_int("9223372036854775808"); }, ThrowsMessage<UsageError>(HasSubstr("out of range")));
    EXPECT_THAT([] { parse_int("-9223372036854775809"); }, ThrowsMessage<UsageError>(HasSubstr("out of range")));
    EXPECT_THAT([] { parse_uint("18446744073709551616"); }, ThrowsMessage<UsageError>(HasSubstr("out of range")));
    EXPECT_THAT([] { parse_uint("-1"); }, ThrowsMessage<UsageError>(HasSubstr("must not be negative")));
    EXPECT_THAT([] { parse_int("12abc"); }, ThrowsMessage<UsageError>(HasSubstr("'12abc' is not a number")));
    EXPECT_THROW(parse_int(""), UsageError);
    EXPECT_THROW(parse_int("-"), UsageError);
    EXPECT_THROW(parse_int("0x"), UsageError);
    EXPECT_THROW(parse_int("08"), UsageError);
    EXPECT_THROW(parse_int("--1"), UsageError);
    EXPECT_THROW(parse_uint(" 1"), UsageError);
}

}  // namespace
