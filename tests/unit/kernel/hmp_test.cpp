#include "monitor/hmp.hpp"

#include <gtest/gtest.h>

using namespace tessera;

TEST(Hmp, HelpAndUnknownCommands) {
    std::string out;
    Hmp h([&](std::string_view s) { out += s; });
    EXPECT_NE(h.execute("help").find("quit|q"), std::string::npos);
    EXPECT_EQ(h.execute("frob"), "unknown command: 'frob'\n");
    EXPECT_NE(h.execute("info version").find("."), std::string::npos);
    EXPECT_EQ(h.execute("info nosuch"), "unknown info command: nosuch\n");
    EXPECT_EQ(h.execute("   "), "");
}

TEST(Hmp, LineEditingEchoesAndRuns) {
    std::string out;
    Hmp h([&](std::string_view s) { out += s; });
    h.input("info verx");
    h.input("\x7f");
    h.input("sion\r\n");
    EXPECT_NE(out.find("\b \b"), std::string::npos);
    EXPECT_NE(out.find("(qemu) "), std::string::npos);
    EXPECT_EQ(out.find("unknown"), std::string::npos) << out;
}
