// tessera-plugin-index: writes the table "type -> plugin file" from the
// manifests of the plugins given on the command line (read without loading
// them). The build installs it as a data file so the kernel can say which
// plugin provides a type even when that plugin is not installed.
//   tessera-plugin-index OUTPUT PLUGIN.so...
#include "plugins/index.hpp"
#include "plugins/manifest.hpp"

#include <cstdio>
#include <exception>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

int main(int argc, char **argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: tessera-plugin-index OUTPUT PLUGIN.so...\n");
        return 2;
    }
    std::vector<tessera::IndexEntry> entries;
    for (int i = 2; i < argc; i++) {
        const std::string path = argv[i];
        try {
            auto text = tessera::read_manifest_section(path);
            if (!text) throw std::runtime_error("no tessera manifest section");
            const tessera::Manifest m = tessera::parse_manifest(*text);
            const std::string file = path.substr(path.rfind('/') + 1);
            for (const auto &t : m.types) entries.push_back({t.name, t.kind, file, t.category});
        } catch (const std::exception &e) {
            std::fprintf(stderr, "tessera-plugin-index: %s: %s\n", path.c_str(), e.what());
            return 1;
        }
    }
    std::ofstream out(argv[1], std::ios::trunc);
    out << tessera::format_plugin_index(entries);
    return out ? 0 : 1;
}
