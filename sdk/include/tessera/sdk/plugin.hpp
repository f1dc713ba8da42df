// C++ conveniences over the C plugin ABI for writing a plugin: the host
// pointer, the descriptor, and exception-safe trampolines. Header-only; only
// <tessera/*.h> underneath, so it works for in-tree and out-of-tree plugins.
#pragma once

#include <tessera/plugin.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string_view>
#include <stdexcept>

namespace ts {

// The kernel's host table, set by the descriptor's init before any class of
// this plugin is used.
inline const ts_host *&host_slot() {
    static const ts_host *h = nullptr;
    return h;
}
inline const ts_host &host() { return *host_slot(); }

// Throw inside plugin code; trampolines turn it into a ts_error.
struct Error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

inline void set_error(ts_error *err, std::string_view msg) {
    if (!err) return;
    size_t n = msg.size() < sizeof(err->message) - 1 ? msg.size() : sizeof(err->message) - 1;
    std::memcpy(err->message, msg.data(), n);
    err->message[n] = '\0';
}

// Run f; an exception becomes TS_ERROR with its message. Exceptions never
// cross the C ABI.
template <class F>
ts_status guarded(ts_error *err, F &&f) noexcept {
    try {
        f();
        return TS_OK;
    } catch (const std::exception &e) {
        set_error(err, e.what());
    } catch (...) {
        set_error(err, "unknown error");
    }
    return TS_ERROR;
}

inline bool log_enabled(uint64_t mask) { return (*host().log_mask & mask) != 0; }

}  // namespace ts

// Defines the plugin's manifest and exported descriptor.
//   TESSERA_PLUGIN("riscv", "1.0.0", manifest_types_text, get_class_fn)
// manifest_types_text is the "type ..." lines (see tessera/abi.h).
#define TS_STR2(x) #x
#define TS_STR(x) TS_STR2(x)
#ifndef TESSERA_PLUGIN_BUILD_ID
#define TESSERA_PLUGIN_BUILD_ID __DATE__ " " __TIME__
#endif
#define TESSERA_PLUGIN(NAME, VERSION, TYPES, GET_CLASS) \
    TESSERA_PLUGIN_WITH_CAPABILITIES(NAME, VERSION, TYPES, GET_CLASS, nullptr)
// Same, for a plugin that also offers capabilities by id (get_capability).
#define TESSERA_PLUGIN_WITH_CAPABILITIES(NAME, VERSION, TYPES, GET_CLASS, GET_CAPABILITY) \
    TESSERA_MANIFEST(ts_plugin_manifest_text,                                        \
                     "abi " TS_STR(TESSERA_ABI_MAJOR) "." TS_STR(TESSERA_ABI_MINOR) "\n" \
                     "plugin " NAME "\n"                                             \
                     "version " VERSION "\n" TYPES);                                  \
    static ts_status ts_plugin_init(const ts_host *h, ts_error *err) {               \
        if (!h || h->abi_major != TESSERA_ABI_MAJOR) {                               \
            ::ts::set_error(err, "host ABI major mismatch");                          \
            return TS_ERROR;                                                         \
        }                                                                            \
        ::ts::host_slot() = h;                                                       \
        return TS_OK;                                                                \
    }                                                                                \
    extern "C" TESSERA_EXPORT const ts_plugin_descriptor tessera_plugin_descriptor = { \
        sizeof(ts_plugin_descriptor), TESSERA_ABI_MAJOR, TESSERA_ABI_MINOR, NAME,     \
        VERSION, TESSERA_PLUGIN_BUILD_ID, ts_plugin_manifest_text, ts_plugin_init,   \
        GET_CLASS, GET_CAPABILITY, nullptr}
