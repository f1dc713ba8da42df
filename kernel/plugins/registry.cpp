#include "plugins/registry.hpp"

#include "plugins/index.hpp"

#include "log/trace.hpp"
#include "options/keyval.hpp"

#include <tessera/abi.h>

#include <dirent.h>
#include <dlfcn.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#ifndef TESSERA_PLUGINDIR
#define TESSERA_PLUGINDIR "/usr/local/lib/tessera/plugins"
#endif
#ifndef TESSERA_BUILD_ROOT
#define TESSERA_BUILD_ROOT ""
#endif

namespace tessera {

namespace {

std::string abi_text(int major, int minor) {
    return std::to_string(major) + "." + std::to_string(minor);
}

std::string exe_path() {
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return {};
    return std::string(buf, static_cast<size_t>(n));
}

// Plugin files under dir; the build tree's plugin folder is nested by
// plugin family, so walk a few levels.
void collect_so(const std::string &dir, int depth, std::vector<std::string> &out) {
    DIR *d = opendir(dir.c_str());
    if (!d) return;
    std::vector<std::string> names;
    while (dirent *e = readdir(d)) {
        std::string n = e->d_name;
        if (n == "." || n == "..") continue;
        names.push_back(n);
    }
    closedir(d);
    std::sort(names.begin(), names.end());
    for (const auto &n : names) {
        std::string p = dir + "/" + n;
        struct stat st;
        if (stat(p.c_str(), &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            if (depth > 0 && n.find(".p") == std::string::npos) collect_so(p, depth - 1, out);
        } else if (n.size() > 3 && n.compare(n.size() - 3, 3, ".so") == 0) {
            out.push_back(p);
        }
    }
}

// Cache: one record per file: path, size, mtime and the manifest text (or
// "!" + why it has none). Rewritten only when something changed.
struct CacheRecord {
    uint64_t size = 0;
    int64_t mtime_ns = 0;
    std::string text;
};

std::map<std::string, CacheRecord> read_cache(const std::string &path) {
    std::map<std::string, CacheRecord> out;
    std::ifstream f(path, std::ios::binary);
    if (!f) return out;
    std::string magic;
    std::getline(f, magic);
    if (magic != "tessera-plugin-cache 1") return out;
    std::string file;
    while (std::getline(f, file)) {
        CacheRecord r;
        size_t len = 0;
        if (!(f >> r.size >> r.mtime_ns >> len)) break;
        f.get();
        if (len > (1u << 20)) break;
        r.text.resize(len);
        f.read(r.text.data(), static_cast<std::streamsize>(len));
        f.get();
        if (!f) break;
        out[file] = std::move(r);
    }
    return out;
}

void write_cache(const std::string &path, const std::map<std::string, CacheRecord> &recs) {
    auto slash = path.rfind('/');
    if (slash != std::string::npos) {
        std::string dir = path.substr(0, slash);
        // mkdir -p for the two usual levels (~/.cache/tessera)
        auto parent = dir.substr(0, dir.rfind('/'));
        mkdir(parent.c_str(), 0755);
        mkdir(dir.c_str(), 0755);
    }
    std::string tmp = path + ".tmp." + std::to_string(getpid());
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        if (!f) return;  // a cache we cannot write only costs time
        f << "tessera-plugin-cache 1\n";
        for (const auto &[file, r] : recs)
            f << file << '\n' << r.size << ' ' << r.mtime_ns << ' ' << r.text.size() << '\n' << r.text << '\n';
    }
    if (rename(tmp.c_str(), path.c_str()) != 0) unlink(tmp.c_str());
}

}  // namespace

DiscoverConfig default_discover_config() {
    DiscoverConfig cfg;
    std::string build_root = TESSERA_BUILD_ROOT;
    std::string exe = exe_path();
    if (!build_root.empty() && exe.compare(0, build_root.size() + 1, build_root + "/") == 0) {
        cfg.dirs.push_back(build_root + "/plugins");
        cfg.origins.push_back("build tree");
    }
    const bool secure = getauxval(AT_SECURE) != 0;
    if (const char *env = secure ? nullptr : getenv("TESSERA_PLUGIN_PATH")) {
        std::string_view s = env;
        while (!s.empty()) {
            size_t c = s.find(':');
            std::string_view part = s.substr(0, c);
            if (!part.empty()) {
                cfg.dirs.emplace_back(part);
                cfg.origins.push_back("TESSERA_PLUGIN_PATH");
            }
            s.remove_prefix(c == std::string_view::npos ? s.size() : c + 1);
        }
    }
    if (!(getenv("TESSERA_PLUGIN_PATH_ONLY") && !secure)) {
        cfg.dirs.push_back(TESSERA_PLUGINDIR);
        cfg.origins.push_back("installed");
    }
    if (const char *c = secure ? nullptr : getenv("TESSERA_PLUGIN_CACHE")) {
        cfg.cache_path = std::string(c) == "off" ? "" : c;
    } else if (const char *xdg = getenv("XDG_CACHE_HOME"); xdg && *xdg && !secure) {
        cfg.cache_path = std::string(xdg) + "/tessera/plugin-manifests";
    } else if (const char *home = getenv("HOME"); home && *home && !secure) {
        cfg.cache_path = std::string(home) + "/.cache/tessera/plugin-manifests";
    }
    return cfg;
}

void PluginRegistry::discover(const DiscoverConfig &cfg) {
    cfg_ = cfg;
    files_.clear();
    types_.clear();
    auto cache = cfg.cache_path.empty() ? std::map<std::string, CacheRecord>{} : read_cache(cfg.cache_path);
    bool cache_dirty = false;
    std::map<std::string, CacheRecord> fresh;
    std::map<std::string, PluginFile *, std::less<>> by_plugin_name;

    for (size_t i = 0; i < cfg.dirs.size(); i++) {
        std::vector<std::string> paths;
        collect_so(cfg.dirs[i], 3, paths);
        for (const auto &path : paths) {
            auto pf = std::make_unique<PluginFile>();
            pf->path = path;
            pf->dir_origin = cfg.origins[i];
            struct stat st;
            if (stat(path.c_str(), &st) != 0) continue;
            CacheRecord rec{static_cast<uint64_t>(st.st_size),
                            int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec, {}};
            auto it = cache.find(path);
            if (it != cache.end() && it->second.size == rec.size && it->second.mtime_ns == rec.mtime_ns) {
                rec.text = it->second.text;
            } else {
                cache_dirty = true;
                try {
                    auto text = read_manifest_section(path);
                    rec.text = text ? *text : "!no tessera manifest section (not a tessera plugin)";
                } catch (const std::exception &e) {
                    rec.text = std::string("!") + e.what();
                }
            }
            fresh[path] = rec;
            if (!rec.text.empty() && rec.text[0] == '!') {
                pf->refused = rec.text.substr(1);
            } else {
                try {
                    pf->manifest = parse_manifest(rec.text);
                    const auto &m = *pf->manifest;
                    if (m.abi_major != TESSERA_ABI_MAJOR || m.abi_minor > TESSERA_ABI_MINOR) {
                        pf->refused = "ABI " + abi_text(m.abi_major, m.abi_minor) +
                                      " is not supported by this tessera (ABI " +
                                      abi_text(TESSERA_ABI_MAJOR, TESSERA_ABI_MINOR) +
                                      " loads plugins of ABI " + std::to_string(TESSERA_ABI_MAJOR) + ".0 to " +
                                      abi_text(TESSERA_ABI_MAJOR, TESSERA_ABI_MINOR) +
                                      "); rebuild the plugin against this tessera's SDK or upgrade tessera";
                    }
                } catch (const std::exception &e) {
                    pf->refused = std::string("bad manifest: ") + e.what();
                }
            }
            if (pf->refused.empty()) {
                auto [pit, inserted] = by_plugin_name.emplace(pf->manifest->plugin, pf.get());
                if (!inserted) pf->shadowed_by = pit->second->path;
            }
            if (pf->refused.empty() && pf->shadowed_by.empty()) {
                for (const auto &t : pf->manifest->types) {
                    auto [tit, inserted] = types_.try_emplace(t.name);
                    if (inserted) {
                        tit->second.type = &t;
                        tit->second.plugin = pf.get();
                    } else {
                        tit->second.also_provided_by.push_back(pf.get());
                    }
                }
            }
            if (!pf->refused.empty())
                trace(TraceEvent::PluginRefused, "path=%s reason=%s", pf->path.c_str(), pf->refused.c_str());
            files_.push_back(std::move(pf));
        }
    }
    if (fresh.size() != cache.size()) cache_dirty = true;
    if (cache_dirty && !cfg.cache_path.empty()) write_cache(cfg.cache_path, fresh);
}

const TypeEntry *PluginRegistry::find(std::string_view name) const {
    auto it = types_.find(name);
    return it == types_.end() ? nullptr : &it->second;
}

std::vector<const TypeEntry *> PluginRegistry::of_kind(TypeKind kind) const {
    std::vector<const TypeEntry *> out;
    for (const auto &[name, e] : types_)
        if (e.type->kind == kind) out.push_back(&e);
    return out;
}

const PluginFile *PluginRegistry::refused_provider(std::string_view type_name) const {
    for (const auto &pf : files_)
        if (!pf->refused.empty() && pf->manifest)
            for (const auto &t : pf->manifest->types)
                if (t.name == type_name) return pf.get();
    return nullptr;
}

std::optional<std::string> PluginRegistry::not_installed_provider(std::string_view type_name) const {
    return plugin_index_lookup(plugin_index_path(), type_name);
}

std::vector<IndexEntry> PluginRegistry::not_installed_of_kind(TypeKind kind) const {
    std::vector<IndexEntry> out;
    for (auto &e : plugin_index_read(plugin_index_path()))
        if (e.kind == kind && !find(e.type)) out.push_back(std::move(e));
    return out;
}

std::string PluginRegistry::missing_type_message(std::string_view what, std::string_view type_name) const {
    const std::string head = std::string(what) + " '" + std::string(type_name) + "': ";
    if (auto file = not_installed_provider(type_name))
        return head + "provided by plugin " + *file + ", which is not installed (searched " + searched_dirs() + ")";
    return head + "no plugin provides this type (searched " + searched_dirs() +
           "; 'tessera -plugins' lists what was found)";
}

std::string PluginRegistry::searched_dirs() const {
    std::string s;
    for (const auto &d : cfg_.dirs) s += (s.empty() ? "" : ":") + d;
    return s;
}

void PluginRegistry::load(PluginFile &pf, const ts_host *host) {
    if (pf.initialised) return;
    const std::string where = "plugin " + pf.path + ": ";
    if (!pf.handle) {
        // RTLD_NODELETE: a loaded plugin stays mapped for the life of the VM,
        // even if a package upgrade replaces the file underneath.
        pf.handle = dlopen(pf.path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
        if (!pf.handle) {
            const char *e = dlerror();
            throw UsageError(where + "cannot be loaded: " + (e ? e : "unknown error") +
                             "; reinstall or remove it");
        }
        auto *d = static_cast<const ts_plugin_descriptor *>(dlsym(pf.handle, TESSERA_DESCRIPTOR_SYMBOL));
        if (!d)
            throw UsageError(where + "exports no '" TESSERA_DESCRIPTOR_SYMBOL
                             "' symbol; it is not a tessera plugin: remove it from the plugin path");
        if (d->size < offsetof(ts_plugin_descriptor, fini) || d->abi_major != TESSERA_ABI_MAJOR ||
            d->abi_minor > TESSERA_ABI_MINOR)
            throw UsageError(where + "descriptor declares ABI " + abi_text(d->abi_major, d->abi_minor) +
                             ", this tessera supports " + std::to_string(TESSERA_ABI_MAJOR) + ".0 to " +
                             abi_text(TESSERA_ABI_MAJOR, TESSERA_ABI_MINOR) +
                             "; rebuild the plugin against this tessera's SDK");
        if (!d->manifest || !d->get_class || !d->init)
            throw UsageError(where + "descriptor is incomplete (manifest, init and get_class are required)");
        try {
            Manifest m = parse_manifest(d->manifest);
            if (m.types.size() != pf.manifest->types.size() || m.plugin != pf.manifest->plugin)
                throw std::runtime_error("differs from the manifest section");
        } catch (const std::exception &e) {
            throw UsageError(where + "descriptor manifest " + e.what() + "; rebuild the plugin");
        }
        pf.descriptor = d;
    }
    ts_error err{};
    if (pf.descriptor->init(host, &err) != TS_OK)
        throw UsageError(where + "initialisation failed: " + err.message);
    pf.initialised = true;
    trace(TraceEvent::PluginLoad, "path=%s plugin=%s", pf.path.c_str(), pf.manifest->plugin.c_str());
}

const void *PluginRegistry::load_class(const TypeEntry &entry, const ts_host *host) {
    if (!entry.also_provided_by.empty()) {
        std::string others;
        for (auto *p : entry.also_provided_by) others += " and " + p->path;
        throw UsageError("type '" + entry.type->name + "' is provided by both " + entry.plugin->path + others +
                         "; remove all but one of these plugins");
    }
    load(*entry.plugin, host);
    const void *cls = entry.plugin->descriptor->get_class(entry.type->name.c_str());
    if (!cls)
        throw UsageError("plugin " + entry.plugin->path + ": has no class for its type '" + entry.type->name +
                         "'; rebuild the plugin");
    return cls;
}

std::string PluginRegistry::describe() const {
    std::ostringstream o;
    o << "Plugin ABI " << TESSERA_ABI_MAJOR << "." << TESSERA_ABI_MINOR << "; searched " << searched_dirs()
      << "\n";
    for (const auto &pf : files_) {
        o << pf->path << " (" << pf->dir_origin << ")\n";
        if (pf->manifest)
            o << "  plugin " << pf->manifest->plugin << " " << pf->manifest->version << ", ABI "
              << pf->manifest->abi_major << "." << pf->manifest->abi_minor << "\n";
        if (!pf->refused.empty()) {
            o << "  refused: " << pf->refused << "\n";
            continue;
        }
        if (!pf->shadowed_by.empty()) {
            o << "  ignored: a plugin of the same name was found first in " << pf->shadowed_by << "\n";
            continue;
        }
        for (const auto &t : pf->manifest->types) {
            o << "  " << kind_name(t.kind) << " " << t.name;
            auto it = types_.find(t.name);
            if (it != types_.end() && it->second.plugin != pf.get())
                o << "  (conflict: also provided by " << it->second.plugin->path << ")";
            else if (it != types_.end() && !it->second.also_provided_by.empty())
                o << "  (conflict: also provided by " << it->second.also_provided_by.front()->path << ")";
            o << "\n";
        }
    }
    // What this build made but is not installed (a package left out).
    std::map<std::string, std::vector<std::string>> missing;
    for (const auto &e : plugin_index_read(plugin_index_path())) {
        const bool found = std::any_of(files_.begin(), files_.end(), [&](const auto &pf) {
            return pf->path.size() > e.file.size() && pf->path.ends_with("/" + e.file);
        });
        if (!found) missing[e.file].push_back(e.type);
    }
    for (const auto &[file, types] : missing) {
        o << file << " (not installed)\n ";
        for (const auto &t : types) o << " " << t;
        o << "\n";
    }
    return o.str();
}

void PluginRegistry::finish() {
    for (auto &pf : files_)
        if (pf->initialised && pf->descriptor->fini) {
            pf->descriptor->fini();
            pf->initialised = false;
        }
}

PluginRegistry &plugin_registry() {
    static PluginRegistry r;
    return r;
}

}  // namespace tessera
