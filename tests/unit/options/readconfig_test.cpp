#include "options/readconfig.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>

using namespace tessera;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::StrEq;
using ::testing::ThrowsMessage;

namespace {

constexpr const char *kSample = R"(# qemu config file

[drive "d0"]
  file = "disk,1.img"
  if = "virtio"

[machine]
  type = "virt"   # trailing comment
	accel = "tcg"
[device]
)";

TEST(ReadConfig, ParsesSections) {
    auto secs = parse_config(kSample, "vm.cfg");
    ASSERT_EQ(secs.size(), 3u);
    EXPECT_EQ(secs[0].group, "drive");
    EXPECT_EQ(secs[0].id, "d0");
    EXPECT_THAT(secs[0].values.items, ElementsAre(Pair("file", "disk,1.img"), Pair("if", "virtio")));
    EXPECT_EQ(secs[1].group, "machine");
    EXPECT_EQ(secs[1].id, "");
    EXPECT_THAT(secs[1].values.items, ElementsAre(Pair("type", "virt"), Pair("accel", "tcg")));
    EXPECT_EQ(secs[2].group, "device");
    EXPECT_TRUE(secs[2].values.items.empty());
}

TEST(ReadConfig, EmptyValuesAndCrlf) {
    auto secs = parse_config("[name]\r\nguest = \"\"\r\n", "a.cfg");
    ASSERT_EQ(secs.size(), 1u);
    EXPECT_THAT(secs[0].values.items, ElementsAre(Pair("guest", "")));
    EXPECT_TRUE(parse_config("", "a.cfg").empty());
    EXPECT_TRUE(parse_config("# only a comment", "a.cfg").empty());
}

TEST(ReadConfig, ErrorsNameFileAndLine) {
    auto err = [](const char *text) {
        return [text] { parse_config(text, "vm.cfg"); };
    };
    EXPECT_THAT(err("[machine]\ntype = virt\n"),
                ThrowsMessage<UsageError>(StrEq("vm.cfg:2: expected a double-quoted value")));
    EXPECT_THAT(err("type = \"virt\"\n"),
                ThrowsMessage<UsageError>(StrEq("vm.cfg:1: 'type' is outside of any [section]")));
    EXPECT_THAT(err("\n\n[machine\n"),
                ThrowsMessage<UsageError>(StrEq("vm.cfg:3: section header must end with ']'")));
    EXPECT_THAT(err("[machine]\ntype \"virt\"\n"),
                ThrowsMessage<UsageError>(HasSubstr("vm.cfg:2: expected 'key = \"value\"'")));
    EXPECT_THAT(err("[machine]\ntype = \"virt\n"),
                ThrowsMessage<UsageError>(HasSubstr("vm.cfg:2: missing closing")));
    EXPECT_THAT(err("[machine]\ntype = \"virt\" x\n"),
                ThrowsMessage<UsageError>(HasSubstr("vm.cfg:2: unexpected text after the value")));
    EXPECT_THAT(err("[drive \"d0\" x]\n"),
                ThrowsMessage<UsageError>(HasSubstr("vm.cfg:1: unexpected text after the section id")));
    EXPECT_THAT(err("[drive d0]\n"),
                ThrowsMessage<UsageError>(HasSubstr("vm.cfg:1: expected a double-quoted value")));
    EXPECT_THAT(err("[drive \"\"]\n"), ThrowsMessage<UsageError>(HasSubstr("vm.cfg:1: empty section id")));
    EXPECT_THAT(err("[]\n"), ThrowsMessage<UsageError>(HasSubstr("vm.cfg:1: invalid section name")));
    EXPECT_THAT(err("[m]\n = \"x\"\n"), ThrowsMessage<UsageError>(HasSubstr("vm.cfg:2: invalid key ''")));
}

TEST(ReadConfig, KnownGroups) {
    constexpr std::array<std::string_view, 2> groups = {"drive", "machine"};
    EXPECT_EQ(parse_config("[machine]\n", "c", groups).size(), 1u);
    EXPECT_THAT([&] { parse_config("[machine]\n[bogus]\n", "c", groups); },
                ThrowsMessage<UsageError>(StrEq("c:2: there is no option group 'bogus'")));
}

TEST(ReadConfig, ReadsFiles) {
    std::string path = ::testing::TempDir() + "tessera-readconfig-test.cfg";
    {
        std::ofstream out(path);
        out << kSample;
    }
    auto secs = read_config_file(path);
    EXPECT_EQ(secs.size(), 3u);
    std::remove(path.c_str());
    EXPECT_THAT([&] { read_config_file(path); },
                ThrowsMessage<UsageError>(HasSubstr("cannot read config file '" + path + "'")));
}

}  // namespace
