#include "fdt/fdt.hpp"
#include "options/keyval.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

extern "C" {
#include <libfdt.h>
}

using namespace tessera;

namespace {

std::string prop_string(const void *blob, const char *path, const char *name, int *len_out = nullptr) {
    const int node = fdt_path_offset(blob, path);
    if (node < 0)
        return "<no node>";
    int len = 0;
    const void *p = fdt_getprop(blob, node, name, &len);
    if (!p)
        return "<no prop>";
    if (len_out)
        *len_out = len;
    return std::string(static_cast<const char *>(p), size_t(len));
}

}  // namespace

TEST(Fdt, BuildPackReload) {
    Fdt t;
    t.set_prop_u32("/", "#address-cells", 2);
    t.set_prop_string("/", "model", "riscv-virtio,qemu");
    t.add_node("/soc");
    t.add_node("/soc/serial@10000000");
    t.set_prop_strings("/soc/serial@10000000", "compatible", {"ns16550a", "simple"});
    t.set_prop_cells("/soc/serial@10000000", "reg", {0x0, 0x10000000, 0x0, 0x100});
    t.set_prop_u64("/soc", "big", 0x123456789abcdef0ull);
    t.set_prop_empty("/soc", "ranges");
    t.add_node("/soc/plic@c000000");
    const uint32_t ph = t.phandle("/soc/plic@c000000");
    EXPECT_EQ(t.phandle("/soc/plic@c000000"), ph);   // stable
    EXPECT_NE(t.phandle("/soc"), ph);

    const auto blob = t.blob();
    std::vector<uint8_t> copy(blob.begin(), blob.end());
    ASSERT_EQ(fdt_check_header(copy.data()), 0);
    EXPECT_EQ(fdt_totalsize(copy.data()), copy.size());
    EXPECT_EQ(prop_string(copy.data(), "/", "model"), std::string("riscv-virtio,qemu\0", 18));
    EXPECT_EQ(prop_string(copy.data(), "/soc/serial@10000000", "compatible"), std::string("ns16550a\0simple\0", 16));
    int len = 0;
    const int serial = fdt_path_offset(copy.data(), "/soc/serial@10000000");
    const auto *reg = static_cast<const fdt32_t *>(fdt_getprop(copy.data(), serial, "reg", &len));
    ASSERT_EQ(len, 16);
    EXPECT_EQ(fdt32_to_cpu(reg[1]), 0x10000000u);
    EXPECT_EQ(fdt32_to_cpu(reg[3]), 0x100u);
    const auto *big = static_cast<const fdt64_t *>(fdt_getprop(copy.data(), fdt_path_offset(copy.data(), "/soc"), "big", &len));
    ASSERT_EQ(len, 8);
    EXPECT_EQ(fdt64_to_cpu(*big), 0x123456789abcdef0ull);
    EXPECT_EQ(prop_string(copy.data(), "/soc", "ranges", &len), "");
    EXPECT_EQ(fdt_get_phandle(copy.data(), fdt_path_offset(copy.data(), "/soc/plic@c000000")), ph);

    // Reload: the tree is the same and new phandles do not collide.
    Fdt again = Fdt::from_blob(copy);
    EXPECT_TRUE(again.has_node("/soc/serial@10000000"));
    again.add_node("/chosen");
    again.set_prop_string("/chosen", "bootargs", "console=ttyS0");
    const uint32_t fresh = again.phandle("/chosen");
    EXPECT_GT(fresh, std::max(ph, t.phandle("/soc")));
    EXPECT_EQ(prop_string(again.blob().data(), "/chosen", "bootargs"), std::string("console=ttyS0\0", 14));

    // Editing after packing keeps working.
    for (int i = 0; i < 50; ++i) {
        t.add_node("/cpus" + std::to_string(i));
        EXPECT_EQ(fdt_check_header(t.blob().data()), 0);
    }
    EXPECT_TRUE(t.has_node("/cpus49"));
}

TEST(Fdt, GrowsWhenFull) {
    Fdt t;
    t.add_node("/soc");
    const std::string filler(200, 'x');
    for (int i = 0; i < 600; ++i) {
        const std::string path = "/soc/dev@" + std::to_string(i);
        t.add_node(path);
        t.set_prop_string(path, "label", filler);
    }
    const auto blob = t.blob();
    EXPECT_GT(blob.size(), 128000u);
    EXPECT_EQ(fdt_check_header(blob.data()), 0);
    EXPECT_GE(fdt_path_offset(blob.data(), "/soc/dev@599"), 0);
}

TEST(Fdt, BadEditsThrow) {
    Fdt t;
    EXPECT_THROW(t.add_node("/missing/child"), std::runtime_error);
    EXPECT_THROW(t.add_node("relative"), std::runtime_error);
    EXPECT_THROW(t.add_node("/"), std::runtime_error);
    t.add_node("/a");
    EXPECT_THROW(t.add_node("/a"), std::runtime_error);   // exists
    EXPECT_THROW(t.set_prop_u32("/nope", "x", 1), std::runtime_error);
    EXPECT_THROW(t.phandle("/nope"), std::runtime_error);
}

TEST(Fdt, FileRoundTripAndValidation) {
    const auto dir = std::filesystem::temp_directory_path() / ("tessera-fdt-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string path = (dir / "virt.dtb").string();
    Fdt t;
    t.add_node("/memory@80000000");
    t.set_prop_string("/memory@80000000", "device_type", "memory");
    t.save(path);
    Fdt loaded = Fdt::load(path);
    EXPECT_TRUE(loaded.has_node("/memory@80000000"));

    const std::string junk = (dir / "junk.dtb").string();
    std::ofstream(junk) << "this is not a device tree at all, not even close";
    EXPECT_THROW(Fdt::load(junk), UsageError);
    // A header that claims more bytes than the file has.
    auto blob = t.blob();
    std::vector<uint8_t> cut(blob.begin(), blob.begin() + blob.size() / 2);
    EXPECT_THROW(Fdt::from_blob(cut), UsageError);
    EXPECT_THROW(Fdt::from_blob(std::span(cut).first(8)), UsageError);
    try {
        Fdt::load((dir / "absent.dtb").string());
        FAIL();
    } catch (const UsageError &e) {
        EXPECT_NE(std::string(e.what()).find("No such file or directory"), std::string::npos);
    }
    EXPECT_THROW(t.save((dir / "no/such/dir.dtb").string()), UsageError);
    std::filesystem::remove_all(dir);
}
