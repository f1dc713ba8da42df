#include "plugins/index.hpp"

#include <sys/auxv.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#ifndef TESSERA_PLUGIN_INDEX
#define TESSERA_PLUGIN_INDEX "/usr/local/share/tessera/plugin-index"
#endif
#ifndef TESSERA_BUILD_ROOT
#define TESSERA_BUILD_ROOT ""
#endif

namespace tessera {

std::string format_plugin_index(std::vector<IndexEntry> entries) {
    std::sort(entries.begin(), entries.end(), [](const auto &a, const auto &b) { return a.type < b.type; });
    std::string out = "# tessera plugin index: TYPE KIND PLUGIN-FILE (generated from the plugin manifests)\n";
    for (const auto &e : entries)
        out += e.type + " " + std::string(kind_name(e.kind)) + " " + e.file +
               (e.category.empty() ? "" : " " + e.category) + "\n";
    return out;
}

std::vector<IndexEntry> parse_plugin_index(std::string_view text) {
    std::vector<IndexEntry> out;
    std::istringstream in{std::string(text)};
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream l(line);
        std::string type, kind, file, category, extra;
        if (!(l >> type >> kind >> file) || ((l >> category) && (l >> extra))) continue;
        auto k = kind_from_name(kind);
        if (!k || file.find('/') != std::string::npos) continue;
        out.push_back({type, *k, file, category});
    }
    return out;
}

std::string plugin_index_path() {
    const bool secure = getauxval(AT_SECURE) != 0;
    if (const char *p = secure ? nullptr : std::getenv("TESSERA_PLUGIN_INDEX")) return p;
    const std::string build_root = TESSERA_BUILD_ROOT;
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    const std::string exe = n > 0 ? std::string(buf, size_t(n)) : std::string();
    if (!build_root.empty() && exe.compare(0, build_root.size() + 1, build_root + "/") == 0)
        return build_root + "/kernel/plugins/index/plugin-index";
    return TESSERA_PLUGIN_INDEX;
}

std::vector<IndexEntry> plugin_index_read(const std::string &path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return {};
    std::ostringstream s;
    s << f.rdbuf();
    return parse_plugin_index(s.str());
}

std::optional<std::string> plugin_index_lookup(const std::string &path, std::string_view type) {
    for (const auto &e : plugin_index_read(path))
        if (e.type == type) return e.file;
    return std::nullopt;
}

}  // namespace tessera
