/* Tessera plugin ABI: versioning, errors, the plugin descriptor and manifest.
 *
 * Rules (see sdk/README.md for the long form):
 *  - Plain C only. Every struct that crosses the boundary begins with `uint32_t size`
 *    (sizeof as the side that filled it saw it), so a newer side can tell which
 *    fields an older side knows about. New fields are only ever appended.
 *  - A minor version may append fields to structs, append functions to the host
 *    table, add type kinds and capability ids. Anything else needs a new major.
 *  - No C++ exception and no longjmp crosses the boundary: calls return a status
 *    and fill a ts_error.
 */
#ifndef TESSERA_ABI_H
#define TESSERA_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 1.1 appended: ts_board_class.powerdown, the tessera.cpu-info.v1 CPU
 * capability (debug.h), host-table entries for networking (net.h), plugin
 * availability (type_available) and block backing children (block.h), and the
 * tessera.instrument.v1 CPU capability (instrument.h). Plugins built against
 * 1.0 headers still load: the kernel reads appended fields only when a
 * structure's size says they are there.
 * 1.2 added the tessera.block-snapshot.v1 block capability (block.h), the
 * tessera.icount.v1 CPU capability (classes.h), ts_host.guest_random, and
 * vnet-header fields appended to ts_netdev_class (classes.h) and
 * ts_net_nic_ops (net.h). */
#define TESSERA_ABI_MAJOR 1
#define TESSERA_ABI_MINOR 2

/* The one symbol every plugin exports. */
#define TESSERA_DESCRIPTOR_SYMBOL "tessera_plugin_descriptor"
/* ELF section holding the plugin's manifest text, read by the kernel without
 * loading the plugin (so `-device help` never runs plugin code). */
#define TESSERA_MANIFEST_SECTION ".tessera_manifest"

#if defined(_WIN32)
#define TESSERA_EXPORT __declspec(dllexport)
#else
#define TESSERA_EXPORT __attribute__((visibility("default")))
#endif

typedef enum ts_status {
    TS_OK = 0,
    TS_ERROR = -1,
} ts_status;

/* An error message filled by whichever side failed; one line, no trailing
 * newline. The message names the thing that failed; the caller adds context. */
typedef struct ts_error {
    char message[512];
} ts_error;

/* What a type is; the kernel routes -device, -netdev, -M ... by kind. */
typedef enum ts_type_kind {
    TS_KIND_TARGET = 1,   /* an ISA: provides CPU types */
    TS_KIND_CPU = 2,      /* a CPU model (-cpu NAME) */
    TS_KIND_BOARD = 3,    /* a machine (-M NAME) */
    TS_KIND_DEVICE = 4,   /* -device NAME or board-created */
    TS_KIND_BLOCK = 5,    /* block driver (-blockdev driver=NAME) */
    TS_KIND_NETDEV = 6,   /* -netdev NAME */
    TS_KIND_CHARDEV = 7,  /* -chardev NAME */
    TS_KIND_DISPLAY = 8,  /* -display NAME */
    TS_KIND_AUDIODEV = 9, /* -audiodev NAME */
    TS_KIND_OBJECT = 10,  /* -object NAME */
} ts_type_kind;

struct ts_host;

/* The exported descriptor. `manifest` points at the same text that is placed
 * in TESSERA_MANIFEST_SECTION; the kernel checks they agree after loading.
 *
 * Manifest text, one record per line:
 *   abi <major>.<minor>
 *   plugin <name>
 *   version <version>
 *   type <kind> <type-name> <parent-or-'-'> <category> <description...>
 * kinds: target cpu board device block netdev chardev display audiodev object.
 * category (devices): the -device help group, e.g. storage network input
 * display sound misc uncategorized, or "board" for devices only boards
 * create (not listed by -device help); (boards): "default:T1,T2" makes the
 * board the default machine of targets T1, T2; '-' when none applies. */
typedef struct ts_plugin_descriptor {
    uint32_t size;
    uint16_t abi_major;
    uint16_t abi_minor;
    const char *name;
    const char *version;
    const char *build_id;
    const char *manifest;
    /* Called once, on the first use of any of the plugin's types. */
    ts_status (*init)(const struct ts_host *host, ts_error *err);
    /* The class of one of the manifest's types: a ts_device_class,
     * ts_cpu_class, ts_board_class, ... chosen by the type's kind. */
    const void *(*get_class)(const char *type_name);
    /* Optional capability by versioned id ("vendor.thing.vN"); NULL if absent. */
    const void *(*get_capability)(const char *id);
    /* Called at exit if init succeeded. May be NULL. */
    void (*fini)(void);
} ts_plugin_descriptor;

#ifdef __cplusplus
}
#endif

/* Declare the manifest in its section. Use once per plugin, at file scope. */
#define TESSERA_MANIFEST(ident, text)                                            \
    __attribute__((section(TESSERA_MANIFEST_SECTION), used, aligned(1)))        \
    const char ident[] = text

#endif /* TESSERA_ABI_H */
