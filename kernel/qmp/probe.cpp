// Commands management tools (libvirt) ask while probing an emulator and
// starting a domain: command-line options, TPM, migration, iothreads, block
// nodes, run-state actions, jobs. Each answers what tessera really has.
#include "qmp/qmp_internal.hpp"
#include "qmp/session.hpp"

#include "block/block.hpp"
#include "block/node.hpp"
#include "qom/object.hpp"

#include <algorithm>
#include <array>
#include <set>
#include <utility>

namespace tessera {

namespace {

// ---- query-command-line-options -------------------------------------------
// The options tessera implements that the reference describes with a
// parameter list (its QemuOpts groups, under the group's name: "smp-opts"
// for -smp). Parameters are "name:type" with type string/boolean/number/size.
// An empty list means the option takes free-form parameters (-device).
struct OptionParams {
    std::string_view option;
    std::string_view params;
};
constexpr std::array kOptionParams = {
    OptionParams{"accel", "accel:string"},
    OptionParams{"action", "reboot:string shutdown:string panic:string watchdog:string"},
    OptionParams{"add-fd", "fd:number set:number opaque:string"},
    OptionParams{"boot-opts",
                 "order:string once:string menu:boolean splash:string splash-time:number "
                 "reboot-timeout:number strict:boolean"},
    OptionParams{"chardev", ""},
    OptionParams{"device", ""},
    OptionParams{"drive",
                 "bus:number unit:number if:string index:number media:string file:string format:string "
                 "cache:string aio:string rerror:string werror:string snapshot:boolean read-only:boolean "
                 "node-name:string"},
    OptionParams{"machine",
                 "type:string accel:string memory-backend:string dump-guest-core:boolean mem-merge:boolean "
                 "usb:boolean graphics:boolean dumpdtb:string"},
    OptionParams{"memory", "size:size slots:number maxmem:size"},
    OptionParams{"mon", "mode:string chardev:string pretty:boolean"},
    OptionParams{"msg", "timestamp:boolean guest-name:boolean"},
    OptionParams{"name", "guest:string process:string debug-threads:boolean"},
    OptionParams{"object", ""},
    OptionParams{"overcommit", "mem-lock:boolean cpu-pm:boolean"},
    OptionParams{"rtc", "base:string clock:string driftfix:string"},
    OptionParams{"smp-opts",
                 "cpus:number sockets:number dies:number clusters:number cores:number threads:number "
                 "maxcpus:number"},
};

Json option_info(const OptionParams &o) {
    Json params = Json::array();
    for (std::string_view rest = o.params; !rest.empty();) {
        size_t sp = rest.find(' ');
        std::string_view w = rest.substr(0, sp);
        rest.remove_prefix(sp == std::string_view::npos ? rest.size() : sp + 1);
        size_t colon = w.find(':');
        params.push_back(Json::Object{{"name", w.substr(0, colon)}, {"type", w.substr(colon + 1)}});
    }
    return Json::Object{{"parameters", std::move(params)}, {"option", o.option}};
}

}  // namespace

Json cmd_query_command_line_options(QmpCall &call) {
    Json out = Json::array();
    const Json *want = call.args.find("option");
    for (const auto &o : kOptionParams)
        if (!want || want->as_string() == o.option) out.push_back(option_info(o));
    if (want && out.as_array().empty())
        throw QmpError{"GenericError", "invalid option name: " + want->as_string()};
    return out;
}

Json cmd_query_tpm_models(QmpCall &) { return Json::array(); }
Json cmd_query_tpm_types(QmpCall &) { return Json::array(); }

// ---- Migration capabilities -------------------------------------------------------
// Tessera cannot migrate yet. The one capability it can honour is "events"
// (MIGRATION events on state changes: there are none), which libvirt 9.0
// turns on at every domain start. The rest cannot be set.
namespace {
struct MigrationCap {
    std::string_view name;
    bool state;
};
std::array<MigrationCap, 1> &migration_caps() {
    static std::array<MigrationCap, 1> caps = {{{"events", false}}};
    return caps;
}
}  // namespace

Json cmd_query_migrate_capabilities(QmpCall &) {
    Json out = Json::array();
    for (const auto &c : migration_caps()) out.push_back(Json::Object{{"capability", c.name}, {"state", c.state}});
    return out;
}
Json cmd_query_iothreads(QmpCall &) { return Json::array(); }
Json cmd_query_jobs(QmpCall &) { return Json::array(); }

Json cmd_migrate_set_capabilities(QmpCall &call) {
    // The enum check of the argument types does not look inside the list's
    // objects; do it here, with the reference's member paths.
    const auto &caps = call.args.find("capabilities")->as_array();
    for (size_t i = 0; i < caps.size(); i++) {
        std::string path = "capabilities[" + std::to_string(i) + "]";
        const Json *cap = caps[i].find("capability");
        const Json *state = caps[i].find("state");
        if (!cap) throw QmpError{"GenericError", "Parameter '" + path + ".capability' is missing"};
        if (!state) throw QmpError{"GenericError", "Parameter '" + path + ".state' is missing"};
        for (const auto &[k, v] : caps[i].as_object())
            if (k != "capability" && k != "state")
                throw QmpError{"GenericError", "Parameter '" + path + "." + k + "' is unexpected"};
        if (!cap->is_string())
            throw QmpError{"GenericError", "Invalid parameter type for '" + path + ".capability', expected: string"};
        if (!state->is_bool())
            throw QmpError{"GenericError", "Invalid parameter type for '" + path + ".state', expected: boolean"};
        if (!qmp_migration_capability_known(cap->as_string()))
            throw QmpError{"GenericError",
                           "Parameter '" + path + ".capability' does not accept value '" + cap->as_string() + "'"};
        auto &caps = migration_caps();
        auto it = std::find_if(caps.begin(), caps.end(), [&](const MigrationCap &c) { return c.name == cap->as_string(); });
        // Off is what tessera does anyway for the ones it does not list.
        if (it == caps.end() && state->as_bool())
            throw QmpError{"GenericError", "Migration capability '" + cap->as_string() + "' is not supported"};
    }
    // All or nothing, as in the reference: apply only once every entry passed.
    for (const auto &c : caps) {
        auto &all = migration_caps();
        auto it = std::find_if(all.begin(), all.end(),
                               [&](const MigrationCap &m) { return m.name == c.find("capability")->as_string(); });
        if (it != all.end()) it->state = c.find("state")->as_bool();
    }
    return Json::object();
}

// ---- set-action -----------------------------------------------------------------

namespace {
std::function<void(const KeyVals &)> &action_hook() {
    static std::function<void(const KeyVals &)> hook;
    return hook;
}
}  // namespace

void qmp_set_action_hook(std::function<void(const KeyVals &)> hook) { action_hook() = std::move(hook); }

Json cmd_set_action(QmpCall &call) {
    // Values were checked against the enums already; same keys as -action.
    KeyVals kv;
    for (const auto &[k, v] : call.args.as_object()) kv.set(k, v.as_string());
    if (!action_hook()) throw QmpError{"GenericError", "set-action is not available in this tessera build"};
    if (!kv.items.empty()) action_hook()(kv);
    return Json::object();
}

// ---- query-named-block-nodes ------------------------------------------------------
// The block layer offers no iterator: the backends' root node names come
// from block_info_text() ("NAME (NODE): ..." or "(NODE): ..."), and the
// nodes below them from node_find and their children.

namespace {

// One backend as block_info_text() shows it.
struct BackendText {
    std::string name, root, attached;  // attached: the device's QOM path
};

std::vector<BackendText> backends_from_text() {
    std::vector<BackendText> out;
    std::string text = block_info_text();
    constexpr std::string_view kAttached = "    Attached to:";
    for (size_t pos = 0; pos < text.size();) {
        size_t eol = text.find('\n', pos);
        std::string_view line(text.data() + pos, (eol == std::string::npos ? text.size() : eol) - pos);
        pos = eol == std::string::npos ? text.size() : eol + 1;
        if (line.starts_with(kAttached) && !out.empty()) {
            std::string_view path = line.substr(kAttached.size());
            path.remove_prefix(std::min(path.find_first_not_of(' '), path.size()));
            out.back().attached = path;
            continue;
        }
        if (line.empty() || line.front() == ' ') continue;
        size_t open = line.find('(');
        size_t close = line.find("): ");
        if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
            // "NAME: [not inserted]"
            if (size_t colon = line.find(": ["); colon != std::string_view::npos)
                out.push_back({std::string(line.substr(0, colon)), "", ""});
            continue;
        }
        std::string_view name = line.substr(0, open);
        if (name.ends_with(' ')) name.remove_suffix(1);
        out.push_back({std::string(name), std::string(line.substr(open + 1, close - open - 1)), ""});
    }
    return out;
}

Json node_info(BlockNode &n) {
    BlockNode *backing = n.child("backing");
    int64_t depth = 0;
    for (BlockNode *b = backing; b && depth < 64; b = b->child("backing")) depth++;
    int64_t size = int64_t(n.length());
    Json image = Json::Object{{"filename", n.filename()},
                              {"format", n.driver_name()},
                              {"virtual-size", size},
                              {"dirty-flag", false}};
    if (backing) image.set("backing-filename", backing->filename());
    Json info = Json::Object{
        {"file", n.filename()},
        {"node-name", n.name()},
        {"ro", n.read_only()},
        {"drv", n.driver_name()},
        {"backing_file_depth", depth},
        {"encrypted", false},
        {"detect_zeroes", n.flags().detect_zeroes},
        {"bps", 0},
        {"bps_rd", 0},
        {"bps_wr", 0},
        {"iops", 0},
        {"iops_rd", 0},
        {"iops_wr", 0},
        {"image", std::move(image)},
        {"cache", Json::Object{{"writeback", true},  // a node's cache mode; writethrough is per backend
                               {"direct", n.flags().cache_direct},
                               {"no-flush", n.flags().cache_no_flush}}},
        {"write_threshold", 0},
    };
    if (backing) info.set("backing_file", backing->filename());
    return info;
}

}  // namespace

Json cmd_query_named_block_nodes(QmpCall &call) {
    // flat: only the nodes themselves; tessera's answer has no nested
    // backing images either way, so both forms are the same list.
    (void)call;
    Json out = Json::array();
    std::set<std::string> seen;
    std::vector<BlockNode *> todo;
    for (const auto &b : backends_from_text())
        if (BlockNode *n = node_find(b.root)) todo.push_back(n);
    while (!todo.empty()) {
        BlockNode *n = todo.front();
        todo.erase(todo.begin());
        if (!n || !seen.insert(n->name()).second) continue;
        out.push_back(node_info(*n));
        for (const auto &c : n->children()) todo.push_back(c.node);
    }
    return out;
}

// query-block: every backend, with the device it is attached to (its id,
// else its path, as the reference names it) and its root node.
Json cmd_query_block(QmpCall &) {
    Json out = Json::array();
    for (const auto &b : backends_from_text()) {
        Json info = Json::Object{{"device", b.name}};
        if (!b.attached.empty()) {
            ts_object *dev = object_resolve(b.attached);
            info.set("qdev", dev && !dev->id.empty() ? dev->id : b.attached);
        }
        info.set("type", "unknown");
        info.set("removable", false);
        info.set("locked", false);
        if (BlockNode *n = node_find(b.root)) info.set("inserted", node_info(*n));
        out.push_back(std::move(info));
    }
    return out;
}

}  // namespace tessera
