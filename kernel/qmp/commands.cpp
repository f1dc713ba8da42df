// The QMP commands tessera implements, declared once as data: the argument
// and return types drive both argument checking and query-qmp-schema.
#include "qmp/qmp_internal.hpp"
#include "qmp/session.hpp"

#include "chardev/registry.hpp"
#include "host/host_table.hpp"
#include "monitor/hmp.hpp"
#include "plugins/manifest.hpp"
#include "qom/object.hpp"
#include "vcpu/vcpu.hpp"

#include <tessera/host.h>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <map>
#include <set>

namespace tessera {

namespace {

// ---- Types -----------------------------------------------------------------
// Object members are "name:type" words, optional ones starting with '*';
// "[T]" is an array of T. Enums list their values.
enum class Meta { Builtin, Object, Enum };
struct TypeDecl {
    std::string_view name;
    Meta meta;
    std::string_view spec;  // members, enum values, or a builtin's json-type
    // A flat union: members are the common base, the variant named by `tag`
    // brings more that its handler checks (BlockdevOptions on "driver").
    std::string_view tag = {};
};

constexpr std::string_view kRunStates =
    "debug inmigrate internal-error io-error paused postmigrate prelaunch finish-migrate restore-vm running "
    "save-vm shutdown suspended watchdog guest-panicked colo";
constexpr std::string_view kShutdownCauses =
    "none host-error host-qmp-quit host-qmp-system-reset host-signal host-ui guest-shutdown guest-reset "
    "guest-panic subsystem-reset snapshot-load";

// The reference's names, so that a misspelt capability gets its enum error;
// tessera supports none of them (it cannot migrate yet).
constexpr std::string_view kMigrationCapabilities =
    "xbzrle rdma-pin-all auto-converge zero-blocks compress events postcopy-ram x-colo release-ram block "
    "return-path pause-before-switchover multifd dirty-bitmaps postcopy-blocktime late-block-activate "
    "x-ignore-shared validate-uuid background-snapshot zero-copy-send postcopy-preempt";

const std::array kTypes = {
    TypeDecl{"str", Meta::Builtin, "string"},
    TypeDecl{"int", Meta::Builtin, "int"},
    TypeDecl{"bool", Meta::Builtin, "boolean"},
    TypeDecl{"number", Meta::Builtin, "number"},
    TypeDecl{"any", Meta::Builtin, "value"},
    TypeDecl{"q_empty", Meta::Object, ""},
    TypeDecl{"QMPCapability", Meta::Enum, "oob"},
    TypeDecl{"RunState", Meta::Enum, kRunStates},
    TypeDecl{"ShutdownCause", Meta::Enum, kShutdownCauses},
    TypeDecl{"SysEmuTarget", Meta::Enum, "riscv32 riscv64"},
    TypeDecl{"SchemaMetaType", Meta::Enum, "builtin enum array object alternate command event"},
    TypeDecl{"q_obj_qmp_capabilities-arg", Meta::Object, "*enable:[QMPCapability]"},
    TypeDecl{"VersionTriple", Meta::Object, "major:int minor:int micro:int"},
    TypeDecl{"VersionInfo", Meta::Object, "qemu:VersionTriple package:str"},
    TypeDecl{"StatusInfo", Meta::Object, "running:bool singlestep:bool status:RunState"},
    TypeDecl{"CommandInfo", Meta::Object, "name:str"},
    TypeDecl{"MachineInfo", Meta::Object,
             "name:str *alias:str *is-default:bool cpu-max:int hotpluggable-cpus:bool numa-mem-supported:bool "
             "deprecated:bool *default-cpu-type:str *default-ram-id:str"},
    TypeDecl{"CpuInfoFast", Meta::Object, "cpu-index:int qom-path:str thread-id:int target:SysEmuTarget"},
    TypeDecl{"BlockInfo", Meta::Object, "device:str *qdev:str type:str removable:bool locked:bool *inserted:BlockDeviceInfo"},
    TypeDecl{"ChardevInfo", Meta::Object, "label:str filename:str frontend-open:bool"},
    TypeDecl{"NameInfo", Meta::Object, "*name:str"},
    TypeDecl{"UuidInfo", Meta::Object, "UUID:str"},
    TypeDecl{"TargetInfo", Meta::Object, "arch:SysEmuTarget"},
    TypeDecl{"KvmInfo", Meta::Object, "enabled:bool present:bool"},
    TypeDecl{"SchemaInfo", Meta::Object, "name:str meta-type:SchemaMetaType *features:[str]"},
    TypeDecl{"ObjectPropertyInfo", Meta::Object, "name:str type:str *description:str *default-value:any"},
    TypeDecl{"ObjectTypeInfo", Meta::Object, "name:str *abstract:bool *parent:str"},
    TypeDecl{"q_obj_qom-list-arg", Meta::Object, "path:str"},
    TypeDecl{"q_obj_qom-get-arg", Meta::Object, "path:str property:str"},
    TypeDecl{"q_obj_qom-set-arg", Meta::Object, "path:str property:str value:any"},
    TypeDecl{"q_obj_qom-list-types-arg", Meta::Object, "*implements:str *abstract:bool"},
    TypeDecl{"q_obj_device-list-properties-arg", Meta::Object, "typename:str"},
    TypeDecl{"q_obj_human-monitor-command-arg", Meta::Object, "command-line:str *cpu-index:int"},
    TypeDecl{"q_obj_SHUTDOWN-arg", Meta::Object, "guest:bool reason:ShutdownCause"},
    // libvirt's capability probe and domain start (handlers in probe.cpp).
    TypeDecl{"q_obj_qom-list-properties-arg", Meta::Object, "typename:str"},
    TypeDecl{"TpmModel", Meta::Enum, "tpm-tis tpm-crb tpm-spapr"},
    TypeDecl{"TpmType", Meta::Enum, "passthrough emulator"},
    TypeDecl{"q_obj_query-command-line-options-arg", Meta::Object, "*option:str"},
    TypeDecl{"CommandLineParameterType", Meta::Enum, "string boolean number size"},
    TypeDecl{"CommandLineParameterInfo", Meta::Object,
             "name:str type:CommandLineParameterType *help:str *default:str"},
    TypeDecl{"CommandLineOptionInfo", Meta::Object, "option:str parameters:[CommandLineParameterInfo]"},
    TypeDecl{"MigrationCapability", Meta::Enum, kMigrationCapabilities},
    TypeDecl{"MigrationCapabilityStatus", Meta::Object, "capability:MigrationCapability state:bool"},
    TypeDecl{"q_obj_migrate-set-capabilities-arg", Meta::Object, "capabilities:[MigrationCapabilityStatus]"},
    TypeDecl{"IOThreadInfo", Meta::Object,
             "id:str thread-id:int poll-max-ns:int poll-grow:int poll-shrink:int aio-max-batch:int"},
    TypeDecl{"q_obj_query-named-block-nodes-arg", Meta::Object, "*flat:bool"},
    TypeDecl{"BlockdevDetectZeroesOptions", Meta::Enum, "off on unmap"},
    TypeDecl{"ImageInfo", Meta::Object,
             "filename:str format:str *dirty-flag:bool virtual-size:int *backing-filename:str"},
    TypeDecl{"BlockdevCacheInfo", Meta::Object, "writeback:bool direct:bool no-flush:bool"},
    TypeDecl{"BlockDeviceInfo", Meta::Object,
             "file:str *node-name:str ro:bool drv:str *backing_file:str backing_file_depth:int encrypted:bool "
             "detect_zeroes:BlockdevDetectZeroesOptions bps:int bps_rd:int bps_wr:int iops:int iops_rd:int "
             "iops_wr:int image:ImageInfo cache:BlockdevCacheInfo write_threshold:int"},
    TypeDecl{"RebootAction", Meta::Enum, "reset shutdown"},
    TypeDecl{"ShutdownAction", Meta::Enum, "poweroff pause"},
    TypeDecl{"PanicAction", Meta::Enum, "pause shutdown exit-failure none"},
    TypeDecl{"WatchdogAction", Meta::Enum, "reset shutdown poweroff pause debug none inject-nmi"},
    TypeDecl{"q_obj_set-action-arg", Meta::Object,
             "*reboot:RebootAction *shutdown:ShutdownAction *panic:PanicAction *watchdog:WatchdogAction"},
    TypeDecl{"JobType", Meta::Enum,
             "commit stream mirror backup create amend snapshot-load snapshot-save snapshot-delete"},
    TypeDecl{"JobStatus", Meta::Enum,
             "undefined created running paused ready standby waiting pending aborting concluded null"},
    TypeDecl{"JobInfo", Meta::Object,
             "id:str type:JobType status:JobStatus current-progress:int total-progress:int *error:str"},
    // blockdev-add's boxed argument: the base of the reference's union; each
    // driver's members are checked by the block layer (as for -blockdev).
    TypeDecl{"BlockdevDiscardOptions", Meta::Enum, "ignore unmap"},
    TypeDecl{"q_obj_blockdev-del-arg", Meta::Object, "node-name:str"},
    TypeDecl{"BlockdevCacheOptions", Meta::Object, "*direct:bool *no-flush:bool"},
    TypeDecl{"BlockdevOptions", Meta::Object,
             "driver:str *node-name:str *discard:BlockdevDiscardOptions *cache:BlockdevCacheOptions "
             "*read-only:bool *auto-read-only:bool *force-share:bool *detect-zeroes:BlockdevDetectZeroesOptions",
             "driver"},
};

const TypeDecl *type_decl(std::string_view name) {
    for (const auto &t : kTypes)
        if (t.name == name) return &t;
    return nullptr;
}

std::vector<std::string_view> words(std::string_view s) {
    std::vector<std::string_view> out;
    while (!s.empty()) {
        size_t sp = s.find(' ');
        if (sp != 0) out.push_back(s.substr(0, sp));
        s.remove_prefix(sp == std::string_view::npos ? s.size() : sp + 1);
    }
    return out;
}

struct Member {
    std::string_view name, type;
    bool optional;
};
std::vector<Member> members(const TypeDecl &t) {
    std::vector<Member> out;
    for (auto w : words(t.spec)) {
        bool opt = w.front() == '*';
        if (opt) w.remove_prefix(1);
        size_t colon = w.find(':');
        out.push_back({w.substr(0, colon), w.substr(colon + 1), opt});
    }
    return out;
}

// ---- Argument checking ------------------------------------------------------

std::string_view expected_name(std::string_view type) {
    if (type.starts_with("[")) return "array";
    if (type == "str") return "string";
    if (type == "int") return "integer";
    if (type == "bool") return "boolean";
    if (type == "number") return "number";
    const TypeDecl *t = type_decl(type);
    return t && t->meta == Meta::Enum ? "string" : "object";
}

void check_value(std::string_view name, std::string_view type, const Json &v) {
    auto bad = [&] {
        throw QmpError{"GenericError", "Invalid parameter type for '" + std::string(name) + "', expected: " +
                                           std::string(expected_name(type))};
    };
    if (type == "any") return;
    if (type.starts_with("[")) {
        if (!v.is_array()) bad();
        for (const auto &e : v.as_array()) check_value(name, type.substr(1, type.size() - 2), e);
        return;
    }
    if (type == "str") {
        if (!v.is_string()) bad();
    } else if (type == "int") {
        if (!v.is_integer()) bad();
    } else if (type == "bool") {
        if (!v.is_bool()) bad();
    } else if (type == "number") {
        if (!v.is_number()) bad();
    } else if (const TypeDecl *t = type_decl(type); t && t->meta == Meta::Enum) {
        if (!v.is_string()) bad();
        auto vals = words(t->spec);
        if (std::find(vals.begin(), vals.end(), v.as_string()) == vals.end())
            throw QmpError{"GenericError", "Parameter '" + std::string(name) + "' does not accept value '" +
                                               v.as_string() + "'"};
    } else if (!v.is_object()) {
        bad();
    }
}

void check_args(std::string_view arg_type, const Json &args) {
    const TypeDecl *t = type_decl(arg_type);
    auto ms = members(*t);
    for (const auto &[key, value] : args.as_object()) {
        auto m = std::find_if(ms.begin(), ms.end(), [&](const Member &x) { return x.name == key; });
        if (m == ms.end() && !t->tag.empty()) continue;  // a variant's member
        if (m == ms.end()) throw QmpError{"GenericError", "Parameter '" + key + "' is unexpected"};
        check_value(key, m->type, value);
    }
    for (const auto &m : ms)
        if (!m.optional && !args.find(m.name))
            throw QmpError{"GenericError", "Parameter '" + std::string(m.name) + "' is missing"};
}

std::string str_arg(const Json &args, std::string_view key) {
    const Json *v = args.find(key);
    return v ? v->as_string() : std::string();
}

// ---- Commands ----------------------------------------------------------------

Json empty() { return Json::object(); }

Json cmd_capabilities(QmpCall &) { return empty(); }

Json cmd_query_version(QmpCall &) { return *qmp_greeting().find("QMP")->find("version"); }

Json cmd_query_status(QmpCall &) {
    RunState s = runstate();
    return Json::Object{{"running", s == RunState::Running}, {"singlestep", false}, {"status", runstate_name(s)}};
}

Json cmd_query_commands(QmpCall &);
Json cmd_query_schema(QmpCall &) { return qmp_schema(); }

// Kernel-internal target names and the manifest's "default:<targets>" mark.
bool default_for(std::string_view category, std::string_view target) {
    if (!category.starts_with("default:")) return false;
    category.remove_prefix(8);
    for (size_t c; !category.empty(); category.remove_prefix(c == std::string_view::npos ? category.size() : c + 1)) {
        c = category.find(',');
        if (category.substr(0, c) == target) return true;
    }
    return false;
}

Json cmd_query_machines(QmpCall &) {
    Json out = Json::array();
    const std::string &target = qmp_identity().target;
    for (const auto &t : types_of_kind(TypeKind::Board)) {
        Json m = Json::Object{{"name", t.name}};
        int64_t cpu_max = 1;
        std::string default_cpu;
        try {
            const auto *bc = static_cast<const ts_board_class *>(type_get(t.name, "query-machines").cls);
            if (bc->max_cpus) cpu_max = bc->max_cpus;
            if (bc->default_cpu_type) default_cpu = bc->default_cpu_type;
        } catch (const UsageError &) {
            // A plugin that fails to load is still listed, with defaults.
        }
        if (default_for(t.category, target)) m.set("is-default", true);
        m.set("cpu-max", cpu_max);
        m.set("hotpluggable-cpus", false);
        m.set("numa-mem-supported", false);
        m.set("deprecated", false);
        // The reference's QOM names: "rv64" is "rv64-riscv-cpu".
        std::string arch = target.starts_with("riscv") ? "riscv" : target;
        if (!default_cpu.empty()) m.set("default-cpu-type", default_cpu + "-" + arch + "-cpu");
        if (t.name != "none") m.set("default-ram-id", t.name + ".ram");
        out.push_back(std::move(m));
    }
    return out;
}

Json cmd_query_cpus_fast(QmpCall &) {
    Json out = Json::array();
    for (unsigned i = 0; i < vcpu_count(); i++) {
        const ts_cpu_class *cls = vcpu_class(i);
        std::string target = cls && cls->target ? cls->target : qmp_identity().target;
        // The vCPU threads' ids are not exported by the kernel yet; the
        // process id at least names the right process.
        out.push_back(Json::Object{{"cpu-index", int64_t(i)},
                                   {"qom-path", vcpu_object(i)->path},
                                   {"thread-id", int64_t(getpid())},
                                   {"props", Json::Object{{"core-id", int64_t(i)}}},
                                   {"target", target}});
    }
    return out;
}

Json cmd_query_chardev(QmpCall &) {
    Json out = Json::array();
    for (const auto &id : chardev_ids()) {
        Chardev *c = chardev_find(id);
        if (!c) continue;
        out.push_back(Json::Object{{"label", id}, {"filename", c->filename()}, {"frontend-open", c->is_open()}});
    }
    return out;
}

Json cmd_query_name(QmpCall &) {
    Json r = empty();
    if (!qmp_identity().name.empty()) r.set("name", qmp_identity().name);
    return r;
}
Json cmd_query_uuid(QmpCall &) { return Json::Object{{"UUID", qmp_identity().uuid}}; }
Json cmd_query_target(QmpCall &) {
    std::string arch = vcpu_count() && vcpu_class(0)->target ? vcpu_class(0)->target : qmp_identity().target;
    return Json::Object{{"arch", arch}};
}
Json cmd_query_kvm(QmpCall &) { return Json::Object{{"enabled", false}, {"present", false}}; }

Json cmd_stop(QmpCall &) {
    if (runstate() == RunState::Running) vm_stop(RunState::Paused);
    qmp_flush_state_events();  // STOP goes out before the reply, as in the reference
    return empty();
}

Json cmd_cont(QmpCall &) {
    RunState s = runstate();
    if (s == RunState::Shutdown || s == RunState::GuestPanicked)
        throw QmpError{"GenericError", "Resetting the Virtual Machine is required"};
    if (s != RunState::Running) vm_start();
    return empty();
}

Json cmd_system_reset(QmpCall &call) {
    call.after_reply.push_back([] {
        qmp_note_host_reset();
        host_table_get()->request_reset();
        qmp_emit_event("RESET", Json::Object{{"guest", false}, {"reason", "host-qmp-system-reset"}});
    });
    return empty();
}

Json cmd_system_powerdown(QmpCall &call) {
    // The event, then the board's power button (if it has one) as the reference.
    call.after_reply.push_back([] {
        qmp_emit_event("POWERDOWN");
        host_machine_powerdown();
    });
    return empty();
}

Json cmd_quit(QmpCall &call) {
    call.after_reply.push_back([] {
        qmp_note_quit();
        host_table_get()->request_shutdown(TS_SHUTDOWN_HOST_QUIT, 0);
    });
    return empty();
}

// ---- QOM ---------------------------------------------------------------------

ts_object *resolve_path(const Json &args) {
    std::string path = str_arg(args, "path");
    ts_object *o = path.starts_with("/") ? object_resolve(path) : object_find_by_id(path);
    // The reference's machine always has these containers, even empty;
    // tessera makes them with the first device that goes there.
    static constexpr std::array<std::string_view, 3> kMachineContainers = {
        "/machine/peripheral", "/machine/peripheral-anon", "/machine/unattached"};
    if (!o && object_resolve("/machine") &&
        std::find(kMachineContainers.begin(), kMachineContainers.end(), path) != kMachineContainers.end())
        o = object_container(path);
    if (!o) throw QmpError{"DeviceNotFound", "Device '" + path + "' not found"};
    return o;
}

std::string_view prop_type_text(ts_prop_type t) {
    static const std::map<ts_prop_type, std::string_view> names = {
        {TS_PROP_BOOL, "bool"},       {TS_PROP_INT, "int64"},         {TS_PROP_UINT, "uint64"},
        {TS_PROP_SIZE, "size"},       {TS_PROP_STRING, "str"},        {TS_PROP_ENUM, "str"},
        {TS_PROP_LINK, "link"},       {TS_PROP_CHARDEV, "str"},       {TS_PROP_DRIVE, "str"},
        {TS_PROP_NETDEV, "str"},      {TS_PROP_MACADDR, "str"},
    };
    auto it = names.find(t);
    return it == names.end() ? "str" : it->second;
}

// A property's normalised text as the JSON the reference's visitors produce.
Json prop_json(const ts_prop_decl &d, const std::string &text) {
    try {
        switch (d.type) {
        case TS_PROP_BOOL: return Json(text == "on" || text == "true");
        case TS_PROP_INT: return Json(int64_t(std::stoll(text)));
        case TS_PROP_UINT:
        case TS_PROP_SIZE: return Json(uint64_t(std::stoull(text)));
        default: return Json(text);
        }
    } catch (const std::exception &) {
        return Json(text);
    }
}

Json cmd_qom_list(QmpCall &call) {
    ts_object *o = resolve_path(call.args);
    Json out = Json::array();
    out.push_back(Json::Object{{"name", "type"}, {"type", "string"}});
    for (const auto &c : o->children) {
        std::string t = c->type ? c->type->name : "container";
        out.push_back(Json::Object{{"name", c->name}, {"type", "child<" + t + ">"}});
    }
    for (const auto &p : o->props)
        out.push_back(Json::Object{{"name", p.decl->name}, {"type", prop_type_text(p.decl->type)}});
    return out;
}

Json cmd_qom_get(QmpCall &call) {
    ts_object *o = resolve_path(call.args);
    std::string prop = str_arg(call.args, "property");
    std::string tname = o->type ? o->type->name : "container";
    if (prop == "type") return tname;
    for (const auto &c : o->children)
        if (c->name == prop) return c->path;
    auto *p = o->find_prop(prop);
    if (!p) throw QmpError{"GenericError", "Property '" + tname + "." + prop + "' not found"};
    if (!p->value) throw QmpError{"GenericError", "Property '" + tname + "." + prop + "' has no value"};
    return prop_json(*p->decl, *p->value);
}

Json cmd_qom_set(QmpCall &call) {
    ts_object *o = resolve_path(call.args);
    if (!o->type)
        throw QmpError{"GenericError", "Property 'container." + str_arg(call.args, "property") + "' not found"};
    const Json &v = *call.args.find("value");
    std::string text;
    switch (v.type()) {
    case Json::Type::Bool: text = v.as_bool() ? "on" : "off"; break;
    case Json::Type::String: text = v.as_string(); break;
    case Json::Type::Int:
    case Json::Type::UInt:
    case Json::Type::Double: text = to_json(v); break;
    default: throw QmpError{"GenericError", "Invalid parameter type for 'value', expected: scalar"};
    }
    object_set_prop(o, str_arg(call.args, "property"), text);
    return empty();
}

Json cmd_qom_list_types(QmpCall &call) {
    std::string implements = str_arg(call.args, "implements");
    // Every known type with its parent; "implements" follows parent links.
    std::map<std::string, std::string> parent;
    for (int k = int(TypeKind::Target); k <= int(TypeKind::Object); k++)
        for (const auto &t : types_of_kind(TypeKind(k))) {
            std::string p;
            if (const TypeImpl *impl = type_find_loaded(t.name)) p = impl->parent;
            parent.emplace(t.name, p);
        }
    // The accelerator is part of the kernel, not a plugin type: TCG-like
    // translation is the only one (query-kvm says no KVM).
    parent.emplace("tcg-accel", "accel");
    const Json *abstract = call.args.find("abstract");
    bool with_abstract = abstract && abstract->as_bool();
    if (with_abstract) parent.emplace("accel", "object");
    Json out = Json::array();
    for (const auto &[name, p] : parent) {
        if (!implements.empty()) {
            bool ok = false;
            std::string cur = name;
            for (int hops = 0; !cur.empty() && hops < 32 && !ok; hops++) {
                ok = cur == implements;
                auto it = parent.find(cur);
                cur = it == parent.end() ? "" : it->second;
            }
            if (!ok) continue;
        }
        Json t = Json::Object{{"name", name}};
        if (name == "accel") t.set("abstract", true);
        if (!p.empty() && p != "-") t.set("parent", p);
        out.push_back(std::move(t));
    }
    return out;
}

// A class's declared properties as ObjectPropertyInfo entries.
void add_class_props(Json &out, const ts_object_class *oc) {
    if (!oc) return;
    for (uint32_t i = 0; i < oc->prop_count; i++) {
        const ts_prop_decl &d = oc->props[i];
        bool listed = false;  // a board may redeclare a common machine key
        for (const auto &e : out.as_array()) listed |= e.find("name")->as_string() == d.name;
        if (listed) continue;
        Json p = Json::Object{{"name", d.name}, {"type", prop_type_text(d.type)}};
        if (d.description) p.set("description", d.description);
        if (d.default_value) p.set("default-value", prop_json(d, d.default_value));
        out.push_back(std::move(p));
    }
}

Json cmd_device_list_properties(QmpCall &call) {
    std::string name = str_arg(call.args, "typename");
    const TypeImpl *t = nullptr;
    try {
        t = &type_get(name, "device-list-properties");
    } catch (const UsageError &) {
        throw QmpError{"DeviceNotFound", "Device '" + name + "' not found"};
    }
    if (t->kind != TypeKind::Device && t->kind != TypeKind::Cpu)
        throw QmpError{"GenericError", "Parameter 'typename' expects device"};
    Json out = Json::array();
    add_class_props(out, t->object_class());
    return out;
}

// Properties every machine has in tessera: the -machine keys the kernel
// handles itself (kernel/main/machine.cpp), in the reference's QOM types.
constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kMachineProps = {{
    {"memory-backend", "string"}, {"dump-guest-core", "bool"}, {"mem-merge", "bool"}, {"usb", "bool"},
    {"graphics", "bool"},
}};

const TypeSummary *find_type_summary(std::string_view name, std::vector<TypeSummary> &store) {
    for (int k = int(TypeKind::Target); k <= int(TypeKind::Object); k++)
        for (auto &t : types_of_kind(TypeKind(k)))
            if (t.name == name) {
                store.push_back(std::move(t));
                return &store.back();
            }
    return nullptr;
}

// Unknown types answer [] rather than DeviceNotFound: libvirt 9.0 crashes
// on an error here.
Json cmd_qom_list_properties(QmpCall &call) {
    std::string name = str_arg(call.args, "typename");
    Json out = Json::array();
    std::vector<TypeSummary> store;
    std::string_view board = name;
    if (board.ends_with("-machine")) {
        board.remove_suffix(8);
        const TypeSummary *t = find_type_summary(board, store);
        if (!t || t->kind != TypeKind::Board) return out;
        for (auto [n, ty] : kMachineProps) out.push_back(Json::Object{{"name", n}, {"type", ty}});
        try {
            add_class_props(out, type_get(board, "qom-list-properties").object_class());
        } catch (const UsageError &) {
            // A board plugin that fails to load still has the common ones.
        }
        return out;
    }
    const TypeSummary *t = find_type_summary(name, store);
    if (!t || t->kind == TypeKind::Board) return out;
    try {
        add_class_props(out, type_get(name, "qom-list-properties").object_class());
    } catch (const UsageError &) {
    }
    return out;
}

Json cmd_human_monitor_command(QmpCall &call) {
    Hmp hmp([](std::string_view) {});
    return hmp.execute(str_arg(call.args, "command-line"));
}

// ---- The table -----------------------------------------------------------------

struct CommandDecl {
    std::string_view name, arg_type, ret_type;
    Json (*run)(QmpCall &);
};

const std::array kCommands = {
    CommandDecl{"qmp_capabilities", "q_obj_qmp_capabilities-arg", "q_empty", cmd_capabilities},
    CommandDecl{"query-version", "q_empty", "VersionInfo", cmd_query_version},
    CommandDecl{"query-status", "q_empty", "StatusInfo", cmd_query_status},
    CommandDecl{"query-commands", "q_empty", "[CommandInfo]", cmd_query_commands},
    CommandDecl{"query-machines", "q_empty", "[MachineInfo]", cmd_query_machines},
    CommandDecl{"query-cpus-fast", "q_empty", "[CpuInfoFast]", cmd_query_cpus_fast},
    CommandDecl{"query-block", "q_empty", "[BlockInfo]", cmd_query_block},
    CommandDecl{"query-chardev", "q_empty", "[ChardevInfo]", cmd_query_chardev},
    CommandDecl{"query-name", "q_empty", "NameInfo", cmd_query_name},
    CommandDecl{"query-uuid", "q_empty", "UuidInfo", cmd_query_uuid},
    CommandDecl{"query-target", "q_empty", "TargetInfo", cmd_query_target},
    CommandDecl{"query-kvm", "q_empty", "KvmInfo", cmd_query_kvm},
    CommandDecl{"query-qmp-schema", "q_empty", "[SchemaInfo]", cmd_query_schema},
    CommandDecl{"stop", "q_empty", "q_empty", cmd_stop},
    CommandDecl{"cont", "q_empty", "q_empty", cmd_cont},
    CommandDecl{"system_reset", "q_empty", "q_empty", cmd_system_reset},
    CommandDecl{"system_powerdown", "q_empty", "q_empty", cmd_system_powerdown},
    CommandDecl{"quit", "q_empty", "q_empty", cmd_quit},
    CommandDecl{"qom-list", "q_obj_qom-list-arg", "[ObjectPropertyInfo]", cmd_qom_list},
    CommandDecl{"qom-get", "q_obj_qom-get-arg", "any", cmd_qom_get},
    CommandDecl{"qom-set", "q_obj_qom-set-arg", "q_empty", cmd_qom_set},
    CommandDecl{"qom-list-types", "q_obj_qom-list-types-arg", "[ObjectTypeInfo]", cmd_qom_list_types},
    CommandDecl{"device-list-properties", "q_obj_device-list-properties-arg", "[ObjectPropertyInfo]",
                cmd_device_list_properties},
    CommandDecl{"qom-list-properties", "q_obj_qom-list-properties-arg", "[ObjectPropertyInfo]",
                cmd_qom_list_properties},
    CommandDecl{"query-tpm-models", "q_empty", "[TpmModel]", cmd_query_tpm_models},
    CommandDecl{"query-tpm-types", "q_empty", "[TpmType]", cmd_query_tpm_types},
    CommandDecl{"query-command-line-options", "q_obj_query-command-line-options-arg", "[CommandLineOptionInfo]",
                cmd_query_command_line_options},
    CommandDecl{"query-migrate-capabilities", "q_empty", "[MigrationCapabilityStatus]",
                cmd_query_migrate_capabilities},
    CommandDecl{"migrate-set-capabilities", "q_obj_migrate-set-capabilities-arg", "q_empty",
                cmd_migrate_set_capabilities},
    CommandDecl{"query-iothreads", "q_empty", "[IOThreadInfo]", cmd_query_iothreads},
    CommandDecl{"query-named-block-nodes", "q_obj_query-named-block-nodes-arg", "[BlockDeviceInfo]",
                cmd_query_named_block_nodes},
    CommandDecl{"set-action", "q_obj_set-action-arg", "q_empty", cmd_set_action},
    CommandDecl{"query-jobs", "q_empty", "[JobInfo]", cmd_query_jobs},
    CommandDecl{"blockdev-add", "BlockdevOptions", "q_empty", cmd_blockdev_add},
    CommandDecl{"blockdev-del", "q_obj_blockdev-del-arg", "q_empty", cmd_blockdev_del},
    CommandDecl{"human-monitor-command", "q_obj_human-monitor-command-arg", "str", cmd_human_monitor_command},
};

struct EventDecl {
    std::string_view name, arg_type;
};
const std::array kEvents = {
    EventDecl{"SHUTDOWN", "q_obj_SHUTDOWN-arg"}, EventDecl{"POWERDOWN", "q_empty"},
    EventDecl{"RESET", "q_obj_SHUTDOWN-arg"},    EventDecl{"STOP", "q_empty"},
    EventDecl{"RESUME", "q_empty"},
};

Json cmd_query_commands(QmpCall &) {
    Json out = Json::array();
    for (const auto &c : kCommands) out.push_back(Json::Object{{"name", c.name}});
    return out;
}

const CommandDecl *find_command(std::string_view name) {
    for (const auto &c : kCommands)
        if (c.name == name) return &c;
    return nullptr;
}

// Adds the schema entry for a type (and the types it refers to) once.
void schema_add_type(std::string_view name, Json &out, std::set<std::string, std::less<>> &done) {
    if (done.contains(name)) return;
    done.emplace(name);
    if (name.starts_with("[")) {
        std::string_view elem = name.substr(1, name.size() - 2);
        out.push_back(Json::Object{{"name", name}, {"meta-type", "array"}, {"element-type", elem}});
        schema_add_type(elem, out, done);
        return;
    }
    const TypeDecl *t = type_decl(name);
    switch (t->meta) {
    case Meta::Builtin:
        out.push_back(Json::Object{{"name", name}, {"meta-type", "builtin"}, {"json-type", t->spec}});
        break;
    case Meta::Enum: {
        Json values = Json::array(), ms = Json::array();
        for (auto v : words(t->spec)) {
            values.push_back(v);
            ms.push_back(Json::Object{{"name", v}});
        }
        out.push_back(Json::Object{{"name", name}, {"meta-type", "enum"}, {"members", ms}, {"values", values}});
        break;
    }
    case Meta::Object: {
        Json ms = Json::array();
        std::vector<std::string_view> refs;
        for (const auto &m : members(*t)) {
            Json j = Json::Object{{"name", m.name}, {"type", m.type}};
            if (m.optional) j.set("default", nullptr);
            ms.push_back(std::move(j));
            refs.push_back(m.type);
        }
        Json obj = Json::Object{{"name", name}, {"meta-type", "object"}, {"members", ms}};
        // The variants live in the block layer; the tag says it is a union.
        if (!t->tag.empty()) obj.set("tag", t->tag);
        out.push_back(std::move(obj));
        for (auto r : refs) schema_add_type(r, out, done);
        break;
    }
    }
}

}  // namespace

bool qmp_migration_capability_known(std::string_view name) {
    auto caps = words(kMigrationCapabilities);
    return std::find(caps.begin(), caps.end(), name) != caps.end();
}

bool qmp_command_exists(std::string_view name) { return find_command(name) != nullptr; }

Json qmp_run_command(std::string_view name, const Json &args, QmpCall &call) {
    const CommandDecl *c = find_command(name);
    if (!c) throw QmpError{"CommandNotFound", "The command " + std::string(name) + " has not been found"};
    check_args(c->arg_type, args);
    return c->run(call);
}

Json qmp_schema() {
    Json out = Json::array();
    std::set<std::string, std::less<>> done;
    for (const auto &c : kCommands)
        out.push_back(Json::Object{
            {"name", c.name}, {"meta-type", "command"}, {"arg-type", c.arg_type}, {"ret-type", c.ret_type}});
    for (const auto &e : kEvents)
        out.push_back(Json::Object{{"name", e.name}, {"meta-type", "event"}, {"arg-type", e.arg_type}});
    for (const auto &c : kCommands) {
        schema_add_type(c.arg_type, out, done);
        schema_add_type(c.ret_type, out, done);
    }
    for (const auto &e : kEvents) schema_add_type(e.arg_type, out, done);
    return out;
}

}  // namespace tessera
