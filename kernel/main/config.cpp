#include "main/config.hpp"

#include "files/fdset.hpp"
#include "log/log.hpp"
#include "log/trace.hpp"
#include "net/config.hpp"
#include "options/readconfig.hpp"
#include "qom/object.hpp"

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <string_view>

namespace tessera {

namespace {

using Handler = std::function<void(Config &, const std::string &arg)>;

bool is_help(std::string_view s) { return s == "help" || s == "?"; }

[[noreturn]] void not_implemented(std::string_view opt, std::string_view what = {}) {
    std::string m = "-" + std::string(opt) + ": option not implemented in tessera yet";
    if (!what.empty()) m += " (" + std::string(what) + ")";
    throw UsageError(m);
}

KeyVals keyval_for(std::string_view opt, const std::string &arg, std::string_view implied, bool json = false) {
    try {
        return parse_keyval(arg, implied, json);
    } catch (const UsageError &e) {
        throw UsageError("-" + std::string(opt) + " " + arg + ": " + e.what());
    }
}

// Every option tessera implements, by name. Options of the reference that are
// absent here are refused by name.
const std::map<std::string, Handler, std::less<>> &handlers() {
    static const std::map<std::string, Handler, std::less<>> h = {
        {"h", [](Config &c, const std::string &) { c.print_help = true; }},
        {"perfmap", [](Config &c, const std::string &) { c.perfmap = true; }},
        {"jitdump", [](Config &c, const std::string &) { c.jitdump = true; }},
        {"help", [](Config &c, const std::string &) { c.print_help = true; }},
        {"version", [](Config &c, const std::string &) { c.print_version = true; }},
        {"machine", [](Config &c, const std::string &a) {
             if (is_help(a)) { c.help_requests.push_back("machine"); return; }
             KeyVals kv = keyval_for("machine", a, "type");
             if (kv.wants_help()) {
                 std::string t = kv.get("type");
                 c.help_requests.push_back(t.empty() || is_help(t) ? "machine" : "machine:" + t);
                 return;
             }
             for (auto &[k, v] : kv.items) c.machine.set(k, v);
         }},
        {"M", [](Config &c, const std::string &a) { handlers().at("machine")(c, a); }},
        {"cpu", [](Config &c, const std::string &a) {
             if (is_help(a)) { c.help_requests.push_back("cpu"); return; }
             KeyVals kv = keyval_for("cpu", a, "model");
             c.cpu = kv.get("model");
             for (auto &[k, v] : kv.items)
                 if (k != "model") c.cpu_props.set(k, v);
         }},
        {"accel", [](Config &c, const std::string &a) {
             if (is_help(a)) { c.help_requests.push_back("accel"); return; }
             KeyVals kv = keyval_for("accel", a, "accel");
             c.accels.push_back(kv.get("accel"));
             for (auto &[k, v] : kv.items)
                 if (k != "accel") c.accel_props.set(k, v);
         }},
        {"enable-kvm", [](Config &c, const std::string &) { c.accels.push_back("kvm"); }},
        {"smp", [](Config &c, const std::string &a) {
             KeyVals kv = keyval_for("smp", a, "cpus");
             auto num = [&](std::string_view k) -> unsigned {
                 if (!kv.has(k)) return 0;
                 uint64_t v;
                 try { v = parse_uint(kv.get(k)); } catch (const UsageError &) {
                     throw UsageError("-smp " + a + ": Parameter '" + std::string(k) + "' expects a number");
                 }
                 if (v > 4096) throw UsageError("-smp " + a + ": Parameter '" + std::string(k) + "' is too large");
                 return static_cast<unsigned>(v);
             };
             for (auto &[k, v] : kv.items)
                 if (k != "cpus" && k != "maxcpus" && k != "sockets" && k != "cores" && k != "threads" &&
                     k != "dies" && k != "clusters" && k != "books" && k != "drawers")
                     throw UsageError("-smp " + a + ": Invalid parameter '" + k + "'");
             c.smp_cpus = num("cpus");
             c.smp_max = num("maxcpus");
             c.sockets = num("sockets");
             c.cores = num("cores");
             c.threads = num("threads");
             if (c.smp_cpus == 0 && (c.sockets || c.cores || c.threads))
                 c.smp_cpus = (c.sockets ? c.sockets : 1) * (c.cores ? c.cores : 1) * (c.threads ? c.threads : 1);
         }},
        {"m", [](Config &c, const std::string &a) {
             KeyVals kv = keyval_for("m", a, "size");
             for (auto &[k, v] : kv.items)
                 if (k != "size" && k != "slots" && k != "maxmem")
                     throw UsageError("-m " + a + ": Invalid parameter '" + k + "'");
             if (kv.has("size")) {
                 try { c.ram_size = parse_size(kv.get("size"), 'M'); } catch (const UsageError &) {
                     throw UsageError("-m " + a + ": Parameter 'size' expects a non-negative size");
                 }
                 if (c.ram_size == 0) throw UsageError("-m " + a + ": memory size cannot be zero");
             }
             if (kv.has("maxmem")) c.maxmem = parse_size(kv.get("maxmem"));
             if (kv.has("slots")) c.ram_slots = static_cast<unsigned>(parse_uint(kv.get("slots")));
             if (c.maxmem && c.ram_size && c.maxmem < c.ram_size)
                 throw UsageError("-m " + a + ": invalid value of maxmem: maximum memory size must be at least the initial memory size");
         }},
        {"mem-path", [](Config &c, const std::string &a) { c.mem_path = a; }},
        {"mem-prealloc", [](Config &c, const std::string &) { c.mem_prealloc = true; }},
        {"device", [](Config &c, const std::string &a) {
             if (is_help(a)) { c.help_requests.push_back("device"); return; }
             KeyVals kv = keyval_for("device", a, "driver", true);
             if (kv.wants_help()) {
                 std::string d = kv.get("driver");
                 c.help_requests.push_back(d.empty() || is_help(d) ? "device" : "device:" + d);
                 return;
             }
             if (!kv.has("driver")) throw UsageError("-device " + a + ": Parameter 'driver' is missing");
             c.devices.push_back(std::move(kv));
         }},
        {"chardev", [](Config &c, const std::string &a) {
             if (is_help(a)) { c.help_requests.push_back("chardev"); return; }
             KeyVals kv = keyval_for("chardev", a, "backend", true);
             if (kv.wants_help()) { c.help_requests.push_back("chardev"); return; }
             if (!kv.has("id")) throw UsageError("-chardev " + a + ": Parameter 'id' is missing");
             c.chardevs.push_back(std::move(kv));
         }},
        {"object", [](Config &c, const std::string &a) {
             if (is_help(a)) { c.help_requests.push_back("object"); return; }
             KeyVals kv = keyval_for("object", a, "qom-type", true);
             if (kv.wants_help()) {
                 std::string t = kv.get("qom-type");
                 c.help_requests.push_back(t.empty() || is_help(t) ? "object" : "object:" + t);
                 return;
             }
             if (!kv.has("id")) throw UsageError("-object " + a + ": Parameter 'id' is missing");
             c.objects.push_back(std::move(kv));
         }},
        {"global", [](Config &, const std::string &a) {
             KeyVals kv = keyval_for("global", a, {}, false);
             std::string driver, prop, value;
             if (kv.has("driver")) {
                 driver = kv.get("driver"); prop = kv.get("property"); value = kv.get("value");
             } else {
                 auto eq = a.find('='), dot = a.find('.');
                 if (eq == std::string::npos || dot == std::string::npos || dot > eq)
                     throw UsageError("-global " + a + ": Invalid format (use DRIVER.PROPERTY=VALUE)");
                 driver = a.substr(0, dot); prop = a.substr(dot + 1, eq - dot - 1); value = a.substr(eq + 1);
             }
             if (driver.empty() || prop.empty())
                 throw UsageError("-global " + a + ": Invalid format (use DRIVER.PROPERTY=VALUE)");
             global_prop_add(driver, prop, value);
         }},
        {"name", [](Config &c, const std::string &a) {
             KeyVals kv = keyval_for("name", a, "guest");
             c.name = kv.get("guest");
             if (kv.has("debug-threads")) c.debug_threads = parse_bool(kv.get("debug-threads"));
             for (auto &[k, v] : kv.items)
                 if (k != "guest" && k != "debug-threads" && k != "process")
                     throw UsageError("-name " + a + ": Invalid parameter '" + k + "'");
         }},
        {"uuid", [](Config &c, const std::string &a) {
             bool ok = a.size() == 36;
             for (size_t i = 0; ok && i < a.size(); i++)
                 ok = (i == 8 || i == 13 || i == 18 || i == 23) ? a[i] == '-' : isxdigit(static_cast<unsigned char>(a[i]));
             if (!ok) throw UsageError("Fail to parse UUID string. Wrong format.");
             c.uuid = a;
         }},
        {"nographic", [](Config &c, const std::string &) { c.nographic = true; c.display = "none"; }},
        {"display", [](Config &c, const std::string &a) {
             if (is_help(a)) { c.help_requests.push_back("display"); return; }
             KeyVals kv = keyval_for("display", a, "type");
             std::string t = kv.get("type");
             if (t != "none")
                 throw UsageError("-display " + a + ": display '" + t +
                                  "' is not available: no display plugin provides it (available: none)");
             c.display = t;
         }},
        {"bios", [](Config &c, const std::string &a) { c.bios = a; }},
        {"kernel", [](Config &c, const std::string &a) { c.kernel = a; }},
        {"append", [](Config &c, const std::string &a) { c.append = a; }},
        {"initrd", [](Config &c, const std::string &a) { c.initrd = a; }},
        {"dtb", [](Config &c, const std::string &a) { c.dtb = a; }},
        {"L", [](Config &c, const std::string &a) {
             if (is_help(a)) { c.help_requests.push_back("L"); return; }
             c.firmware_dirs.push_back(a);
         }},
        {"serial", [](Config &c, const std::string &a) {
             c.default_serial = false;
             if (a != "none") c.serials.push_back(a);
         }},
        {"monitor", [](Config &c, const std::string &a) {
             c.default_monitor = false;
             if (a != "none") c.monitors.push_back({a, "", false, false});
         }},
        {"mon", [](Config &c, const std::string &a) {
             KeyVals kv = keyval_for("mon", a, "chardev");
             std::string mode = kv.get("mode", "readline");
             if (mode != "readline" && mode != "control")
                 throw UsageError("-mon " + a + ": Parameter 'mode' does not accept value '" + mode + "'");
             if (!kv.has("chardev")) throw UsageError("-mon " + a + ": Parameter 'chardev' is missing");
             c.default_monitor = false;
             c.monitors.push_back({"", kv.get("chardev"), mode == "control", kv.has("pretty") && parse_bool(kv.get("pretty"))});
         }},
        {"qmp", [](Config &c, const std::string &a) {
             c.default_monitor = false;
             c.monitors.push_back({a, "", true, false});
         }},
        {"qmp-pretty", [](Config &c, const std::string &a) {
             c.default_monitor = false;
             c.monitors.push_back({a, "", true, true});
         }},
        {"gdb", [](Config &c, const std::string &a) { c.gdb = a; }},
        {"s", [](Config &c, const std::string &) { c.gdb = "tcp::1234"; }},
        {"blockdev", [](Config &c, const std::string &a) {
             c.blockdevs.push_back({a, keyval_for("blockdev", a, "driver", true)});
         }},
        {"drive", [](Config &c, const std::string &a) {
             c.drives.push_back({a, keyval_for("drive", a, {})});
         }},
        {"snapshot", [](Config &c, const std::string &) { c.snapshot = true; }},
        {"netdev", [](Config &c, const std::string &a) {
             if (is_help(a)) { c.help_requests.push_back("netdev"); return; }
             net::config_netdev(a);
         }},
        {"nic", [](Config &c, const std::string &a) {
             if (is_help(a)) { c.help_requests.push_back("netdev"); return; }
             net::config_nic(a);
         }},
        {"net", [](Config &c, const std::string &a) {
             if (is_help(a)) { c.help_requests.push_back("netdev"); return; }
             net::config_net(a);
         }},
        // Audio backends: only "none" (discard) exists until an audio plugin
        // provides others; no device here produces audio.
        {"audiodev", [](Config &c, const std::string &a) {
             if (is_help(a)) { c.help_requests.push_back("audiodev"); return; }
             KeyVals kv = keyval_for("audiodev", a, "driver", true);
             if (kv.wants_help()) { c.help_requests.push_back("audiodev"); return; }
             if (!kv.has("id")) throw UsageError("-audiodev " + a + ": Parameter 'id' is missing");
             std::string d = kv.get("driver");
             if (d != "none")
                 throw UsageError("-audiodev " + a + ": audiodev driver '" + d +
                                  "' is not available: no audio plugin provides it (available: none)");
             c.audiodevs.push_back(std::move(kv));
         }},
        {"add-fd", [](Config &, const std::string &a) {
             KeyVals kv = keyval_for("add-fd", a, {});
             for (auto &[k, v] : kv.items)
                 if (k != "fd" && k != "set" && k != "opaque")
                     throw UsageError("-add-fd " + a + ": Invalid parameter '" + k + "'");
             if (!kv.has("fd")) throw UsageError("-add-fd " + a + ": fd option is required and must be non-negative");
             if (!kv.has("set")) throw UsageError("-add-fd " + a + ": set option is required and must be non-negative");
             try {
                 fdset_add(parse_int(kv.get("set")), static_cast<int>(parse_int(kv.get("fd"))), kv.get("opaque"));
             } catch (const UsageError &e) {
                 throw UsageError("-add-fd " + a + ": " + e.what());
             }
         }},
        {"pidfile", [](Config &c, const std::string &a) { c.pidfile = a; }},
        {"daemonize", [](Config &c, const std::string &) { c.daemonize = true; }},
        {"S", [](Config &c, const std::string &) { c.start_paused = true; }},
        {"loadvm", [](Config &c, const std::string &v) { c.loadvm = v; }},
        {"trace", [](Config &c, const std::string &a) {
             if (is_help(a) || a == "enable=help") { c.help_requests.push_back("trace"); return; }
             trace_configure(a);
         }},
        {"d", [](Config &c, const std::string &a) {
             if (is_help(a)) { c.help_requests.push_back("d"); return; }
             if (a == "trace:help" || a == "trace:?") { c.help_requests.push_back("trace"); return; }
             c.log_mask |= parse_log_items(a);
         }},
        {"D", [](Config &c, const std::string &a) { c.log_file = a; }},
        {"plugin", [](Config &c, const std::string &a) {
             if (instrument_parse_option(c.plugins, a)) {
                 std::fputs(instrument_help(), stdout);
                 std::exit(0);
             }
         }},
        {"dfilter", [](Config &, const std::string &a) { set_log_filter(a); }},
        {"no-reboot", [](Config &c, const std::string &) { c.no_reboot = true; }},
        {"no-shutdown", [](Config &c, const std::string &) { c.no_shutdown = true; }},
        {"action", [](Config &c, const std::string &a) {
             if (is_help(a)) { c.help_requests.push_back("action"); return; }
             KeyVals kv = keyval_for("action", a, {});
             static const std::map<std::string, std::vector<std::string>, std::less<>> allowed = {
                 {"reboot", {"reset", "shutdown"}},
                 {"shutdown", {"poweroff", "pause"}},
                 {"panic", {"pause", "shutdown", "exit-failure", "none"}},
                 {"watchdog", {"reset", "shutdown", "poweroff", "pause", "debug", "none", "inject-nmi"}},
             };
             for (auto &[k, v] : kv.items) {
                 auto it = allowed.find(k);
                 if (it == allowed.end()) throw UsageError("-action " + a + ": Invalid parameter '" + k + "'");
                 bool ok = false;
                 for (auto &x : it->second) ok |= x == v;
                 if (!ok) throw UsageError("-action " + a + ": Parameter '" + k + "' does not accept value '" + v + "'");
                 c.actions.set(k, v);
             }
         }},
        {"seed", [](Config &c, const std::string &a) {
             try {
                 c.seed = parse_uint(a);
             } catch (const UsageError &) {
                 throw UsageError("-seed " + a + ": Invalid seed number: " + a);
             }
         }},
        {"icount", [](Config &c, const std::string &a) {
             KeyVals kv = keyval_for("icount", a, "shift");
             c.icount = true;
             for (auto &[k, v] : kv.items) {
                 if (k == "shift") {
                     if (v == "auto") {
                         c.icount_shift = -1;
                         continue;
                     }
                     int n = -1;
                     if (!v.empty() && v.size() <= 2 && std::all_of(v.begin(), v.end(), ::isdigit)) n = std::stoi(v);
                     if (n < 0 || n > 10) throw UsageError("-icount " + a + ": icount: Invalid shift value");
                     c.icount_shift = n;
                 } else if (k == "sleep") {
                     try {
                         c.icount_sleep = parse_bool(v);
                     } catch (const UsageError &) {
                         throw UsageError("-icount " + a + ": Parameter 'sleep' expects 'on' or 'off'");
                     }
                 } else if (k == "align") {
                     if (parse_bool(v)) not_implemented("icount", "align=on");
                 } else if (k == "rr" || k == "rrfile" || k == "rrsnapshot") {
                     not_implemented("icount", "record/replay (" + k + "=)");
                 } else {
                     throw UsageError("-icount " + a + ": Invalid parameter '" + k + "'");
                 }
             }
         }},
        {"rtc", [](Config &c, const std::string &a) {
             KeyVals kv = keyval_for("rtc", a, {});
             for (auto &[k, v] : kv.items) {
                 if (k == "base") c.rtc_base = v;
                 else if (k == "clock") {
                     if (v != "host" && v != "rt" && v != "vm")
                         throw UsageError("-rtc " + a + ": Parameter 'clock' does not accept value '" + v + "'");
                     if (v == "rt") not_implemented("rtc", "clock=" + v);
                     c.rtc_clock_vm = v == "vm";
                 } else if (k == "driftfix") {
                     if (v != "none") not_implemented("rtc", "driftfix=" + v);
                 } else throw UsageError("-rtc " + a + ": Invalid parameter '" + k + "'");
             }
         }},
        {"echr", [](Config &c, const std::string &a) {
             try {
                 uint64_t v = parse_uint(a);
                 if (v > 255) throw UsageError("");
                 c.echr = static_cast<int>(v);
             } catch (const UsageError &) {
                 throw UsageError("-echr " + a + ": Bad argument to echr");
             }
         }},
        {"nodefaults", [](Config &c, const std::string &) { c.nodefaults = true; }},
        // Tessera reads no default configuration files, so there is nothing to skip.
        {"no-user-config", [](Config &, const std::string &) {}},
        {"msg", [](Config &c, const std::string &a) {
             KeyVals kv = keyval_for("msg", a, {});
             for (auto &[k, v] : kv.items) {
                 if (k == "timestamp") c.msg_timestamp = parse_bool(v);
                 else if (k == "guest-name") { if (parse_bool(v)) not_implemented("msg", "guest-name=on"); }
                 else throw UsageError("-msg " + a + ": Invalid parameter '" + k + "'");
             }
         }},
        // Boot order only selects firmware boot devices on boards that have
        // them; the riscv boards boot -kernel/-bios, as in the reference.
        {"boot", [](Config &, const std::string &a) {
             KeyVals kv = keyval_for("boot", a, "order");
             for (auto &[k, v] : kv.items)
                 if (k != "order" && k != "once" && k != "menu" && k != "splash" && k != "splash-time" &&
                     k != "reboot-timeout" && k != "strict")
                     throw UsageError("-boot " + a + ": Invalid parameter '" + k + "'");
         }},
        {"overcommit", [](Config &, const std::string &a) {
             KeyVals kv = keyval_for("overcommit", a, {});
             for (auto &[k, v] : kv.items) {
                 if (k == "mem-lock") {
                     if (v != "off" && v != "false") not_implemented("overcommit", "mem-lock=" + v);
                 } else if (k == "cpu-pm") {
                     if (v != "off" && v != "false") not_implemented("overcommit", "cpu-pm=" + v);
                 } else throw UsageError("-overcommit " + a + ": Invalid parameter '" + k + "'");
             }
         }},
        // Every device and CPU declares its state, so none blocks migration.
        {"only-migratable", [](Config &c, const std::string &) { c.only_migratable = true; }},
    };
    return h;
}

}  // namespace

void config_target_from_program(Config &cfg, std::string_view argv0) {
    auto s = argv0.rfind('/');
    std::string_view base = s == std::string_view::npos ? argv0 : argv0.substr(s + 1);
    cfg.program = std::string(base);
    constexpr std::string_view prefix = "tessera-system-";
    if (base.substr(0, prefix.size()) == prefix) {
        cfg.target = std::string(base.substr(prefix.size()));
        if (cfg.target == "riscv32") cfg.default_cpu = "rv32";
    }
}

static void apply(Config &cfg, const ParsedOption &o) {
    const auto &h = handlers();
    auto it = h.find(o.def->name);
    if (it == h.end()) not_implemented(o.def->name);
    it->second(cfg, o.arg);
}

// -readconfig: each section becomes the option of the same name.
static void apply_readconfig(Config &cfg, const std::string &file) {
    for (const auto &sec : read_config_file(file)) {
        std::string arg;
        KeyVals kv = sec.values;
        if (!sec.id.empty()) kv.set("id", sec.id);
        for (auto &[k, v] : kv.items) arg += (arg.empty() ? "" : ",") + k + "=" + escape_keyval(v);
        std::string opt = sec.group == "memory" ? "m" : sec.group == "smp-opts" ? "smp" : sec.group;
        const OptionDef *def = find_option(opt);
        if (!def || !def->has_arg)
            throw UsageError("-readconfig " + file + ": there is no option group '" + sec.group + "'");
        apply(cfg, ParsedOption{def, arg});
    }
}

// -set GROUP.ID.PROP=VALUE edits an earlier option with that id.
static void apply_set(Config &cfg, const std::string &a) {
    auto d1 = a.find('.'), d2 = a.find('.', d1 == std::string::npos ? 0 : d1 + 1), eq = a.find('=');
    if (d1 == std::string::npos || d2 == std::string::npos || eq == std::string::npos || eq < d2)
        throw UsageError("-set " + a + ": Invalid -set parameter: " + a);
    std::string group = a.substr(0, d1), id = a.substr(d1 + 1, d2 - d1 - 1), prop = a.substr(d2 + 1, eq - d2 - 1),
                value = a.substr(eq + 1);
    std::vector<KeyVals> *list = group == "device" ? &cfg.devices
                                 : group == "chardev" ? &cfg.chardevs
                                 : group == "object" ? &cfg.objects
                                                     : nullptr;
    if (!list) throw UsageError("-set " + a + ": there is no option group '" + group + "'");
    for (auto &kv : *list)
        if (kv.get("id") == id) {
            kv.set(prop, value);
            return;
        }
    throw UsageError("-set " + a + ": there is no " + group + " \"" + id + "\" defined");
}

Config build_config(int argc, char **argv) {
    Config cfg;
    config_target_from_program(cfg, argc > 0 ? argv[0] : "tessera");
    // parse_command_line takes a whole argv (it skips element 0).
    std::vector<char *> rest = {argv[0]};
    for (int i = 1; i < argc; i++) {
        std::string_view a = argv[i];
        if (a == "-plugins" || a == "--plugins") cfg.list_plugins = true;
        else rest.push_back(argv[i]);
    }
    auto opts = parse_command_line(rest);
    std::vector<std::string> sets;
    for (const auto &o : opts) {
        if (o.def->name == "readconfig") apply_readconfig(cfg, o.arg);
        else if (o.def->name == "set") sets.push_back(o.arg);
        else apply(cfg, o);
    }
    for (const auto &s : sets) apply_set(cfg, s);
    return cfg;
}

}  // namespace tessera
