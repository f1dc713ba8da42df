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

#ifdef __cplusplus
}
#endif
#endif /* TESSERA_BLOCK_H */
