#include "plugins/manifest.hpp"

#include <tessera/abi.h>

#include <elf.h>

#include <array>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace tessera {

namespace {
constexpr std::array<std::string_view, 10> kKindNames = {
    "target", "cpu", "board", "device", "block", "netdev", "chardev", "display", "audiodev", "object"};

std::string_view next_word(std::string_view &s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    size_t n = s.find(' ');
    std::string_view w = s.substr(0, n);
    s.remove_prefix(n == std::string_view::npos ? s.size() : n);
    return w;
}
}  // namespace

std::string_view kind_name(TypeKind k) { return kKindNames.at(static_cast<int>(k) - 1); }

std::optional<TypeKind> kind_from_name(std::string_view s) {
    for (size_t i = 0; i < kKindNames.size(); i++)
        if (kKindNames[i] == s) return static_cast<TypeKind>(i + 1);
    return std::nullopt;
}

Manifest parse_manifest(std::string_view text) {
    Manifest m;
    int lineno = 0;
    while (!text.empty()) {
        size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        lineno++;
        if (line.empty()) continue;
        std::string_view rest = line;
        std::string_view key = next_word(rest);
        while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
        auto bad = [&](const char *why) {
            throw std::runtime_error("manifest line " + std::to_string(lineno) + ": " + why);
        };
        if (key == "abi") {
            size_t dot = rest.find('.');
            if (dot == std::string_view::npos) bad("abi needs MAJOR.MINOR");
            try {
                m.abi_major = std::stoi(std::string(rest.substr(0, dot)));
                m.abi_minor = std::stoi(std::string(rest.substr(dot + 1)));
            } catch (const std::exception &) {
                bad("abi needs MAJOR.MINOR");
            }
        } else if (key == "plugin") {
            m.plugin = rest;
        } else if (key == "version") {
            m.version = rest;
        } else if (key == "type") {
            ManifestType t;
            auto kind = kind_from_name(next_word(rest));
            if (!kind) bad("unknown type kind");
            t.kind = *kind;
            t.name = next_word(rest);
            std::string_view parent = next_word(rest), category = next_word(rest);
            while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
            if (t.name.empty() || parent.empty() || category.empty()) bad("type needs KIND NAME PARENT CATEGORY DESCRIPTION");
            t.parent = parent == "-" ? "" : std::string(parent);
            t.category = category == "-" ? "" : std::string(category);
            t.description = rest;
            m.types.push_back(std::move(t));
        }
        // Unknown keys are ignored: a newer minor may add records.
    }
    if (m.abi_major < 0) throw std::runtime_error("manifest has no abi line");
    if (m.plugin.empty()) throw std::runtime_error("manifest has no plugin line");
    return m;
}

// Only what is needed to find one section by name: the ELF header, the
// section header table and the section-name string table, all bounds-checked
// against the file size.
std::optional<std::string> read_manifest_section(const std::string &path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error(std::string("cannot open: ") + std::strerror(errno));
    f.seekg(0, std::ios::end);
    const uint64_t file_size = static_cast<uint64_t>(f.tellg());
    auto read_at = [&](uint64_t off, void *buf, uint64_t len) {
        if (off > file_size || len > file_size - off) throw std::runtime_error("truncated ELF file");
        f.seekg(static_cast<std::streamoff>(off));
        f.read(static_cast<char *>(buf), static_cast<std::streamsize>(len));
        if (!f) throw std::runtime_error("read error");
    };
    unsigned char ident[EI_NIDENT];
    if (file_size < EI_NIDENT) return std::nullopt;
    read_at(0, ident, EI_NIDENT);
    if (std::memcmp(ident, ELFMAG, SELFMAG) != 0) return std::nullopt;
    if (ident[EI_CLASS] != ELFCLASS64 || ident[EI_DATA] != ELFDATA2LSB)
        throw std::runtime_error("not a 64-bit little-endian ELF object");
    Elf64_Ehdr eh;
    read_at(0, &eh, sizeof eh);
    if (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0 || eh.e_shstrndx >= eh.e_shnum)
        throw std::runtime_error("ELF file without usable section headers");
    std::vector<Elf64_Shdr> sh(eh.e_shnum);
    read_at(eh.e_shoff, sh.data(), uint64_t(eh.e_shnum) * sizeof(Elf64_Shdr));
    const Elf64_Shdr &strsh = sh[eh.e_shstrndx];
    if (strsh.sh_size > (1u << 20)) throw std::runtime_error("section name table too large");
    std::string names(strsh.sh_size, '\0');
    read_at(strsh.sh_offset, names.data(), strsh.sh_size);
    for (const auto &s : sh) {
        if (s.sh_name >= names.size()) continue;
        if (std::strcmp(names.c_str() + s.sh_name, TESSERA_MANIFEST_SECTION) != 0) continue;
        if (s.sh_type == SHT_NOBITS || s.sh_size > (1u << 20)) throw std::runtime_error("bad manifest section");
        std::string text(s.sh_size, '\0');
        read_at(s.sh_offset, text.data(), s.sh_size);
        // The section may hold the array's terminating NUL and padding.
        text.resize(std::strlen(text.c_str()));
        return text;
    }
    return std::nullopt;
}

}  // namespace tessera
