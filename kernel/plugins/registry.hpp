// Plugin discovery, the descriptor cache, and lazy loading.
#pragma once

#include "plugins/index.hpp"
#include "plugins/manifest.hpp"

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct ts_host;
struct ts_plugin_descriptor;

namespace tessera {

struct PluginFile {
    std::string path;
    std::string dir_origin;              // "build tree", "TESSERA_PLUGIN_PATH", "installed"
    std::optional<Manifest> manifest;
    std::string refused;                 // why unusable; empty if usable
    std::string shadowed_by;             // path of an earlier file with the same plugin name
    // Filled by load():
    void *handle = nullptr;
    const ts_plugin_descriptor *descriptor = nullptr;
    bool initialised = false;
};

struct TypeEntry {
    const ManifestType *type = nullptr;
    PluginFile *plugin = nullptr;
    std::vector<PluginFile *> also_provided_by;  // duplicates: using the type is an error
};

struct DiscoverConfig {
    std::vector<std::string> dirs;       // in priority order
    std::vector<std::string> origins;    // label per dir
    std::string cache_path;              // "" = no cache
};

// The search path as DESIGN.md gives it: build tree (when the executable runs
// from it), $TESSERA_PLUGIN_PATH (ignored for setuid), the installed folder.
DiscoverConfig default_discover_config();

class PluginRegistry {
public:
    void discover(const DiscoverConfig &cfg);

    const TypeEntry *find(std::string_view name) const;
    std::vector<const TypeEntry *> of_kind(TypeKind kind) const;

    // Loads the providing plugin (once), runs its init, and returns the
    // class for the type. Throws UsageError with a one-line message.
    const void *load_class(const TypeEntry &entry, const ts_host *host);

    // A refused plugin whose manifest names the type (for the error when
    // nothing usable provides it), or null.
    const PluginFile *refused_provider(std::string_view type_name) const;

    // The one-line error for a type nothing usable provides: names the
    // plugin file that would provide it when the plugin index knows it (the
    // plugin is not installed), else the folders searched. `what` is the
    // option ("-device").
    std::string missing_type_message(std::string_view what, std::string_view type_name) const;
    // The plugin file the index names for a type (the plugin is not installed).
    std::optional<std::string> not_installed_provider(std::string_view type_name) const;
    // Index entries of this kind that no usable plugin provides.
    std::vector<IndexEntry> not_installed_of_kind(TypeKind kind) const;

    // Human-readable list for `tessera -plugins`.
    std::string describe() const;
    const std::vector<std::unique_ptr<PluginFile>> &files() const { return files_; }
    const DiscoverConfig &config() const { return cfg_; }
    std::string searched_dirs() const;

    // Calls every initialised plugin's fini (at exit). Plugins stay mapped.
    void finish();

private:
    void load(PluginFile &pf, const ts_host *host);
    DiscoverConfig cfg_;
    std::vector<std::unique_ptr<PluginFile>> files_;
    std::map<std::string, TypeEntry, std::less<>> types_;
};

PluginRegistry &plugin_registry();

}  // namespace tessera
