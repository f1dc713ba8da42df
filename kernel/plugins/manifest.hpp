// A plugin's manifest: what it provides, read without running its code.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tessera {

enum class TypeKind : int {
    Target = 1, Cpu, Board, Device, Block, Netdev, Chardev, Display, Audiodev, Object,
};
std::string_view kind_name(TypeKind k);
std::optional<TypeKind> kind_from_name(std::string_view s);

struct ManifestType {
    TypeKind kind;
    std::string name;
    std::string parent;      // "" if none
    std::string category;    // "" if none
    std::string description;
};

struct Manifest {
    int abi_major = -1, abi_minor = -1;
    std::string plugin;
    std::string version;
    std::vector<ManifestType> types;
};

// Parses the manifest text; throws std::runtime_error naming the bad line.
Manifest parse_manifest(std::string_view text);

// Reads the manifest section from an ELF shared object without loading it.
// Returns nullopt if the file is not an ELF or has no manifest section;
// throws std::runtime_error for a malformed ELF.
std::optional<std::string> read_manifest_section(const std::string &path);

}  // namespace tessera
