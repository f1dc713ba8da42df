/* The classes a plugin hands the kernel for each type in its manifest. */
#ifndef TESSERA_CLASSES_H
#define TESSERA_CLASSES_H

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What every instantiable type has. Lifecycle: create (properties are set by
 * the kernel afterwards from options, -global and -set, and read back by the
 * instance with host->prop_*) -> realize -> reset ... -> destroy. */
typedef struct ts_object_class {
    uint32_t size;
    const ts_prop_decl *props;
    uint32_t prop_count;
    /* Guest-visible state; TS_STATE_NONE only for stateless types. */
    const ts_state_decl *state;
    void *(*create)(ts_object *obj, ts_error *err);
    ts_status (*realize)(void *self, ts_error *err);
    void (*reset)(void *self);
    void (*destroy)(void *self);
    /* Base pointer the state fields are relative to (usually self). */
    void *(*state_base)(void *self);
} ts_object_class;

/* TS_KIND_DEVICE */
typedef struct ts_device_class {
    uint32_t size;
    ts_object_class base;
    /* Bus this device plugs into ("virtio-bus", "pci-bus"...), NULL: none
     * (created and wired by a board, or standalone). */
    const char *bus_type;
    /* Whether a user may create it with -device. */
    int user_creatable;
    /* A child was plugged into a bus this device created with host->bus_add. */
    ts_status (*plug)(void *self, ts_object *child, ts_error *err);
    void (*unplug)(void *self, ts_object *child);
} ts_device_class;

/* Why ts_cpu_class.exec returned. */
typedef enum ts_cpu_exit {
    TS_CPU_EXIT_REQUEST = 0, /* kick() was called, or budget used */
    TS_CPU_HALTED = 1,       /* WFI with nothing pending: wait for host->cpu_wake */
    TS_CPU_DEBUG = 2,        /* breakpoint, watchpoint or single step done */
    TS_CPU_SHUTDOWN = 3,     /* the CPU asked to stop the machine (e.g. HTIF) */
} ts_cpu_exit;

typedef enum ts_access {
    TS_ACCESS_READ = 0,
    TS_ACCESS_WRITE = 1,
    TS_ACCESS_FETCH = 2,
} ts_access;

/* TS_KIND_CPU. Guest code runs in exec() on the CPU's own thread without the
 * kernel lock; MMIO goes through host->as_rw which takes it. */
typedef struct ts_cpu_class {
    uint32_t size;
    ts_object_class base;
    const char *target;            /* ISA name: "riscv64" */
    const char *description;
    ts_cpu_exit (*exec)(void *cpu);
    /* Thread-safe: make exec return at the next block boundary. */
    void (*kick)(void *cpu);
    /* Is an interrupt or other wake-up condition pending? */
    int (*has_work)(void *cpu);
    uint64_t (*get_pc)(void *cpu);
    void (*set_pc)(void *cpu, uint64_t pc);
    /* Debug translation of a virtual address with the CPU's current MMU
     * state; returns TS_ERROR if unmapped. */
    ts_status (*translate)(void *cpu, uint64_t vaddr, ts_access access, uint64_t *paddr);
    /* Human-readable register dump (info registers, -d cpu). */
    size_t (*dump_state)(void *cpu, char *buf, size_t len);
    /* Disassemble one instruction; returns its length in bytes (0: invalid). */
    size_t (*disas)(void *cpu, uint64_t pc, const uint8_t *bytes, size_t avail,
                    char *out, size_t outlen);
    /* gdb: the target description XML for annex ("target.xml", ...). */
    const char *(*gdb_xml)(void *cpu, const char *annex);
    /* gdb register access by gdb's number; returns the byte count, 0 if no
     * such register. */
    size_t (*gdb_read_reg)(void *cpu, int regno, uint8_t *buf, size_t len);
    size_t (*gdb_write_reg)(void *cpu, int regno, const uint8_t *buf, size_t len);
    /* Optional CPU-level capabilities ("riscv.timer.v1"...); NULL if absent. */
    const void *(*get_capability)(void *cpu, const char *id);
} ts_cpu_class;

/* CPU capability (ABI 1.2): get_capability(cpu, TS_CPU_ICOUNT_V1). Under
 * -icount the kernel runs every CPU on one thread in slices of counted
 * instructions, so that virtual time is a function of the instructions
 * executed and two runs of the same guest are identical. */
#define TS_CPU_ICOUNT_V1 "tessera.icount.v1"

typedef struct ts_cpu_icount_ops {
    uint32_t size;
    /* As exec, but returns TS_CPU_EXIT_REQUEST once `budget` instructions
     * have executed (or at the first block boundary after); *executed is
     * how many ran (traps count as one). Must not depend on anything but
     * guest state and the calls the kernel makes. */
    ts_cpu_exit (*exec_budget)(void *cpu, uint64_t budget, uint64_t *executed);
} ts_cpu_icount_ops;

/* TS_KIND_BOARD. The instance is the machine; init builds it: memory map,
 * CPUs, devices, wiring, device tree, firmware and kernel loading. */
typedef struct ts_board_class {
    uint32_t size;
    ts_object_class base;
    const char *description;
    const char *default_cpu_type;  /* e.g. "rv64" */
    uint64_t default_ram_size;
    uint32_t max_cpus;
    int is_default;                /* default machine for its target */
    const char *target;            /* ISA name, "riscv64"; NULL for any */
    ts_status (*init)(void *self, ts_error *err);
    /* ABI 1.1: system_powerdown (QMP/HMP, libvirt's shutdown and reboot)
     * presses the board's power button; NULL: the board has none and the
     * POWERDOWN event is all that happens (as the reference's riscv virt
     * without ACPI). Called with the kernel lock held. */
    void (*powerdown)(void *self);
} ts_board_class;

/* TS_KIND_BLOCK: a block driver. Instances are nodes in the block graph,
 * opened with their options as properties. Offsets and lengths in bytes. */
typedef struct ts_block_driver_class {
    uint32_t size;
    ts_object_class base;
    const char *format_name;
    /* Recognise an image from its first bytes (score 0..100), may be NULL. */
    int (*probe)(const uint8_t *buf, size_t len, const char *filename);
    ts_status (*pread)(void *self, uint64_t offset, void *buf, size_t len, ts_error *err);
    ts_status (*pwrite)(void *self, uint64_t offset, const void *buf, size_t len, ts_error *err);
    ts_status (*flush)(void *self, ts_error *err);
    uint64_t (*length)(void *self);
    ts_status (*truncate)(void *self, uint64_t length, ts_error *err);
    ts_status (*discard)(void *self, uint64_t offset, uint64_t len, ts_error *err);
} ts_block_driver_class;

/* TS_KIND_NETDEV: a network backend. Frames from the guest arrive through
 * receive; frames to the guest go out with host->net_send. */
typedef struct ts_netdev_class {
    uint32_t size;
    ts_object_class base;
    int64_t (*receive)(void *self, const uint8_t *frame, size_t len);
    /* Appended (ABI 1.2), read when size covers them; may be NULL.
     * Can this instance carry frames prefixed with a virtio_net_hdr (a tap
     * with IFF_VNET_HDR)? Asked when a NIC attaches to it. */
    int (*vnet_capable)(void *self);
    /* The link carries vnet-prefixed frames both ways from now on (on=1, see
     * net.h) or plain frames (0). Called before any frame. */
    void (*set_vnet)(void *self, int on);
} ts_netdev_class;

#ifdef __cplusplus
}
#endif
#endif /* TESSERA_CLASSES_H */
