/* Block layer extensions for TS_KIND_BLOCK drivers (ts_block_driver_class).
 *
 * Graph: a node is an instance of a block driver. A format or filter driver
 * names its children with properties of type TS_PROP_DRIVE (raw's "file");
 * the kernel opens every child before the parent is realized, stores the
 * child's node name in that property, and offers the child's I/O through the
 * kernel capability below.
 *
 * Generic node options: the kernel parses read-only, cache.direct,
 * cache.no-flush, discard, detect-zeroes, force-share and auto-read-only
 * itself (children inherit them) and, when a driver declares a property with
 * one of these names, sets it to the node's effective value before realize.
 *
 * Flush: the kernel flushes a node's children after the node's own flush, so
 * a driver with nothing of its own to flush may leave flush NULL. Requests
 * reach a driver already bounds-checked against its length(), which the
 * kernel asks once after realize (and again after a resize).
 *
 * Threads: the kernel calls a node's functions from one thread at a time.
 */
#ifndef TESSERA_BLOCK_H
#define TESSERA_BLOCK_H

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Kernel capability: host->get_capability(TS_BLOCK_CHILD_CAP). */
#define TS_BLOCK_CHILD_CAP "tessera.block-child.v1"

typedef struct ts_block_child_ops {
    uint32_t size;
    /* The child node behind TS_PROP_DRIVE property `prop` of `node` (the
     * driver's own ts_object); NULL if the property is unset. */
    ts_object *(*child)(ts_object *node, const char *prop);
    /* I/O on a child node, bounds-checked by the kernel. */
    ts_status (*pread)(ts_object *child, uint64_t offset, void *buf, size_t len, ts_error *err);
    ts_status (*pwrite)(ts_object *child, uint64_t offset, const void *buf, size_t len, ts_error *err);
    ts_status (*flush)(ts_object *child, ts_error *err);
    uint64_t (*length)(ts_object *child);
    ts_status (*discard)(ts_object *child, uint64_t offset, uint64_t len, ts_error *err);
    /* The node's name ("#block003" when the user gave none). */
    const char *(*node_name)(ts_object *node);
    /* Appended (check `size` before use). */
    /* Resizes a child (a format growing its image file). */
    ts_status (*truncate)(ts_object *child, uint64_t length, ts_error *err);
    /* From a format's realize: opens the image `filename` (relative names
     * are taken from the directory of `node`'s own file; `format` NULL
     * probes) read-only as child `prop` of `node`, as the reference opens
     * a backing file named in an image header. NULL with err->message empty
     * when the user disabled it (prop=null); NULL with a message on error.
     * The kernel owns the new nodes and closes them with `node`. */
    ts_object *(*open_backing)(ts_object *node, const char *prop, const char *filename, const char *format,
                               ts_error *err);
    /* The bytes of `-object secret,id=ID` (password-secret= options) into
     * buf (at most len bytes, NUL-terminated); returns the secret's length,
     * or -1 with a message in err (no such secret, or too long for buf). */
    int64_t (*secret)(const char *id, char *buf, size_t len, ts_error *err);
} ts_block_child_ops;

/* Permissions a node's users take, as the reference's image locking names
 * them; bit n is locked at byte 100+n (held) and 200+n (not shared). */
#define TS_BLOCK_PERM_CONSISTENT_READ 0x1u
#define TS_BLOCK_PERM_WRITE 0x2u
#define TS_BLOCK_PERM_WRITE_UNCHANGED 0x4u
#define TS_BLOCK_PERM_RESIZE 0x8u
#define TS_BLOCK_PERM_ALL 0xfu

/* Plugin capability: descriptor->get_capability(TS_BLOCK_PERM_CAP), for
 * drivers that lock images (file). The kernel calls set_perm on a realized
 * node whenever the union of the permissions its users need (perm) or the
 * intersection of what they share (shared) changes. On TS_ERROR nothing
 * changed and err says why (e.g. another process holds a conflicting lock). */
#define TS_BLOCK_PERM_CAP "tessera.block-perm.v1"

typedef struct ts_block_perm_ops {
    uint32_t size;
    ts_status (*set_perm)(void *self, uint64_t perm, uint64_t shared, ts_error *err);
} ts_block_perm_ops;

/* Plugin capability: descriptor->get_capability(TS_BLOCK_CREATE_CAP), for
 * format drivers that can make new images (qcow2; the kernel uses it for
 * the -snapshot overlay). create formats `file`, a writable node the kernel
 * opened (its old contents are discarded), as an empty image of `size`
 * bytes; `backing` and `backing_format` (may be NULL) go in the header. */
#define TS_BLOCK_CREATE_CAP "tessera.block-create.v1"

typedef struct ts_block_create_ops {
    uint32_t size;
    ts_status (*create)(ts_object *file, uint64_t size, const char *backing, const char *backing_format,
                        ts_error *err);
} ts_block_create_ops;

/* Plugin capability: descriptor->get_capability(TS_BLOCK_SNAPSHOT_CAP), for
 * format drivers with internal snapshots (qcow2), used by savevm, loadvm,
 * delvm, info snapshots and -loadvm (ABI 1.2).
 *
 * The VM state lives in the image beside the disk: vmstate_write addresses
 * a byte stream of the node's own (pos 0 is its start) that a following
 * create() takes into the snapshot with vm_state_size bytes; vmstate_read
 * reads a snapshot's (so a load can be checked before anything is
 * reverted). A snapshot is named by its id or its name (ids are tried
 * first, as the reference does). Errors use the reference's words. */
#define TS_BLOCK_SNAPSHOT_CAP "tessera.block-snapshot.v1"

typedef struct ts_block_snapshot_info {
    uint32_t size;
    char id[128];
    char name[256];
    uint64_t vm_state_size;
    uint32_t date_sec, date_nsec;
    uint64_t vm_clock_nsec;
    int64_t icount;      /* -1: not recorded */
} ts_block_snapshot_info;

typedef struct ts_block_snapshot_ops {
    uint32_t size;
    /* Fills at most max entries; returns how many snapshots there are (may
     * exceed max), or -1 with err set. */
    int64_t (*list)(void *self, ts_block_snapshot_info *out, size_t max, ts_error *err);
    ts_status (*vmstate_write)(void *self, uint64_t pos, const void *buf, size_t len, ts_error *err);
    ts_status (*vmstate_read)(void *self, const char *id_or_name, uint64_t pos, void *buf, size_t len,
                              ts_error *err);
    /* Takes the disk as it is now, and vm_state_size bytes of VM state
     * written since (0: a disk-only snapshot). */
    ts_status (*create)(void *self, const char *name, uint64_t vm_state_size, uint64_t vm_clock_nsec,
                        ts_error *err);
    ts_status (*apply)(void *self, const char *id_or_name, ts_error *err);
    ts_status (*remove)(void *self, const char *id_or_name, ts_error *err);
} ts_block_snapshot_ops;

#ifdef __cplusplus
}
#endif
#endif /* TESSERA_BLOCK_H */
