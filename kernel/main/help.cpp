// Answers to "help" requests: -machine help, -device help, -cpu help, ...
#include "main/help.hpp"

#include "log/log.hpp"
#include "log/trace.hpp"
#include "options/keyval.hpp"
#include "plugins/registry.hpp"
#include "qom/object.hpp"

#include <cstdio>
#include <map>
#include <string>

namespace tessera {

namespace {


std::string plugin_label(const std::string &provider) {
    if (provider == "built-in") return "built-in";
    auto s = provider.rfind('/');
    return s == std::string::npos ? provider : provider.substr(s + 1);
}

void machine_help(const Config &cfg) {
    std::printf("Supported machines are:\n");
    for (const auto &t : types_of_kind(TypeKind::Board)) {
        std::string desc = t.description;
        // The manifest's category field marks the default machine per target.
        if (is_default_for(t.category, cfg.target)) desc += " (default)";
        std::printf("%-20s %s [%s]\n", t.name.c_str(), desc.c_str(), plugin_label(t.provider).c_str());
    }
}

void device_help() {
    static const std::map<std::string, std::string> headings = {
        {"bridge", "Controller/Bridge/Hub devices"}, {"usb", "USB devices"},
        {"storage", "Storage devices"},              {"network", "Network devices"},
        {"input", "Input devices"},                  {"display", "Display devices"},
        {"sound", "Sound devices"},                  {"misc", "Misc devices"},
        {"cpu", "CPU devices"},                      {"watchdog", "Watchdog devices"},
    };
    std::map<std::string, std::vector<TypeSummary>> groups;
    for (const auto &t : types_of_kind(TypeKind::Device)) {
        if (t.category == "board") continue;  // created by boards, not by -device
        auto it = headings.find(t.category);
        groups[it == headings.end() ? "Uncategorized devices" : it->second].push_back(t);
    }
    bool first = true;
    for (const auto &[h, v] : groups) {
        std::printf("%s%s:\n", first ? "" : "\n", h.c_str());
        first = false;
        for (const auto &t : v)
            std::printf("name \"%s\", desc \"%s\", plugin \"%s\"\n", t.name.c_str(), t.description.c_str(),
                        plugin_label(t.provider).c_str());
    }
    if (first) std::printf("No device plugins were found (searched %s).\n", plugin_registry().searched_dirs().c_str());
}

void kind_list(TypeKind kind, const char *title) {
    std::printf("%s\n", title);
    for (const auto &t : types_of_kind(kind))
        std::printf("  %-22s %s [%s]\n", t.name.c_str(), t.description.c_str(), plugin_label(t.provider).c_str());
}

}  // namespace

bool is_default_for(std::string_view category, std::string_view target) {
    if (category.substr(0, 8) != "default:") return false;
    category.remove_prefix(8);
    while (!category.empty()) {
        size_t c = category.find(',');
        if (category.substr(0, c) == target) return true;
        category.remove_prefix(c == std::string_view::npos ? category.size() : c + 1);
    }
    return false;
}

void answer_help(const Config &cfg, const std::string &req) {
    if (req == "machine") return machine_help(cfg);
    if (req == "device") return device_help();
    if (req == "cpu") return kind_list(TypeKind::Cpu, "Available CPUs:");
    if (req == "object") return kind_list(TypeKind::Object, "List of user creatable objects:");
    if (req == "chardev") {
        std::printf("Available chardev backend types:\n");
        for (const char *n : {"file", "null", "pipe", "pty", "ringbuf", "socket", "stdio", "udp"})
            std::printf("  %s\n", n);
        return;
    }
    if (req == "netdev") return kind_list(TypeKind::Netdev, "Available netdev backend types:");
    if (req == "audiodev") {
        std::printf("Available audio drivers:\nnone\n");
        return;
    }
    if (req == "accel") {
        std::printf("Accelerators supported in tessera:\ntcg\n");
        return;
    }
    if (req == "display") {
        std::printf("Available display backend types:\nnone\n");
        return;
    }
    if (req == "trace") {
        std::fputs(trace_help().c_str(), stdout);
        return;
    }
    if (req == "d") {
        std::fputs(log_items_help().c_str(), stdout);
        return;
    }
    if (req == "action") {
        std::printf("-action reboot=reset|shutdown\n-action shutdown=poweroff|pause\n"
                    "-action panic=pause|shutdown|exit-failure|none\n"
                    "-action watchdog=reset|shutdown|poweroff|pause|debug|none|inject-nmi\n");
        return;
    }
    if (req == "L") {
        std::printf("%s\n", cfg.firmware_dirs.empty() ? "" : cfg.firmware_dirs.front().c_str());
        return;
    }
    auto colon = req.find(':');
    if (colon != std::string::npos) {
        std::string what = req.substr(0, colon), type = req.substr(colon + 1);
        const TypeImpl &t = type_get(type, "-" + what);
        std::fputs(props_help(t).c_str(), stdout);
        return;
    }
}

}  // namespace tessera
