// -plugin: QEMU-compatible TCG instrumentation plugins (API version 5).
// The kernel loads the plugin files, exports the qemu_plugin_* functions
// (api.cpp) and drives the CPUs through their tessera.instrument.v1
// capability. Nothing here runs unless a -plugin option was given.
#pragma once

#include <string>
#include <vector>

namespace tessera {

struct PluginRequest {
    std::string path;
    std::vector<std::string> args;   // "name=value", as handed to qemu_plugin_install
};

// One -plugin argument: [file=]PATH[,NAME=VALUE...]; a repeated file gets
// the new arguments appended. Returns true for "-plugin help" (print
// instrument_help() and exit). Throws UsageError.
bool instrument_parse_option(std::vector<PluginRequest> &list, const std::string &arg);
const char *instrument_help();

// dlopen each file, check qemu_plugin_version, call qemu_plugin_install.
// Throws UsageError worded as the reference ("Could not load plugin ...").
void instrument_load(const std::vector<PluginRequest> &list, const std::string &target,
                     unsigned smp_cpus, unsigned max_cpus);
bool instrument_active();

// After the CPUs are realized and reset, before they run: attach to each
// vCPU and run the vcpu_init callbacks. Throws UsageError if a CPU cannot
// be instrumented.
void instrument_start();
// After the vCPUs stopped for good: vcpu_exit, then atexit callbacks (once).
void instrument_finish();

}  // namespace tessera
