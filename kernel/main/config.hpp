// The machine configuration assembled from the command line: every option of
// the reference is either handled here or refused by name.
#pragma once

#include "instrument/instrument.hpp"
#include "options/keyval.hpp"
#include "options/table.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tessera {

struct Config {
    std::string program;                 // basename of argv[0]
    std::string target = "riscv64";      // from the program name
    std::string default_cpu;             // from the program name ("rv32" for riscv32)

    // Help requests, answered after plugin discovery.
    std::vector<std::string> help_requests;  // "machine", "device", "device:TYPE", "cpu", ...

    KeyVals machine;                     // type=..., props
    std::vector<std::string> accels;     // in preference order
    KeyVals accel_props;
    std::string cpu;                     // model[,props]
    KeyVals cpu_props;
    uint64_t ram_size = 0;               // 0: the board's default
    uint64_t maxmem = 0;
    unsigned ram_slots = 0;
    std::string mem_path;
    bool mem_prealloc = false;
    unsigned smp_cpus = 0, smp_max = 0, sockets = 0, cores = 0, threads = 0;
    std::string kernel, initrd, append, dtb, bios;
    std::vector<std::string> firmware_dirs;   // -L
    std::vector<KeyVals> devices;
    std::vector<KeyVals> chardevs;
    std::vector<KeyVals> objects;
    std::vector<KeyVals> audiodevs;
    struct BlockOption {
        std::string text;                // as typed, for error messages
        KeyVals kv;
    };
    std::vector<BlockOption> blockdevs;
    std::vector<BlockOption> drives;
    bool snapshot = false;
    bool perfmap = false;                // -perfmap: the JIT writes /tmp/perf-<pid>.map
    bool jitdump = false;                // -jitdump: the JIT writes jit-<pid>.dump for perf
    std::string gdb;                     // -gdb / -s: where the gdbstub listens
    std::vector<std::string> serials;
    struct Monitor {
        std::string spec;                // legacy spec, or "" with chardev id
        std::string chardev;
        bool control = false;            // QMP
        bool pretty = false;
    };
    std::vector<Monitor> monitors;
    bool default_monitor = true, default_serial = true;
    bool nographic = false;
    std::string display;                 // "" = default
    bool nodefaults = false;
    bool no_reboot = false, no_shutdown = false;
    KeyVals actions;                     // -action
    bool start_paused = false;
    std::string loadvm;  // -loadvm: start from this snapshot
    // -icount: virtual time from executed instructions (shift -1: auto).
    bool icount = false, icount_sleep = true;
    int icount_shift = 3;
    std::optional<uint64_t> seed;  // -seed
    bool rtc_clock_vm = false;     // -rtc clock=vm
    std::string name;
    bool debug_threads = false;
    std::string uuid;
    std::string pidfile;
    bool daemonize = false;
    uint64_t log_mask = 0;
    std::string log_file;
    bool msg_timestamp = false;
    std::string rtc_base = "utc";
    int echr = 0x01;
    bool list_plugins = false;
    bool print_version = false;
    bool print_help = false;
    bool only_migratable = false;
    std::vector<PluginRequest> plugins;  // -plugin
};

// Builds the configuration; throws UsageError ("-foo: ...") for bad input and
// for options tessera recognises but does not implement.
Config build_config(int argc, char **argv);

// "riscv64" and default CPU from the name the program was invoked by.
void config_target_from_program(Config &cfg, std::string_view argv0);

}  // namespace tessera
