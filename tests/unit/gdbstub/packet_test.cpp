// The gdb remote protocol's framing, on its own.
#include "gdbstub/packet.hpp"

#include <gtest/gtest.h>

using namespace tessera;
using Kind = GdbInput::Kind;

TEST(GdbPacket, FrameHasTheModulo256Checksum) {
    EXPECT_EQ(gdb_frame("OK"), "$OK#9a");
    EXPECT_EQ(gdb_frame(""), "$#00");
    EXPECT_EQ(gdb_frame("qSupported"), "$qSupported#37");
}

TEST(GdbPacket, FrameEscapesSpecialBytes) {
    // '}' 0x7d -> "}]", '#' -> "}\x03", '$' -> "}\x04", '*' -> "}\x0a"; the
    // checksum covers the escaped bytes.
    EXPECT_EQ(gdb_escape_binary("a}b#c$d*"), std::string("a}]b}\x03" "c}\x04" "d}\x0a"));
    std::string f = gdb_frame("}");
    EXPECT_EQ(f, "$}]#da");
}

TEST(GdbPacket, ReaderAcceptsGoodPacketsAndControlBytes) {
    GdbPacketReader r;
    auto in = r.feed("+$g#67-\x03junk$m80000000,4#");
    ASSERT_EQ(in.size(), 4u);
    EXPECT_EQ(in[0].kind, Kind::Ack);
    EXPECT_EQ(in[1].kind, Kind::Packet);
    EXPECT_EQ(in[1].payload, "g");
    EXPECT_EQ(in[2].kind, Kind::Nack);
    EXPECT_EQ(in[3].kind, Kind::Interrupt);
    // The rest of a packet split across reads.
    in = r.feed("55");
    ASSERT_EQ(in.size(), 1u);
    EXPECT_EQ(in[0].kind, Kind::Packet);
    EXPECT_EQ(in[0].payload, "m80000000,4");
}

TEST(GdbPacket, ReaderRejectsBadChecksumsAndResynchronises) {
    GdbPacketReader r;
    auto in = r.feed("$g#00$g#67$g#zz$?#3f");
    ASSERT_EQ(in.size(), 4u);
    EXPECT_EQ(in[0].kind, Kind::BadChecksum);
    EXPECT_EQ(in[1].kind, Kind::Packet);
    EXPECT_EQ(in[2].kind, Kind::BadChecksum);
    EXPECT_EQ(in[3].kind, Kind::Packet);
    EXPECT_EQ(in[3].payload, "?");
}

TEST(GdbPacket, ReaderUnescapesBinaryData) {
    GdbPacketReader r;
    // "X0,2:" then the bytes '}' '#', escaped as gdb sends them; the checksum
    // covers the escaped form: sum("X0,2:}]}\x03") = 0x27a -> 7a.
    auto in = r.feed(std::string("$X0,2:}]}\x03#7a"));
    ASSERT_EQ(in.size(), 1u);
    ASSERT_EQ(in[0].kind, Kind::Packet);
    EXPECT_EQ(in[0].payload, std::string("X0,2:}#"));
}

TEST(GdbPacket, RoundTripThroughFrameAndReader) {
    GdbPacketReader r;
    std::string data;
    for (int i = 0; i < 256; i++) data += char(i);
    auto in = r.feed(gdb_frame(data));
    ASSERT_EQ(in.size(), 1u);
    EXPECT_EQ(in[0].payload, data);
}

TEST(GdbPacket, OversizedPacketIsRefused) {
    GdbPacketReader r(16);
    auto in = r.feed(gdb_frame(std::string(40, 'a')));
    ASSERT_EQ(in.size(), 1u);
    EXPECT_EQ(in[0].kind, Kind::BadChecksum);
    in = r.feed(gdb_frame("ok"));
    ASSERT_EQ(in.size(), 1u);
    EXPECT_EQ(in[0].payload, "ok");
}

TEST(GdbPacket, HexHelpers) {
    const uint8_t b[] = {0x00, 0x7f, 0xab, 0xff};
    EXPECT_EQ(to_hex(b), "007fabff");
    EXPECT_EQ(to_hex(std::string_view("hi\n")), "68690a");
    auto v = from_hex("007FabfF");
    ASSERT_TRUE(v);
    EXPECT_EQ(*v, std::vector<uint8_t>(std::begin(b), std::end(b)));
    EXPECT_FALSE(from_hex("abc"));
    EXPECT_FALSE(from_hex("zz"));
    EXPECT_EQ(parse_hex("80000000"), 0x80000000u);
    EXPECT_EQ(parse_hex("ffffffffffffffff"), ~uint64_t(0));
    EXPECT_FALSE(parse_hex("1ffffffffffffffff"));
    EXPECT_FALSE(parse_hex(""));
    EXPECT_FALSE(parse_hex("-1"));
}
