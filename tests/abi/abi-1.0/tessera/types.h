/* Type declarations shared by the plugin ABI headers: properties, guest-visible
 * state, memory access callbacks. */
#ifndef TESSERA_TYPES_H
#define TESSERA_TYPES_H

#include "abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque kernel handles. */
typedef struct ts_object ts_object;           /* an instance in the object tree */
typedef struct ts_region ts_region;           /* a memory region */
typedef struct ts_address_space ts_address_space;
typedef struct ts_timer ts_timer;
typedef struct ts_bh ts_bh;                   /* bottom half: deferred main-loop callback */
typedef struct ts_chardev_fe ts_chardev_fe;   /* a device's end of a chardev */
typedef struct ts_block_be ts_block_be;       /* a device's end of a block node */
typedef struct ts_net_client ts_net_client;   /* a NIC's or netdev's end of a net link */

/* ---- Properties ------------------------------------------------------- */

typedef enum ts_prop_type {
    TS_PROP_BOOL = 1,
    TS_PROP_INT = 2,     /* signed 64-bit, range [min, max] */
    TS_PROP_UINT = 3,    /* unsigned 64-bit, range [min, max] */
    TS_PROP_SIZE = 4,    /* bytes, accepts k/M/G/T/P/E suffixes */
    TS_PROP_STRING = 5,
    TS_PROP_ENUM = 6,    /* one of enum_values (NULL-terminated) */
    TS_PROP_LINK = 7,    /* id of another object (link_type: its type or interface) */
    TS_PROP_CHARDEV = 8, /* id of a -chardev */
    TS_PROP_DRIVE = 9,   /* id of a -drive / -blockdev node */
    TS_PROP_NETDEV = 10, /* id of a -netdev */
    TS_PROP_MACADDR = 11,
} ts_prop_type;

/* One property, declared once; -device T,help, -global, -set, QMP
 * device-list-properties and error messages all come from it. */
typedef struct ts_prop_decl {
    uint32_t size;
    const char *name;
    ts_prop_type type;
    const char *default_value;   /* textual default, NULL = unset */
    int64_t min, max;            /* INT/UINT/SIZE ranges; min == max == 0: no limit */
    const char *const *enum_values;
    const char *link_type;
    const char *description;
} ts_prop_decl;

/* ---- Guest-visible state ------------------------------------------------ */

/* Each field is relative to the base pointer returned by the class's
 * state_base(). Declared by every device, CPU and board so that reset,
 * snapshots and migration come from one description. */
typedef enum ts_state_type {
    TS_STATE_U8 = 1,
    TS_STATE_U16 = 2,
    TS_STATE_U32 = 3,
    TS_STATE_U64 = 4,
    TS_STATE_BYTES = 5,  /* count raw bytes */
    TS_STATE_BOOL = 6,   /* stored as uint8_t */
    TS_STATE_TIMER = 7,  /* a ts_timer* at offset: its deadline is saved */
} ts_state_type;

typedef struct ts_state_field {
    const char *name;
    ts_state_type type;
    size_t offset;
    uint32_t count;      /* array elements (BYTES: byte count); 0 means 1 */
} ts_state_field;

typedef struct ts_state_decl {
    uint32_t size;
    const char *name;    /* section name, e.g. "ns16550a" */
    uint32_t version;
    uint32_t field_count;
    const ts_state_field *fields;
    /* optional hooks around save and after load (e.g. recompute IRQ lines). */
    void (*pre_save)(void *self);
    ts_status (*post_load)(void *self, ts_error *err);
} ts_state_decl;

/* Declares "this type has no guest-visible state" explicitly. */
#define TS_STATE_NONE ((const ts_state_decl *)0)

/* ---- Memory --------------------------------------------------------------- */

typedef enum ts_memtx {
    TS_MEMTX_OK = 0,
    TS_MEMTX_ERROR = 1,        /* device reported an error */
    TS_MEMTX_DECODE_ERROR = 2, /* nothing mapped there */
} ts_memtx;

/* MMIO callbacks; called with the kernel lock held. Offsets are relative to
 * the region; sizes are 1, 2, 4 or 8 within [min_access, max_access], wider or
 * narrower guest accesses are split or widened by the kernel. */
typedef struct ts_mmio_ops {
    uint32_t size;
    ts_memtx (*read)(void *opaque, uint64_t offset, unsigned size, uint64_t *value);
    ts_memtx (*write)(void *opaque, uint64_t offset, unsigned size, uint64_t value);
    uint8_t min_access;  /* 0 = 1 */
    uint8_t max_access;  /* 0 = 8 */
    uint8_t big_endian;  /* 0 (usual): registers are little endian; 1: big endian */
} ts_mmio_ops;

typedef enum ts_region_kind {
    TS_REGION_NONE = 0,  /* unmapped */
    TS_REGION_RAM = 1,
    TS_REGION_ROM = 2,   /* readable directly, writes ignored (logged) */
    TS_REGION_MMIO = 3,
} ts_region_kind;

/* Result of looking an address up in an address space: the flat range that
 * contains it. For RAM and ROM, host points at the byte for `start`; a target
 * may cache it until the memory map changes (see map_generation). */
typedef struct ts_flat_range {
    uint32_t size;
    ts_region_kind kind;
    uint64_t start;      /* first guest address of the range */
    uint64_t length;
    uint8_t *host;       /* RAM/ROM only */
    int writable;
} ts_flat_range;

/* ---- Clocks --------------------------------------------------------------- */
typedef enum ts_clock {
    TS_CLOCK_REALTIME = 0, /* host monotonic, always runs */
    TS_CLOCK_VIRTUAL = 1,  /* stops when the VM stops */
    TS_CLOCK_HOST = 2,     /* host wall clock (UTC), can jump */
} ts_clock;

/* ---- Logging (-d items) --------------------------------------------------- */
#define TS_LOG_GUEST_ERROR (1ull << 0)
#define TS_LOG_UNIMP       (1ull << 1)
#define TS_LOG_INT         (1ull << 2)
#define TS_LOG_IN_ASM      (1ull << 3)
#define TS_LOG_OUT_ASM     (1ull << 4)
#define TS_LOG_EXEC        (1ull << 5)
#define TS_LOG_CPU         (1ull << 6)
#define TS_LOG_MMU         (1ull << 7)
#define TS_LOG_PAGE        (1ull << 8)
#define TS_LOG_NOCHAIN     (1ull << 9)
#define TS_LOG_PLUGIN      (1ull << 10)
#define TS_LOG_STRACE      (1ull << 11)

#ifdef __cplusplus
}
#endif
#endif /* TESSERA_TYPES_H */
