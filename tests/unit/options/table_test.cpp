#include "options/table.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "options/error.hpp"

using namespace tessera;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using ::testing::ThrowsMessage;

namespace {

// argv-style helper: keeps the strings alive for the span.
struct Argv {
    std::vector<std::string> store;
    std::vector<char *> ptrs;
    Argv(std::initializer_list<const char *> args) : store(args.begin(), args.end()) {
        for (auto &s : store) ptrs.push_back(s.data());
    }
    std::span<char *const> span() const { return ptrs; }
};

TEST(OptionTable, HasAllReferenceOptions) {
    auto table = option_table();
    EXPECT_EQ(table.size(), 118u);
    std::set<std::string_view> names;
    for (auto &o : table) EXPECT_TRUE(names.insert(o.name).second) << "duplicate " << o.name;
    for (auto n : {"help", "machine", "M", "m", "smp", "drive", "blockdev", "device", "netdev",
                   "chardev", "serial", "bios", "kernel", "append", "initrd", "dtb", "qmp",
                   "qmp-pretty", "gdb", "s", "S", "d", "D", "icount", "readconfig", "plugin",
                   "object", "nographic", "qtest", "qtest-log", "hdd", "jitdump"})
        EXPECT_TRUE(names.count(n)) << n;
}

// Cross-check names, argument flags and groups against the reference file
// when the build knows where it is.
TEST(OptionTable, MatchesOptionsHx) {
    const char *path = std::getenv("TESSERA_OPTIONS_HX");
    if (!path) GTEST_SKIP() << "TESSERA_OPTIONS_HX not set";
    std::ifstream in(path);
    ASSERT_TRUE(in) << path;
    std::regex def(R"re(^DEF\("([^"]+)",\s*(HAS_ARG|0),)re");
    std::regex heading(R"re(^DEFHEADING\((.+)\)\s*$)re");
    std::string line, current;
    size_t i = 0;
    auto table = option_table();
    while (std::getline(in, line)) {
        std::smatch m;
        if (std::regex_search(line, m, heading)) {
            current = m[1];
        } else if (std::regex_search(line, m, def)) {
            ASSERT_LT(i, table.size());
            EXPECT_EQ(table[i].name, m[1].str());
            EXPECT_EQ(table[i].has_arg, m[2] == "HAS_ARG") << m[1];
            EXPECT_EQ(group_heading(table[i].group), current) << m[1];
            ++i;
        }
    }
    EXPECT_EQ(i, table.size());
}

TEST(OptionTable, UsageStartsWithTheOption) {
    for (auto &o : option_table()) {
        if (o.usage.empty()) {
            EXPECT_TRUE(o.help.empty()) << o.name;
            continue;
        }
        EXPECT_FALSE(o.help.empty()) << o.name;
        std::string dash = "-" + std::string(o.name);
        EXPECT_TRUE(o.usage.starts_with(dash + " ") || o.usage.starts_with(dash + "/") ||
                    o.usage.starts_with(dash + "\n") || o.usage == dash ||
                    o.usage.starts_with("-" + dash) || o.name == "help")
            << o.usage;
    }
}

TEST(FindOption, ByName) {
    ASSERT_NE(find_option("machine"), nullptr);
    EXPECT_TRUE(find_option("machine")->has_arg);
    EXPECT_FALSE(find_option("nographic")->has_arg);
    EXPECT_EQ(find_option("h"), find_option("help"));
    EXPECT_EQ(find_option("nosuch"), nullptr);
    EXPECT_EQ(find_option(""), nullptr);
    EXPECT_EQ(find_option("-m"), nullptr);  // names carry no dash
}

TEST(CommandLine, ParsesOptionsInOrder) {
    Argv a{"tessera", "-M", "virt", "--m", "256", "-nographic", "-kernel", "Image", "-S",
           "-append", "console=ttyS0 -m 5"};
    auto opts = parse_command_line(a.span());
    ASSERT_EQ(opts.size(), 6u);
    EXPECT_EQ(opts[0].def->name, "M");
    EXPECT_EQ(opts[0].arg, "virt");
    EXPECT_EQ(opts[1].def->name, "m");
    EXPECT_EQ(opts[1].arg, "256");
    EXPECT_EQ(opts[2].def->name, "nographic");
    EXPECT_EQ(opts[2].arg, "");
    EXPECT_EQ(opts[3].arg, "Image");
    EXPECT_EQ(opts[4].def->name, "S");
    EXPECT_EQ(opts[5].arg, "console=ttyS0 -m 5");
    // The argument of -append is taken verbatim even if it looks like options.
    Argv b{"tessera", "-append", "-m"};
    EXPECT_EQ(parse_command_line(b.span())[0].arg, "-m");
}

TEST(CommandLine, BareArgumentIsHda) {
    Argv a{"tessera", "disk.img", "-snapshot"};
    auto opts = parse_command_line(a.span());
    ASSERT_EQ(opts.size(), 2u);
    EXPECT_EQ(opts[0].def->name, "hda");
    EXPECT_EQ(opts[0].arg, "disk.img");
    EXPECT_EQ(opts[1].def->name, "snapshot");
}

TEST(CommandLine, Empty) {
    Argv a{"tessera"};
    EXPECT_TRUE(parse_command_line(a.span()).empty());
    EXPECT_TRUE(parse_command_line({}).empty());
}

TEST(CommandLine, Errors) {
    Argv unknown{"tessera", "-foo"};
    EXPECT_THAT([&] { parse_command_line(unknown.span()); },
                ThrowsMessage<UsageError>(testing::StrEq("-foo: invalid option")));
    Argv dd{"tessera", "--foo"};
    EXPECT_THAT([&] { parse_command_line(dd.span()); },
                ThrowsMessage<UsageError>(testing::StrEq("--foo: invalid option")));
    Argv missing{"tessera", "-nographic", "-m"};
    EXPECT_THAT([&] { parse_command_line(missing.span()); },
                ThrowsMessage<UsageError>(testing::StrEq("-m: requires an argument")));
    Argv eq{"tessera", "-m=256"};  // not accepted by the reference either
    EXPECT_THAT([&] { parse_command_line(eq.span()); },
                ThrowsMessage<UsageError>(testing::StrEq("-m=256: invalid option")));
    Argv dash{"tessera", "-"};
    EXPECT_THROW(parse_command_line(dash.span()), UsageError);
    Argv dashdash{"tessera", "--"};
    EXPECT_THROW(parse_command_line(dashdash.span()), UsageError);
}

TEST(Help, HeaderAndHeadings) {
    std::string h = help_text("tessera");
    EXPECT_THAT(h, StartsWith("tessera version "));
    EXPECT_THAT(h, HasSubstr("\nusage: tessera [options] [disk_image]\n\n"
                             "'disk_image' is a raw hard disk image for IDE hard disk 0\n\n"
                             "Standard options:\n"
                             "-h or -help     print this help and exit\n"
                             "-version        print the version and exit\n"
                             "-machine [type=]name[,prop[=value][,...]]\n"
                             "                choose the board"));
    size_t last = 0;
    for (auto heading : {"Standard options:", "Block device options:", "USB convenience options:",
                         "Display options:", "Network options:", "Character device options:",
                         "TPM device options:", "Boot Image or Kernel specific:",
                         "Debug/Expert options:", "Generic object creation:"}) {
        size_t at = h.find("\n\n" + std::string(heading) + "\n");
        ASSERT_NE(at, std::string::npos) << heading;
        EXPECT_GT(at, last) << heading << " out of order";
        last = at;
    }
}

TEST(Help, EveryOptionAppears) {
    std::string h = help_text("tessera");
    for (auto &o : option_table()) {
        std::regex re("(^|\\n|/|-|or )-" + std::regex_replace(std::string(o.name), std::regex("[-_]"), "[$&]") +
                      "([ /\\n])");
        EXPECT_TRUE(std::regex_search(h, re)) << o.name;
    }
}

TEST(Help, AlignsHelpAtColumn16) {
    std::string h = help_text("tessera");
    EXPECT_THAT(h, HasSubstr("\n-cpu cpu        choose the CPU model"));
    EXPECT_THAT(h, HasSubstr("\n-usbdevice name plug"));          // 15 chars: one space
    EXPECT_THAT(h, HasSubstr("\n-fda/-fdb file  floppy disk 0/1 image\n"));
    EXPECT_THAT(h, HasSubstr("\n-enable-sync-profile\n                collect"));  // too long
    // Multi-line usage: continuation lines verbatim, help indented below.
    EXPECT_THAT(h, HasSubstr("\n-smp [[cpus=]n]"));
    EXPECT_THAT(h, HasSubstr("\n-incoming defer\n                receive"));  // several forms
    EXPECT_THAT(h, HasSubstr("\n               [,dies=dies][,clusters=clusters][,cores=cores]"
                             "[,threads=threads]\n                number of vCPUs"));
    // Every line that is not usage, heading or blank is indented by 16.
    std::istringstream lines(h);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.size() > 16 && line.starts_with("    ")) {
            bool continuation = line.find_first_not_of(' ') < 16 && line.find('[') != std::string::npos;
            if (!continuation) {
                EXPECT_EQ(line.find_first_not_of(' '), 16u) << line;
            }
        }
    }
}

TEST(Help, Version) {
    EXPECT_THAT(version_text("tessera"), testing::MatchesRegex("tessera version [0-9]+\\.[0-9]+\\.[0-9]+\n"));
    EXPECT_THAT(help_text("tessera"), StartsWith(version_text("tessera")));
}

TEST(Help, EndsWithNewline) {
    std::string h = help_text("x");
    EXPECT_EQ(h.back(), '\n');
    EXPECT_THAT(h, HasSubstr("\n-object TYPENAME[,PROP1=VALUE1,...]\n                create an object"));
}

}  // namespace
