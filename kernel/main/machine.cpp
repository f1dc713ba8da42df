#include "main/machine.hpp"

#include "main/help.hpp"

#include "block/block.hpp"
#include "chardev/mux.hpp"
#include "gdbstub/gdbstub.hpp"
#include "qmp/qmp.hpp"
#include "chardev/registry.hpp"
#include "host/chardev_fe.hpp"
#include "fdt/fdt.hpp"
#include "host/host_table.hpp"
#include "instrument/instrument.hpp"
#include "loader/loader.hpp"
#include "log/log.hpp"
#include "log/trace.hpp"
#include "loop/bql.hpp"
#include "loop/clock.hpp"
#include "loop/main_loop.hpp"
#include "memory/address_space.hpp"
#include "memory/region.hpp"
#include "monitor/hmp.hpp"
#include "net/config.hpp"
#include "plugins/registry.hpp"
#include "qom/object.hpp"
#include "snapshot/savevm.hpp"
#include "secrets/secret.hpp"
#include "vcpu/vcpu.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <tuple>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>

#ifndef TESSERA_FIRMWAREDIR
#define TESSERA_FIRMWAREDIR "/usr/local/share/tessera"
#endif

namespace tessera {

namespace {


// ---- the built-in "none" machine: no CPU unless -cpu, no devices ----
ts_status none_init(void *, ts_error *) { return TS_OK; }
void *none_create(ts_object *, ts_error *) {
    static int token;
    return &token;
}
const ts_board_class kNoneBoard = {
    sizeof(ts_board_class),
    {sizeof(ts_object_class), nullptr, 0, TS_STATE_NONE, none_create, nullptr, nullptr, nullptr, nullptr},
    "empty machine", nullptr, 0, 0, 0, nullptr, none_init, nullptr /* no power button */,
};

}  // namespace

// Memory backends are kernel objects; their properties are declared so that
// -object help and -object TYPE,help describe them.
const ts_prop_decl kRamBackendProps[] = {
    {sizeof(ts_prop_decl), "size", TS_PROP_SIZE, nullptr, 0, 0, nullptr, nullptr, "size of the memory region in bytes"},
    {sizeof(ts_prop_decl), "prealloc", TS_PROP_BOOL, "off", 0, 0, nullptr, nullptr, "preallocate memory"},
    {sizeof(ts_prop_decl), "share", TS_PROP_BOOL, "off", 0, 0, nullptr, nullptr, "mark the memory as private or shared"},
    {sizeof(ts_prop_decl), "mem-path", TS_PROP_STRING, nullptr, 0, 0, nullptr, nullptr,
     "file to use as the backing store (memory-backend-file)"},
};
void *backend_create(ts_object *, ts_error *) {
    static int token;
    return &token;
}
const ts_object_class kRamBackend = {sizeof(ts_object_class), kRamBackendProps, 3, TS_STATE_NONE, backend_create,
                                     nullptr, nullptr, nullptr, nullptr};
const ts_object_class kFileBackend = {sizeof(ts_object_class), kRamBackendProps, 4, TS_STATE_NONE, backend_create,
                                      nullptr, nullptr, nullptr, nullptr};

const char *const kSecretFormats[] = {"raw", "base64", nullptr};
const ts_prop_decl kSecretProps[] = {
    {sizeof(ts_prop_decl), "data", TS_PROP_STRING, nullptr, 0, 0, nullptr, nullptr, "the secret itself"},
    {sizeof(ts_prop_decl), "file", TS_PROP_STRING, nullptr, 0, 0, nullptr, nullptr, "a file holding the secret"},
    {sizeof(ts_prop_decl), "format", TS_PROP_ENUM, "raw", 0, 0, kSecretFormats, nullptr, "how data/file is encoded"},
};
const ts_object_class kSecret = {sizeof(ts_object_class), kSecretProps, 3, TS_STATE_NONE, backend_create,
                                 nullptr, nullptr, nullptr, nullptr};

void register_builtin_types() {
    for (auto [name, cls, desc] : {std::tuple{"memory-backend-ram", &kRamBackend, "RAM backend (anonymous memory)"},
                                   std::tuple{"memory-backend-file", &kFileBackend, "RAM backend (a file)"},
                                   std::tuple{"secret", &kSecret, "a password or key (data= or file=, raw or base64)"}}) {
        TypeImpl t;
        t.name = name;
        t.kind = TypeKind::Object;
        t.description = desc;
        t.cls = cls;
        type_register_builtin(std::move(t));
    }
    TypeImpl none;
    none.name = "none";
    none.kind = TypeKind::Board;
    none.description = "empty machine";
    none.cls = &kNoneBoard;
    type_register_builtin(std::move(none));
}

namespace {

std::string default_board(const Config &cfg) {
    for (const auto &t : types_of_kind(TypeKind::Board))
        if (is_default_for(t.category, cfg.target)) return t.name;
    return "";
}

// Exit handling: requests come from any thread and are applied on the main loop.
struct Requests {
    std::atomic<int> shutdown_cause{0};
    std::atomic<int> shutdown_status{0};
    std::atomic<bool> reset{false};
    Bh *bh = nullptr;
    int exit_status = 0;
    // -action, -no-reboot, -no-shutdown, and QMP set-action, as one policy.
    KeyVals actions;
} g_req;

void system_reset() {
    trace(TraceEvent::SystemReset, "%s", "");
    vm_stop(RunState::Paused);
    global_roms().rewrite_all();
    object_reset_all();
    vm_start();
    qmp_reset_done();
}

void requests_bh(void *) {
    if (g_req.reset.exchange(false)) {
        if (g_req.actions.get("reboot") == "shutdown") {
            g_req.exit_status = 0;
            vm_stop(RunState::Shutdown);
            MainLoop::instance().quit();
            return;
        }
        system_reset();
    }
    int cause = g_req.shutdown_cause.exchange(0);
    if (!cause) return;
    const int status = g_req.shutdown_status.load();
    if (cause == TS_SHUTDOWN_GUEST_RESET) {
        g_req.reset = true;
        requests_bh(nullptr);
        return;
    }
    const bool pause = cause != TS_SHUTDOWN_HOST_QUIT && g_req.actions.get("shutdown") == "pause";
    vm_stop(RunState::Shutdown);
    if (pause) return;  // stays up, paused, for the monitor
    g_req.exit_status = status;
    MainLoop::instance().quit();
}

void setup_requests(const Config &cfg) {
    g_req.actions = cfg.actions;
    if (cfg.no_reboot) g_req.actions.set("reboot", "shutdown");
    if (cfg.no_shutdown) g_req.actions.set("shutdown", "pause");
    qmp_set_action_hook([](const KeyVals &kv) {
        for (const auto &[k, v] : kv.items) g_req.actions.set(k, v);
    });
    g_req.bh = MainLoop::instance().bh_new(requests_bh, nullptr);
    host_set_request_handlers(
        [](int cause, int status) {
            qmp_note_shutdown_cause(cause);
            g_req.shutdown_status = status;
            g_req.shutdown_cause = cause;
            MainLoop::instance().bh_schedule(g_req.bh);
        },
        [] {
            g_req.reset = true;
            MainLoop::instance().bh_schedule(g_req.bh);
        });
}

// MMIO from a vCPU thread runs under the kernel lock; a device doing DMA into
// another device's MMIO already holds it.
thread_local int t_mmio_depth = 0;
thread_local bool t_mmio_took = false;
void mmio_lock() {
    if (t_mmio_depth++ == 0) {
        t_mmio_took = !bql_locked();
        if (t_mmio_took) bql_lock();
    }
}
void mmio_unlock() {
    if (--t_mmio_depth == 0 && t_mmio_took) {
        t_mmio_took = false;
        bql_unlock();
    }
}

void choose_accel(const Config &cfg) {
    std::vector<std::string> accels;
    for (const auto &a : cfg.accels) {
        std::string_view s = a;
        while (!s.empty()) {
            size_t c = s.find(':');
            accels.emplace_back(s.substr(0, c));
            s.remove_prefix(c == std::string_view::npos ? s.size() : c + 1);
        }
    }
    if (auto m = cfg.machine.find("accel")) {
        std::string_view s = *m;
        while (!s.empty()) {
            size_t c = s.find(':');
            accels.emplace_back(s.substr(0, c));
            s.remove_prefix(c == std::string_view::npos ? s.size() : c + 1);
        }
    }
    if (accels.empty()) accels.push_back("tcg");
    for (size_t i = 0; i < accels.size(); i++) {
        const auto &a = accels[i];
        if (a == "tcg") {
            if (i > 0) error_report("falling back to tcg");
            // Validated here, read by the CPU plugins as config "accel.<prop>".
            // jit=on|off is tessera's own: off selects the interpreter.
            auto is_bool = [](const std::string &v) {
                return v == "on" || v == "off" || v == "yes" || v == "no" || v == "true" || v == "false";
            };
            for (auto &[k, v] : cfg.accel_props.items) {
                bool ok = (k == "thread" && (v == "multi" || v == "single")) ||
                          ((k == "one-insn-per-tb" || k == "jit") && is_bool(v)) ||
                          (k == "tb-size" && !v.empty() && v.size() < 8 &&
                           v.find_first_not_of("0123456789") == std::string::npos);
                if (!ok && k == "tb-size")
                    throw UsageError("-accel tcg," + k + "=" + v + ": Parameter 'tb-size' expects uint64");
                if (!ok && (k == "one-insn-per-tb" || k == "jit"))
                    throw UsageError("-accel tcg," + k + "=" + v + ": Parameter '" + k + "' expects 'on' or 'off'");
                if (!ok)
                    throw UsageError("-accel tcg," + k + "=" + v + ": property not implemented in tessera yet");
                if (k == "thread" && v == "multi" && cfg.icount)  // the reference's refusal
                    throw UsageError("-accel tcg,thread=multi: No MTTCG when icount is enabled");
                host_config_set("accel." + k, v);
            }
            return;
        }
        if (a == "kvm") {
            std::fprintf(stderr, "Could not access KVM kernel module: No such file or directory\n");
            error_report("failed to initialize kvm: No such file or directory");
            continue;
        }
        if (a == "xen" || a == "hvf" || a == "nvmm" || a == "whpx" || a == "qtest") {
            error_report("invalid accelerator " + a);
            continue;
        }
        throw UsageError("invalid accelerator " + a);
    }
    throw UsageError("no accelerator found");
}

void export_config(const Config &cfg, const std::string &board, const ts_board_class &bc) {
    host_config_set("kernel", cfg.kernel);
    host_config_set("perfmap", cfg.perfmap ? "on" : "");
    host_config_set("jitdump", cfg.jitdump ? "on" : "");
    host_config_set("initrd", cfg.initrd);
    host_config_set("append", cfg.append);
    host_config_set("dtb", cfg.dtb);
    host_config_set("bios", cfg.bios);
    host_config_set("nographic", cfg.nographic ? "on" : "off");
    std::string dirs;
    for (const auto &d : cfg.firmware_dirs) dirs += d + ":";
    dirs += std::string(TESSERA_FIRMWAREDIR) + ":/usr/lib/riscv64-linux-gnu/opensbi/generic:/usr/share/qemu";
    host_config_set("firmware-dirs", dirs);
    uint64_t ram = cfg.ram_size ? cfg.ram_size : bc.default_ram_size;
    host_config_set("ram-size", std::to_string(ram));
    unsigned cpus = cfg.smp_cpus ? cfg.smp_cpus : 1;
    if (bc.max_cpus && cpus > bc.max_cpus)
        throw UsageError("Invalid SMP CPUs " + std::to_string(cpus) + ". The max CPUs supported by machine '" +
                         board + "' is " + std::to_string(bc.max_cpus));
    host_config_set("smp.cpus", std::to_string(cpus));
    std::string cpu = !cfg.cpu.empty() ? cfg.cpu
                      : !cfg.default_cpu.empty() ? cfg.default_cpu
                      : bc.default_cpu_type ? bc.default_cpu_type : "";
    host_config_set("cpu", cpu);
    std::string props;
    for (auto &[k, v] : cfg.cpu_props.items) props += (props.empty() ? "" : ",") + k + "=" + escape_keyval(v);
    host_config_set("cpu-props", props);
}

// The machine's main RAM: -m, -mem-path, -mem-prealloc or a memory backend.
void create_ram(const Config &cfg, uint64_t size) {
    HostMemoryOptions mo;
    mo.mem_path = cfg.mem_path;
    mo.prealloc = cfg.mem_prealloc;
    std::string name = "ram";
    if (auto id = cfg.machine.find("memory-backend")) {
        const KeyVals *be = nullptr;
        for (const auto &o : cfg.objects)
            if (o.get("id") == *id) be = &o;
        if (!be) throw UsageError("Memory backend '" + *id + "' not found");
        std::string t = be->get("qom-type");
        if (t != "memory-backend-ram" && t != "memory-backend-file")
            throw UsageError("-object " + t + ": type is not a memory backend tessera provides");
        if (be->has("size")) {
            uint64_t bs = parse_size(be->get("size"));
            if (cfg.ram_size && bs != cfg.ram_size)
                throw UsageError("backend memory size must be equal to machine memory size");
            size = bs;
        }
        if (t == "memory-backend-file") {
            if (!be->has("mem-path")) throw UsageError("-object " + t + ": Parameter 'mem-path' is missing");
            mo.mem_path = be->get("mem-path");
            mo.share = be->has("share") && parse_bool(be->get("share"));
        }
        if (be->has("prealloc")) mo.prealloc = parse_bool(be->get("prealloc"));
        name = *id;
    }
    RegionPtr ram = make_ram(name, size, mo, nullptr);
    // dump-guest-core / mem-merge map onto the host's madvise hints.
    if (auto d = cfg.machine.find("dump-guest-core"); d && !parse_bool(*d))
        madvise(region_host_ptr(*ram), size, MADV_DONTDUMP);
    if (auto m = cfg.machine.find("mem-merge"); !m || parse_bool(*m))
        madvise(region_host_ptr(*ram), size, MADV_MERGEABLE);
    static RegionPtr keep;
    keep = std::move(ram);
    host_set_machine_ram(keep.get());
}

void check_objects(const Config &cfg) {
    for (const auto &o : cfg.objects) {
        std::string t = o.get("qom-type");
        if (t == "memory-backend-ram" || t == "memory-backend-file") {
            if (!cfg.machine.has("memory-backend") || cfg.machine.get("memory-backend") != o.get("id"))
                throw UsageError("-object " + t + ",id=" + o.get("id") +
                                 ": memory backends are only used as the machine's memory-backend in tessera yet");
            continue;
        }
        if (t == "filter-dump") continue;  // created with the netdevs
        if (t == "secret") {
            try {
                secret_add(o);
            } catch (const UsageError &e) {
                throw UsageError("-object secret,id=" + o.get("id") + ": " + e.what());
            }
            continue;
        }
        throw UsageError("-object " + t + ": object type not implemented in tessera yet");
    }
}

void write_pidfile(const std::string &path) {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw UsageError("cannot create PID file: " + std::string(strerror(errno)));
    if (lockf(fd, F_TLOCK, 0) != 0) {
        close(fd);
        throw UsageError("cannot lock PID file: " + path + ": another instance is running");
    }
    std::string s = std::to_string(getpid()) + "\n";
    if (ftruncate(fd, 0) != 0 || write(fd, s.data(), s.size()) != ssize_t(s.size())) {
        close(fd);
        throw UsageError("cannot write PID file: " + path);
    }
    // Kept open (and locked) for the life of the process.
}

// -daemonize: the parent waits until the child is ready (monitors listening)
// and exits 0, or with the child's failure status.
int g_daemon_pipe = -1;

void daemonize_start(const Config &cfg) {
    if (!cfg.daemonize) return;
    // As the reference: only a console on stdio is incompatible.
    if (cfg.nographic && !cfg.nodefaults && (cfg.default_serial || cfg.default_monitor))
        throw UsageError("-nographic cannot be used with -daemonize");
    int fds[2];
    if (pipe(fds) != 0) throw UsageError(std::string("cannot daemonize: ") + strerror(errno));
    pid_t pid = fork();
    if (pid < 0) throw UsageError(std::string("cannot daemonize: ") + strerror(errno));
    if (pid > 0) {
        close(fds[1]);
        char status = 1;
        ssize_t n;
        do n = read(fds[0], &status, 1);
        while (n < 0 && errno == EINTR);
        _exit(n == 1 ? status : 1);
    }
    close(fds[0]);
    g_daemon_pipe = fds[1];
    setsid();
}

void daemonize_ready() {
    if (g_daemon_pipe < 0) return;
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        if (null > 2) close(null);
    }
    char ok = 0;
    if (write(g_daemon_pipe, &ok, 1) != 1) {
        // The parent is gone; nobody to tell.
    }
    close(g_daemon_pipe);
    g_daemon_pipe = -1;
}

ts_object *plug_device(const KeyVals &kv) {
    const std::string driver = kv.get("driver");
    const TypeImpl &t = type_get(driver, "-device");
    if (t.kind != TypeKind::Device)
        throw UsageError("-device " + driver + ": '" + driver + "' is not a device type");
    auto *dc = static_cast<const ts_device_class *>(t.cls);
    if (!dc->user_creatable)
        throw UsageError("Parameter 'driver' expects a pluggable device type ('" + driver + "' is not)");
    ts_object *bus_owner = nullptr;
    if (dc->bus_type) {
        std::string want_bus = kv.get("bus");
        // First free bus of the right type, in creation order, as the reference does.
        std::function<ts_object *(ts_object *)> find = [&](ts_object *o) -> ts_object * {
            for (auto &b : o->buses)
                // A PCI bus has 32 slots; the others take one child each.
                if (b.type == dc->bus_type &&
                    (want_bus.empty() ? b.children.empty() || b.type == "pci-bus" : b.name == want_bus))
                    return o;
            for (auto &c : o->children)
                if (auto *f = find(c.get())) return f;
            return nullptr;
        };
        bus_owner = find(object_root());
        if (!bus_owner)
            throw UsageError("-device " + driver + ": No '" + std::string(dc->bus_type) + "' bus found for device '" +
                             driver + "'");
    }
    ts_object *o = object_new(nullptr, driver, kv.get("id"), "-device");
    try {
        for (auto &[k, v] : kv.items)
            if (k != "driver" && k != "id" && k != "bus") object_set_prop(o, k, v);
        object_realize(o);
    } catch (const UsageError &e) {
        throw UsageError("-device " + driver + ": " + e.what());
    }
    if (bus_owner) {
        for (auto &b : bus_owner->buses)
            if (b.type == dc->bus_type) {
                b.children.push_back(o);
                break;
            }
        o->bus_parent = bus_owner;
        const auto *oc = static_cast<const ts_device_class *>(bus_owner->type->cls);
        ts_error err{};
        if (oc->plug && oc->plug(bus_owner->instance, o, &err) != TS_OK)
            throw UsageError("-device " + driver + ": " + err.message);
    }
    return o;
}

}  // namespace

int run_machine(Config &cfg) {
    g_log_mask = cfg.log_mask;
    set_log_file(cfg.log_file);
    set_msg_timestamp(cfg.msg_timestamp);
    set_guest_error_sink([](std::string_view m) { log_printf(TS_LOG_GUEST_ERROR, "%.*s\n", int(m.size()), m.data()); });
    set_mmio_lock_hooks(mmio_lock, mmio_unlock);
    vcpu_set_thread_names(cfg.debug_threads);
    {
        // -rtc base: an offset from the host's time, or (clock=vm) an origin
        // the virtual clock counts from; a given date is exact to the second.
        int64_t now = clock_ns(Clock::Host), origin = now;
        if (cfg.rtc_base == "localtime") {
            time_t t = time(nullptr);
            struct tm lt;
            localtime_r(&t, &lt);
            origin = now + int64_t(lt.tm_gmtoff) * 1000000000;
        } else if (!cfg.rtc_base.empty() && cfg.rtc_base != "utc") {
            struct tm tm {};
            if (!strptime(cfg.rtc_base.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) &&
                !strptime(cfg.rtc_base.c_str(), "%Y-%m-%d", &tm))
                throw UsageError("invalid datetime format\nvalid formats: '2006-06-17T16:01:21' or '2006-06-17'");
            origin = int64_t(timegm(&tm)) * 1000000000;
        }
        if (cfg.rtc_clock_vm) clock_host_follow_virtual(origin);
        else if (origin != now) clock_host_set_offset(origin - now);
    }

    std::string board = cfg.machine.get("type");
    if (board.empty()) board = default_board(cfg);
    if (board.empty())
        for (const auto &e : plugin_registry().not_installed_of_kind(TypeKind::Board))
            if (is_default_for(e.category, cfg.target))
                throw UsageError("No machine specified, and there is no default (the default machine '" + e.type +
                                 "' is provided by plugin " + e.file +
                                 ", which is not installed)\nUse -machine help to list supported machines");
    if (board.empty())
        throw UsageError("No machine specified, and there is no default (no board plugin for " + cfg.target +
                         " was found; 'tessera -plugins' lists what was found)\nUse -machine help to list supported machines");
    const TypeImpl &bt = type_get(board, "-machine");
    if (bt.kind != TypeKind::Board)
        throw UsageError("-machine " + board + ": unsupported machine type\nUse -machine help to list supported machines");
    auto *bc = static_cast<const ts_board_class *>(bt.cls);
    choose_accel(cfg);
    check_objects(cfg);
    export_config(cfg, board, *bc);
    if (!cfg.plugins.empty()) instrument_load(cfg.plugins, cfg.target, cfg.smp_cpus, cfg.smp_max);

    daemonize_start(cfg);
    bql_lock();
    setup_requests(cfg);
    uint64_t ram_size = std::stoull(host_config("ram-size"));
    if (ram_size) create_ram(cfg, ram_size);

    // Chardevs, then the default serial/monitor wiring the reference does.
    for (const auto &kv : cfg.chardevs) chardev_new(kv.get("id"), kv);
    std::vector<std::string> serials = cfg.serials;
    std::vector<Config::Monitor> monitors = cfg.monitors;
    if (!cfg.nodefaults) {
        if (cfg.nographic) {
            if (cfg.default_serial && cfg.default_monitor) serials.push_back("mon:stdio");
            else if (cfg.default_serial) serials.push_back("stdio");
            else if (cfg.default_monitor) monitors.push_back({"stdio", "", false, false});
        }
    }
    mux_set_escape_char(cfg.echr);
    mux_set_hooks({[] { host_table_get()->request_shutdown(TS_SHUTDOWN_HOST_QUIT, 0); }, nullptr});
    for (size_t i = 0; i < serials.size(); i++) {
        std::string id = chardev_from_legacy(serials[i], "serial" + std::to_string(i));
        serial_set_chardev(static_cast<unsigned>(i), id);
    }
    qmp_set_identity({cfg.name, cfg.uuid.empty() ? "00000000-0000-0000-0000-000000000000" : cfg.uuid, cfg.target});
    {
        // The monitor reaches QMP and the gdbstub through hooks (they are
        // built on top of it).
        HmpHooks hk;
        hk.emit_event = [](std::string_view e) { qmp_emit_event(e); };
        hk.gdbserver = [](std::string_view spec) { gdbstub_start(spec); };
        hk.name = cfg.name;
        if (!cfg.uuid.empty()) hk.uuid = cfg.uuid;
        hmp_set_hooks(std::move(hk));
    }
    for (size_t i = 0; i < monitors.size(); i++) {
        const auto &m = monitors[i];
        const std::string id = "compat_monitor" + std::to_string(i);
        if (m.control) {
            if (m.chardev.empty()) qmp_start_legacy(m.spec, id, m.pretty);
            else qmp_start(m.chardev, m.pretty);
            continue;
        }
        monitor_hmp_start(m.chardev.empty() ? chardev_from_legacy(m.spec, id) : m.chardev);
    }
    if (!cfg.gdb.empty()) gdbstub_start(cfg.gdb);
    // mon:stdio on a serial: the serial's chardev is a mux with a monitor on it.
    for (size_t i = 0; i < serials.size(); i++)
        if (serials[i].rfind("mon:", 0) == 0) monitor_hmp_start("serial" + std::to_string(i));

    // Block nodes and drives; if=virtio drives become virtio-blk devices.
    std::vector<KeyVals> virtio_drives;
    block_set_virtio_drive_hook([&](const std::string &id) {
        KeyVals kv;
        kv.set("driver", "virtio-blk-device");
        kv.set("drive", id);
        virtio_drives.push_back(std::move(kv));
    });
    for (const auto &b : cfg.blockdevs) {
        try {
            block_open_blockdev(b.kv);
        } catch (const UsageError &e) {
            throw UsageError("-blockdev " + b.text + ": " + e.what());
        }
    }
    for (const auto &d : cfg.drives) {
        try {
            block_open_drive(d.kv, cfg.snapshot);
        } catch (const UsageError &e) {
            throw UsageError("-drive " + d.text + ": " + e.what());
        }
    }

    net::create_backends(cfg.objects);

    // The board: /machine.
    ts_object *machine = object_new_named(object_root(), board, "machine");
    for (auto &[k, v] : cfg.machine.items) {
        if (k == "type" || k == "accel" || k == "memory-backend" || k == "dump-guest-core" || k == "mem-merge")
            continue;
        if (k == "usb" || k == "graphics") {
            if (k == "usb" && parse_bool(v)) throw UsageError("-machine usb=on: no USB controller plugin is available");
            continue;
        }
        try {
            object_set_prop(machine, k, v);
        } catch (const UsageError &e) {
            throw UsageError("-machine " + board + "," + k + "=" + v + ": " + e.what());
        }
        host_config_set("machine." + k, v);
    }
    {
        ts_error err{};
        if (cfg.seed) host_set_random_seed(*cfg.seed);
        if (bc->init(machine->instance, &err) != TS_OK) throw UsageError(err.message);
        machine->realized = true;
    }
    for (const auto &kv : virtio_drives) plug_device(kv);
    for (const auto &kv : cfg.devices) plug_device(kv);
    {
        // -nic and -net nic: the PCI NIC where the board has a PCI bus.
        const bool pci = type_find_loaded("gpex-pcihost") != nullptr;
        for (const auto &kv : net::nic_devices(pci ? "virtio-net-pci" : "virtio-net-device")) plug_device(kv);
        net::check_peers();
    }
    if (auto d = cfg.machine.find("dumpdtb")) {
        if (Fdt *f = host_machine_fdt()) {
            f->save(*d);
            bql_unlock();
            return 0;  // the reference exits after dumping
        }
        throw UsageError("-machine dumpdtb: this machine has no device tree");
    }
    for (unsigned i = 0; i < vcpu_count(); i++) object_realize(vcpu_object(i));
    object_reset_all();
    instrument_start();   // -plugin: attach to the vCPUs (no-op without plugins)

    if (!cfg.pidfile.empty()) write_pidfile(cfg.pidfile);
    MainLoop::instance().install_termination_signals([](const SignalEvent &ev) {
        error_report(termination_message(ev));
        qmp_note_shutdown_cause(TS_SHUTDOWN_HOST_QUIT, true);
        g_req.exit_status = 0;
        host_table_get()->request_shutdown(TS_SHUTDOWN_HOST_QUIT, 0);
    });
    if (!cfg.loadvm.empty()) {
        try {
            loadvm(cfg.loadvm);
        } catch (const SnapshotError &e) {
            throw UsageError(e.what());
        }
    }
    if (cfg.icount) {
        vcpu_single_thread_prepare("-icount");
        clock_icount_enable(cfg.icount_shift, cfg.icount_sleep);
    } else if (cfg.accel_props.has("thread") && cfg.accel_props.get("thread") == "single") {
        vcpu_single_thread_prepare("-accel tcg,thread=single");
    }
    daemonize_ready();
    vcpus_create_threads();
    if (!cfg.start_paused) vm_start();
    else clock_virtual_stop();
    bql_unlock();
    MainLoop::instance().run();  // takes the kernel lock around dispatch
    bql_lock();
    vm_stop(RunState::Shutdown);
    vcpus_destroy();
    instrument_finish();
    qmp_stop_all();
    block_close_all();
    chardev_remove_all();
    bql_unlock();
    plugin_registry().finish();
    return g_req.exit_status;
}

}  // namespace tessera
