// ELF32/ELF64 little-endian loader. Every offset and size read from the file
// is checked against the file before use: hostile files get an error line.
#include "loader/loader.hpp"

#include "options/keyval.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <elf.h>

namespace tessera {
namespace {

template <class T>
T read_struct(std::span<const uint8_t> file, uint64_t off) {
    T v;
    std::memcpy(&v, file.data() + off, sizeof v);
    return v;
}

// Does [off, off + count * size) fit in a file of `total` bytes?
bool fits(uint64_t total, uint64_t off, uint64_t count, uint64_t size) {
    if (off > total)
        return false;
    if (size && count > (total - off) / size)
        return false;
    return true;
}

std::string hex(uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
    return buf;
}

struct Elf32 {
    using Ehdr = Elf32_Ehdr;
    using Phdr = Elf32_Phdr;
    using Shdr = Elf32_Shdr;
    using Sym = Elf32_Sym;
    static constexpr int bits = 32;
    static unsigned char sym_type(unsigned char info) { return ELF32_ST_TYPE(info); }
};
struct Elf64 {
    using Ehdr = Elf64_Ehdr;
    using Phdr = Elf64_Phdr;
    using Shdr = Elf64_Shdr;
    using Sym = Elf64_Sym;
    static constexpr int bits = 64;
    static unsigned char sym_type(unsigned char info) { return ELF64_ST_TYPE(info); }
};

template <class E>
class ElfFile {
public:
    ElfFile(std::string_view name, std::span<const uint8_t> file) : name_(name), file_(file) {
        if (file.size() < sizeof(typename E::Ehdr))
            fail("ELF header truncated");
        eh_ = read_struct<typename E::Ehdr>(file, 0);
        if (eh_.e_type != ET_EXEC && eh_.e_type != ET_DYN)
            fail("not an executable ELF file");
        if (eh_.e_version != EV_CURRENT)
            fail("unsupported ELF version");
        if (eh_.e_phnum && eh_.e_phentsize != sizeof(typename E::Phdr))
            fail("bad ELF program header size");
        if (!fits(file.size(), eh_.e_phoff, eh_.e_phnum, sizeof(typename E::Phdr)))
            fail("ELF program headers outside the file");
    }

    [[noreturn]] void fail(const std::string &what) const {
        throw UsageError(name_ + ": " + what);
    }

    ElfInfo load(AddressSpace &as, const ElfLoadOptions &opts) {
        struct Seg {
            uint64_t addr, filesz, memsz, offset;
        };
        std::vector<Seg> segs;
        for (unsigned i = 0; i < eh_.e_phnum; ++i) {
            const auto ph = read_struct<typename E::Phdr>(file_, eh_.e_phoff + uint64_t(i) * sizeof(typename E::Phdr));
            if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
                continue;
            if (ph.p_filesz > ph.p_memsz)
                fail("ELF segment file size exceeds its memory size");
            if (!fits(file_.size(), ph.p_offset, 1, ph.p_filesz))
                fail("ELF segment outside the file");
            const uint64_t addr = uint64_t(ph.p_paddr) + uint64_t(opts.addr_offset);
            if (ph.p_memsz - 1 > UINT64_MAX - addr)
                fail("ELF segment at " + hex(addr) + " wraps around the address space");
            segs.push_back({addr, uint64_t(ph.p_filesz), uint64_t(ph.p_memsz), uint64_t(ph.p_offset)});
        }
        if (segs.empty())
            fail("no loadable segments in ELF file");
        std::sort(segs.begin(), segs.end(), [](const Seg &a, const Seg &b) { return a.addr < b.addr; });
        for (size_t i = 1; i < segs.size(); ++i)
            if (segs[i].addr <= segs[i - 1].addr + (segs[i - 1].memsz - 1))
                fail("ELF segments overlap at " + hex(segs[i].addr));

        ElfInfo info;
        info.entry = uint64_t(eh_.e_entry) + uint64_t(opts.addr_offset);
        info.elf_class = E::bits;
        info.machine = eh_.e_machine;
        info.low = segs.front().addr;
        info.high = segs.back().addr + segs.back().memsz;  // wraps to 0 only at the very top
        // Everything is checked before the first byte is written.
        for (const Seg &s : segs)
            if (!any_backed(as, s.addr, s.memsz))
                fail("ELF segment at " + hex(s.addr) + " is not in guest memory");
        std::vector<Symbol> syms;
        if (opts.symbols)
            read_symbols(syms);
        unsigned n = 0;
        for (const Seg &s : segs) {
            const auto data = file_.subspan(s.offset, s.filesz);
            if (opts.roms)
                opts.roms->add("phdr #" + std::to_string(n++) + ": " + name_, as, s.addr,
                               std::vector<uint8_t>(data.begin(), data.end()), s.memsz, true);
            else
                write_image(as, s.addr, data, s.memsz);
        }
        for (auto &sym : syms) {
            if (sym.function) opts.symbols->add_function(sym.name, sym.value, sym.size);
            opts.symbols->add(std::move(sym.name), sym.value);
        }
        return info;
    }

private:
    // .symtab and its string table, if present and sane; anything malformed
    // here is an error too (the headers claim to be there).
    struct Symbol {
        std::string name;
        uint64_t value, size;
        bool function;
    };
    void read_symbols(std::vector<Symbol> &out) const {
        if (eh_.e_shnum == 0)
            return;
        if (eh_.e_shentsize != sizeof(typename E::Shdr))
            fail("bad ELF section header size");
        if (!fits(file_.size(), eh_.e_shoff, eh_.e_shnum, sizeof(typename E::Shdr)))
            fail("ELF section headers outside the file");
        auto section = [&](unsigned i) {
            return read_struct<typename E::Shdr>(file_, eh_.e_shoff + uint64_t(i) * sizeof(typename E::Shdr));
        };
        for (unsigned i = 0; i < eh_.e_shnum; ++i) {
            const auto sh = section(i);
            if (sh.sh_type != SHT_SYMTAB)
                continue;
            if (sh.sh_link >= eh_.e_shnum)
                fail("ELF symbol table has a bad string table index");
            const auto strs = section(sh.sh_link);
            if (!fits(file_.size(), sh.sh_offset, 1, sh.sh_size) ||
                !fits(file_.size(), strs.sh_offset, 1, strs.sh_size))
                fail("ELF symbol table outside the file");
            const std::string_view names(reinterpret_cast<const char *>(file_.data() + strs.sh_offset),
                                         strs.sh_size);
            const uint64_t count = sh.sh_size / sizeof(typename E::Sym);
            for (uint64_t k = 1; k < count; ++k) {
                const auto sym = read_struct<typename E::Sym>(file_, sh.sh_offset + k * sizeof(typename E::Sym));
                const unsigned char type = E::sym_type(sym.st_info);
                if (sym.st_shndx == SHN_UNDEF || sym.st_name == 0 || sym.st_name >= names.size() ||
                    type == STT_SECTION || type == STT_FILE)
                    continue;
                const std::string_view rest = names.substr(sym.st_name);
                const size_t end = rest.find('\0');
                if (end == std::string_view::npos)
                    fail("ELF symbol name outside its string table");
                out.push_back({std::string(rest.substr(0, end)), sym.st_value, sym.st_size, type == STT_FUNC});
            }
        }
    }

    std::string name_;
    std::span<const uint8_t> file_;
    typename E::Ehdr eh_;
};

}  // namespace

ElfInfo load_elf_image(std::string_view name, std::span<const uint8_t> file, AddressSpace &as,
                       const ElfLoadOptions &opts) {
    const std::string n(name);
    if (file.size() < EI_NIDENT || std::memcmp(file.data(), ELFMAG, SELFMAG) != 0)
        throw UsageError(n + ": not an ELF file");
    if (file[EI_DATA] != ELFDATA2LSB)
        throw UsageError(n + ": not a little-endian ELF file");
    switch (file[EI_CLASS]) {
    case ELFCLASS32: return ElfFile<Elf32>(name, file).load(as, opts);
    case ELFCLASS64: return ElfFile<Elf64>(name, file).load(as, opts);
    default: throw UsageError(n + ": unknown ELF class");
    }
}

ElfInfo load_elf(std::string_view path, AddressSpace &as, const ElfLoadOptions &opts) {
    const std::vector<uint8_t> file = read_file(path, opts.what);
    return load_elf_image(path, file, as, opts);
}

}  // namespace tessera
