// The plugin index: which plugin file provides each type of the in-tree
// plugins, generated at build time from their manifests (index_tool.cpp) and
// installed as a data file. Only consulted when no installed plugin provides
// a type, to say which package or plugin file is missing.
#pragma once

#include "plugins/manifest.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tessera {

struct IndexEntry {
    std::string type;
    TypeKind kind;
    std::string file;      // basename, e.g. "device-virtio.so"
    std::string category;  // the manifest's ("default:riscv64", "storage"); may be empty
};

// One line per entry: "TYPE KIND FILE [CATEGORY]", sorted by type; '#' lines
// are comments.
std::string format_plugin_index(std::vector<IndexEntry> entries);
// Lines that do not parse are skipped (a damaged index only loses hints).
std::vector<IndexEntry> parse_plugin_index(std::string_view text);

// Where the running kernel's index is: the build tree's when the executable
// runs from it, else the installed one; TESSERA_PLUGIN_INDEX overrides.
std::string plugin_index_path();

// The plugin file providing `type` according to the index at path, if any.
std::optional<std::string> plugin_index_lookup(const std::string &path, std::string_view type);
// Every entry of the index at path (empty if there is none).
std::vector<IndexEntry> plugin_index_read(const std::string &path);

}  // namespace tessera
