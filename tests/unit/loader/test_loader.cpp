#include "loader/loader.hpp"
#include "options/keyval.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <elf.h>
#include <filesystem>
#include <fstream>
#include <random>

using namespace tessera;
using ::testing::HasSubstr;

namespace {

// Builds small ELF files: segments with data and bss, optionally a .symtab.
template <class Ehdr, class Phdr, class Shdr, class Sym>
struct ElfBuilder {
    struct Segment {
        uint64_t paddr;
        std::vector<uint8_t> data;
        uint64_t memsz;
    };
    std::vector<Segment> segments;
    std::vector<std::pair<std::string, uint64_t>> symbols;
    uint64_t entry = 0;
    unsigned char elf_class = sizeof(Ehdr) == sizeof(Elf64_Ehdr) ? ELFCLASS64 : ELFCLASS32;

    template <class T>
    static void put(std::vector<uint8_t> &out, size_t off, const T &v) {
        if (out.size() < off + sizeof v)
            out.resize(off + sizeof v);
        std::memcpy(out.data() + off, &v, sizeof v);
    }

    std::vector<uint8_t> build() const {
        std::vector<uint8_t> out(sizeof(Ehdr) + segments.size() * sizeof(Phdr));
        Ehdr eh{};
        std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
        eh.e_ident[EI_CLASS] = elf_class;
        eh.e_ident[EI_DATA] = ELFDATA2LSB;
        eh.e_ident[EI_VERSION] = EV_CURRENT;
        eh.e_type = ET_EXEC;
        eh.e_machine = EM_RISCV;
        eh.e_version = EV_CURRENT;
        eh.e_entry = entry;
        eh.e_phoff = sizeof(Ehdr);
        eh.e_ehsize = sizeof(Ehdr);
        eh.e_phentsize = sizeof(Phdr);
        eh.e_phnum = segments.size();
        for (size_t i = 0; i < segments.size(); ++i) {
            const Segment &s = segments[i];
            Phdr ph{};
            ph.p_type = PT_LOAD;
            ph.p_offset = out.size();
            ph.p_paddr = ph.p_vaddr = s.paddr;
            ph.p_filesz = s.data.size();
            ph.p_memsz = s.memsz;
            out.insert(out.end(), s.data.begin(), s.data.end());
            put(out, sizeof(Ehdr) + i * sizeof(Phdr), ph);
        }
        if (!symbols.empty()) {
            std::string strtab(1, '\0');
            std::vector<Sym> syms(1);
            for (const auto &[name, value] : symbols) {
                Sym s{};
                s.st_name = strtab.size();
                s.st_value = value;
                s.st_shndx = 1;
                s.st_info = sizeof(Sym) == sizeof(Elf64_Sym) ? ELF64_ST_INFO(STB_GLOBAL, STT_OBJECT)
                                                             : ELF32_ST_INFO(STB_GLOBAL, STT_OBJECT);
                syms.push_back(s);
                strtab += name + '\0';
            }
            const size_t symoff = out.size();
            for (const Sym &s : syms)
                put(out, out.size(), s);
            const size_t stroff = out.size();
            out.insert(out.end(), strtab.begin(), strtab.end());
            std::vector<Shdr> sh(3);
            sh[1].sh_type = SHT_SYMTAB;
            sh[1].sh_offset = symoff;
            sh[1].sh_size = syms.size() * sizeof(Sym);
            sh[1].sh_link = 2;
            sh[1].sh_entsize = sizeof(Sym);
            sh[2].sh_type = SHT_STRTAB;
            sh[2].sh_offset = stroff;
            sh[2].sh_size = strtab.size();
            const size_t shoff = out.size();
            for (const Shdr &s : sh)
                put(out, out.size(), s);
            eh.e_shoff = shoff;
            eh.e_shentsize = sizeof(Shdr);
            eh.e_shnum = sh.size();
        }
        put(out, 0, eh);
        return out;
    }
};
using Elf64Builder = ElfBuilder<Elf64_Ehdr, Elf64_Phdr, Elf64_Shdr, Elf64_Sym>;
using Elf32Builder = ElfBuilder<Elf32_Ehdr, Elf32_Phdr, Elf32_Shdr, Elf32_Sym>;

class LoaderTest : public ::testing::Test {
protected:
    void SetUp() override {
        region_add(*system, 0x80000000, *ram);
        region_add(*system, 0x1000, *rom);
        std::memset(ram->backing.data(), 0xff, ram->size);
        dir = std::filesystem::temp_directory_path() /
              ("tessera-loader-" + std::to_string(::getpid()) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::create_directories(dir);
    }
    void TearDown() override { std::filesystem::remove_all(dir); }

    std::string file(const std::string &name, const std::vector<uint8_t> &data) {
        const std::string path = (dir / name).string();
        std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char *>(data.data()), data.size());
        return path;
    }
    std::string load_error(std::span<const uint8_t> image) {
        RomRegistry fresh;   // no overlap with earlier loads
        ElfLoadOptions o = opts;
        o.roms = &fresh;
        try {
            load_elf_image("x", image, as, o);
        } catch (const UsageError &e) {
            return e.what();
        }
        return "loaded";
    }

    RegionPtr system = make_container("system", UINT64_MAX);
    RegionPtr ram = make_ram("ram", 0x100000);
    RegionPtr rom = make_rom("mrom", 0x1000);
    AddressSpace as{"memory", *system};
    SymbolTable symbols;
    RomRegistry roms;
    ElfLoadOptions opts{.symbols = &symbols, .roms = &roms};
    std::filesystem::path dir;
};

Elf64Builder sample64() {
    Elf64Builder b;
    b.entry = 0x80000000;
    b.segments.push_back({0x80000000, {0x13, 0x05, 0x00, 0x00}, 0x1000});   // text + bss
    b.segments.push_back({0x80002000, {1, 2, 3, 4, 5, 6, 7, 8}, 8});
    b.symbols = {{"tohost", 0x80001000}, {"_start", 0x80000000}};
    return b;
}

}  // namespace

TEST_F(LoaderTest, LoadsElf64SegmentsAndBss) {
    const auto image = sample64().build();
    const std::string path = file("fw.elf", image);
    EXPECT_TRUE(file_is_elf(path));
    const ElfInfo info = load_elf(path, as, opts);
    EXPECT_EQ(info.entry, 0x80000000u);
    EXPECT_EQ(info.low, 0x80000000u);
    EXPECT_EQ(info.high, 0x80002008u);
    EXPECT_EQ(info.elf_class, 64);
    EXPECT_EQ(info.machine, EM_RISCV);
    const uint8_t *m = ram->backing.data();
    EXPECT_EQ(m[0], 0x13);
    EXPECT_EQ(m[4], 0);        // bss zeroed
    EXPECT_EQ(m[0xfff], 0);
    EXPECT_EQ(m[0x1000], 0xff); // untouched past memsz
    EXPECT_EQ(m[0x2007], 8);
    EXPECT_EQ(symbols.lookup("tohost"), 0x80001000u);
    EXPECT_EQ(symbols.lookup("_start"), 0x80000000u);
    EXPECT_EQ(symbols.lookup("missing"), std::nullopt);
    EXPECT_EQ(roms.info_roms(),
              "addr=0000000080000000 size=0x001000 mem=ram name=\"phdr #0: " + path + "\"\n"
              "addr=0000000080002000 size=0x000008 mem=ram name=\"phdr #1: " + path + "\"\n");

    // Reset writes the blobs again.
    std::memset(ram->backing.data(), 0xaa, 0x3000);
    roms.rewrite_all();
    EXPECT_EQ(m[0], 0x13);
    EXPECT_EQ(m[0x10], 0);
    EXPECT_EQ(m[0x2000], 1);
    EXPECT_EQ(m[0x1000], 0xaa);
}

TEST_F(LoaderTest, LoadsElf32WithOffset) {
    Elf32Builder b;
    b.entry = 0x100;
    b.segments.push_back({0x0, {9, 8, 7}, 3});
    opts.addr_offset = 0x80000000;
    const auto image = b.build();
    const ElfInfo info = load_elf_image("k32", image, as, opts);
    EXPECT_EQ(info.elf_class, 32);
    EXPECT_EQ(info.entry, 0x80000100u);
    EXPECT_EQ(ram->backing.data()[2], 7);
}

TEST_F(LoaderTest, RomSegmentsAreWritten) {
    Elf64Builder b;
    b.segments.push_back({0x1000, {0x97, 0x02}, 2});
    const auto image = b.build();
    load_elf_image("reset", image, as, opts);
    EXPECT_EQ(rom->backing.data()[1], 0x02);
    EXPECT_THAT(roms.info_roms(), HasSubstr("mem=rom"));
}

TEST_F(LoaderTest, RejectsHostileFiles) {
    const auto good = sample64().build();
    EXPECT_EQ(load_error(good), "loaded");

    EXPECT_EQ(load_error(std::vector<uint8_t>{'M', 'Z', 0, 0}), "x: not an ELF file");
    EXPECT_EQ(load_error(std::span(good).first(20)), "x: ELF header truncated");
    // Cut inside the first segment's data.
    EXPECT_EQ(load_error(std::span(good).first(sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr) + 2)),
              "x: ELF segment outside the file");
    // Program headers past the end.
    EXPECT_EQ(load_error(std::span(good).first(sizeof(Elf64_Ehdr) + 10)), "x: ELF program headers outside the file");

    auto bad = good;
    auto *ph = reinterpret_cast<Elf64_Phdr *>(bad.data() + sizeof(Elf64_Ehdr));
    ph->p_offset = ~0ull - 1;   // offset + size overflows
    EXPECT_EQ(load_error(bad), "x: ELF segment outside the file");

    bad = good;
    ph = reinterpret_cast<Elf64_Phdr *>(bad.data() + sizeof(Elf64_Ehdr));
    ph->p_filesz = 0x2000;   // more than memsz
    EXPECT_EQ(load_error(bad), "x: ELF segment file size exceeds its memory size");

    bad = good;
    reinterpret_cast<Elf64_Ehdr *>(bad.data())->e_phentsize = 12;
    EXPECT_EQ(load_error(bad), "x: bad ELF program header size");

    bad = good;
    reinterpret_cast<Elf64_Ehdr *>(bad.data())->e_phnum = 0xffff;
    EXPECT_EQ(load_error(bad), "x: ELF program headers outside the file");

    bad = good;
    reinterpret_cast<Elf64_Ehdr *>(bad.data())->e_shoff = 1ull << 40;
    EXPECT_EQ(load_error(bad), "x: ELF section headers outside the file");

    bad = good;
    bad[EI_DATA] = ELFDATA2MSB;
    EXPECT_EQ(load_error(bad), "x: not a little-endian ELF file");

    bad = good;
    bad[EI_CLASS] = 7;
    EXPECT_EQ(load_error(bad), "x: unknown ELF class");
}

TEST_F(LoaderTest, RejectsOverlapsAndUnmappedSegments) {
    Elf64Builder b;
    b.segments.push_back({0x80000000, {1}, 0x100});
    b.segments.push_back({0x800000f0, {2}, 0x10});
    EXPECT_EQ(load_error(b.build()), "x: ELF segments overlap at 0x800000f0");

    Elf64Builder hole;
    hole.segments.push_back({0x40000000, {1}, 1});
    EXPECT_THAT(load_error(hole.build()), HasSubstr("not in guest memory"));

    // Two files loaded over each other.
    Elf64Builder one, two;
    one.segments.push_back({0x80000000, {1}, 0x100});
    two.segments.push_back({0x80000080, {1}, 0x100});
    load_elf_image("one", one.build(), as, opts);
    try {
        load_elf_image("two", two.build(), as, opts);
        FAIL() << "overlap not detected";
    } catch (const UsageError &e) {
        EXPECT_STREQ(e.what(), "rom: requested regions overlap (rom phdr #0: two. free=0x0000000080000100, "
                               "addr=0x0000000080000080)");
    }
}

// Linkers put the ELF headers in the first PT_LOAD, below the text: with RAM
// at 0x80000000 and -Ttext=0x80000000 that segment starts in a hole. The
// reference loads the part in RAM; so does tessera (it used to refuse).
TEST_F(LoaderTest, SegmentHangingOverAHoleLoadsItsRamPart) {
    Elf64Builder b;
    std::vector<uint8_t> data(0x1010, 0xab);
    b.segments.push_back({0x7ffff000, data, 0x1010});
    load_elf_image("x", b.build(), as, opts);
    uint8_t got[0x10] = {};
    EXPECT_EQ(as.read(0x80000000, got), TS_MEMTX_OK);
    for (uint8_t v : got) EXPECT_EQ(v, 0xab);
}

TEST_F(LoaderTest, MutatedFilesNeverCrash) {
    const auto good = sample64().build();
    std::mt19937 rng(1234);
    int loaded = 0;
    for (int i = 0; i < 3000; ++i) {
        auto bad = good;
        for (int k = 0; k < 4; ++k)
            bad[rng() % std::min<size_t>(bad.size(), 0x100)] = uint8_t(rng());
        if (rng() % 4 == 0)
            bad.resize(rng() % bad.size());
        RomRegistry fresh;
        ElfLoadOptions o{.symbols = &symbols, .roms = &fresh};
        try {
            load_elf_image("m", bad, as, o);
            ++loaded;
        } catch (const UsageError &) {
        }
    }
    EXPECT_GT(loaded, 0);
}

TEST_F(LoaderTest, FileErrors) {
    const std::string missing = (dir / "nope").string();
    try {
        load_elf(missing, as, opts);
        FAIL();
    } catch (const UsageError &e) {
        EXPECT_EQ(std::string(e.what()), "could not load kernel '" + missing + "': No such file or directory");
    }
    EXPECT_THROW(file_is_elf(missing), UsageError);
    const std::string text = file("text", {'h', 'i'});
    EXPECT_FALSE(file_is_elf(text));
    try {
        load_elf(text, as, opts);
        FAIL();
    } catch (const UsageError &e) {
        EXPECT_EQ(std::string(e.what()), text + ": not an ELF file");
    }
    uint8_t head[16];
    EXPECT_EQ(file_read_head(text, head), 2u);
}

TEST_F(LoaderTest, RawImagesAndSizeLimit) {
    std::vector<uint8_t> data(300, 0x5a);
    const std::string path = file("initrd", data);
    EXPECT_EQ(load_raw(path, as, 0x80010000, 300, &roms, "initrd"), 300u);
    EXPECT_EQ(ram->backing.data()[0x10000 + 299], 0x5a);
    EXPECT_EQ(ram->backing.data()[0x10000 + 300], 0xff);
    try {
        load_raw(path, as, 0x80020000, 299, &roms, "initrd");
        FAIL();
    } catch (const UsageError &e) {
        EXPECT_THAT(e.what(), HasSubstr("could not load initrd '" + path + "': file too large (300 bytes"));
    }
    EXPECT_EQ(roms.blobs().size(), 1u);
}

TEST(RiscvImage, ParsesHeader) {
    std::vector<uint8_t> head(64);
    head[8] = 0x00; head[10] = 0x20;            // text_offset 0x200000
    head[16] = 0x00; head[18] = 0x40; head[19] = 0x01;   // image_size 0x1400000
    head[32] = 2;                               // version 0.2
    EXPECT_EQ(parse_riscv_image(head), std::nullopt);
    std::memcpy(head.data() + 0x38, "RSC\x05", 4);
    const auto h = parse_riscv_image(head);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->text_offset, 0x200000u);
    EXPECT_EQ(h->image_size, 0x1400000u);
    EXPECT_EQ(h->version, 2u);
    EXPECT_EQ(parse_riscv_image(std::span(head).first(60)), std::nullopt);
}

TEST(Symbols, GlobalTableIsShared) {
    global_symbols().add("fromhost", 0x1234);
    EXPECT_EQ(global_symbols().lookup("fromhost"), 0x1234u);
    global_symbols().clear();
    EXPECT_EQ(global_symbols().size(), 0u);
}

// A real firmware, when the reference's package is installed: the ELF loads
// to the same bytes as its flat .bin twin.
TEST_F(LoaderTest, OpenSbiElfMatchesItsBin) {
    const std::string elf = "/usr/share/qemu/opensbi-riscv64-generic-fw_dynamic.elf";
    const std::string bin = "/usr/share/qemu/opensbi-riscv64-generic-fw_dynamic.bin";
    if (!std::filesystem::exists(elf) || !std::filesystem::exists(bin))
        GTEST_SKIP() << "OpenSBI images not installed";
    std::memset(ram->backing.data(), 0, ram->size);
    const ElfInfo info = load_elf(elf, as, opts);
    EXPECT_EQ(info.entry, 0x80000000u);
    EXPECT_EQ(info.low, 0x80000000u);
    EXPECT_EQ(info.elf_class, 64);
    EXPECT_EQ(info.machine, EM_RISCV);
    const auto flat = read_file(bin);
    ASSERT_LE(flat.size(), ram->size);
    EXPECT_EQ(std::memcmp(ram->backing.data(), flat.data(), flat.size()), 0);
}
