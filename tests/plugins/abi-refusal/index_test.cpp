// The plugin index file: format, parse and lookup (kernel/plugins/index.hpp).
#include "plugins/index.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace {

using tessera::IndexEntry;
using tessera::TypeKind;

TEST(PluginIndex, FormatSortsAndParseReadsBack) {
    std::string text = tessera::format_plugin_index({{"virtio-rng-device", TypeKind::Device, "device-virtio.so"},
                                                     {"raw", TypeKind::Block, "block-raw.so"},
                                                     {"spike", TypeKind::Board, "board-riscv-spike.so", "default:riscv64"}});
    EXPECT_EQ(text.substr(text.find('\n') + 1),
              "raw block block-raw.so\nspike board board-riscv-spike.so default:riscv64\n"
              "virtio-rng-device device device-virtio.so\n");
    auto back = tessera::parse_plugin_index(text);
    ASSERT_EQ(back.size(), 3u);
    EXPECT_EQ(back[1].type, "spike");
    EXPECT_EQ(back[1].kind, TypeKind::Board);
    EXPECT_EQ(back[1].file, "board-riscv-spike.so");
    EXPECT_EQ(back[1].category, "default:riscv64");
    EXPECT_EQ(back[0].category, "");
}

TEST(PluginIndex, BadLinesAreSkipped) {
    auto e = tessera::parse_plugin_index("# c\n\nok device a.so\nshort device\nbad kind x.so\n"
                                         "one two three four five\npath device ../evil.so\nlast netdev b.so");
    ASSERT_EQ(e.size(), 2u);
    EXPECT_EQ(e[0].type, "ok");
    EXPECT_EQ(e[1].type, "last");
    EXPECT_EQ(e[1].kind, TypeKind::Netdev);
}

TEST(PluginIndex, LookupByType) {
    char path[] = "/tmp/tessera-index-XXXXXX";
    int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    close(fd);
    std::ofstream(path) << "user netdev net-user.so\nqcow2 block block-qcow2.so\n";
    EXPECT_EQ(tessera::plugin_index_lookup(path, "qcow2").value_or(""), "block-qcow2.so");
    EXPECT_FALSE(tessera::plugin_index_lookup(path, "qcow").has_value());
    EXPECT_FALSE(tessera::plugin_index_lookup("/nonexistent/index", "qcow2").has_value());
    std::remove(path);
}

}  // namespace
