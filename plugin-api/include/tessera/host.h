/* The host table: every kernel service a plugin may use. A plugin receives it
 * in its descriptor's init() and keeps the pointer. Functions are appended in
 * minor versions; check `size` before using one added after 1.0. */
#ifndef TESSERA_HOST_H
#define TESSERA_HOST_H

#include "types.h"
#include "net.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*ts_timer_cb)(void *opaque);
typedef void (*ts_bh_cb)(void *opaque);
typedef void (*ts_fd_cb)(void *opaque, int fd);
typedef void (*ts_irq_handler)(void *opaque, int line, int level);
typedef void (*ts_ram_write_cb)(void *opaque, uint64_t gpa, uint64_t len);

typedef struct ts_irq ts_irq;  /* an output line of a device, connected or not */

/* Chardev front-end callbacks (the device side). */
typedef struct ts_chardev_ops {
    uint32_t size;
    /* How many bytes the device can take now. */
    size_t (*can_receive)(void *opaque);
    void (*receive)(void *opaque, const uint8_t *buf, size_t len);
    /* TS_CHR_EVENT_* */
    void (*event)(void *opaque, int event);
} ts_chardev_ops;
#define TS_CHR_EVENT_OPENED 1
#define TS_CHR_EVENT_CLOSED 2
#define TS_CHR_EVENT_BREAK 3

typedef struct ts_host {
    uint32_t size;
    uint16_t abi_major, abi_minor;

    /* ---- Logging ---- */
    /* Current -d mask; cheap to test before formatting. */
    const volatile uint64_t *log_mask;
    void (*log)(uint64_t mask, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
    /* One-line error on stderr, prefixed the way the kernel prefixes errors. */
    void (*error_report)(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
    void (*error_set)(ts_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

    /* ---- Capabilities of the kernel, by versioned id ---- */
    const void *(*get_capability)(const char *id);

    /* ---- Objects and properties ---- */
    void *(*object_instance)(ts_object *obj);
    const char *(*object_type)(ts_object *obj);
    const char *(*object_id)(ts_object *obj);     /* NULL if none */
    /* Canonical path (/machine/peripheral/<id>, /machine/unattached/...) */
    const char *(*object_path)(ts_object *obj);
    /* Read a property (after kernel parsing/validation). Returns TS_ERROR if
     * unset and without default. */
    ts_status (*prop_get_bool)(ts_object *obj, const char *name, int *out);
    ts_status (*prop_get_int)(ts_object *obj, const char *name, int64_t *out);
    ts_status (*prop_get_uint)(ts_object *obj, const char *name, uint64_t *out);
    const char *(*prop_get_str)(ts_object *obj, const char *name);
    ts_object *(*prop_get_link)(ts_object *obj, const char *name);
    /* Set from text, validated against the declaration. */
    ts_status (*prop_set)(ts_object *obj, const char *name, const char *value, ts_error *err);

    /* Create (unrealized) an instance of any registered type, as a child of
     * parent (NULL: the machine). id may be NULL. */
    ts_object *(*object_new)(ts_object *parent, const char *type, const char *id, ts_error *err);
    ts_status (*object_realize)(ts_object *obj, ts_error *err);

    /* ---- Buses ---- */
    ts_status (*bus_add)(ts_object *owner, const char *bus_type, const char *name, ts_error *err);

    /* ---- Memory ---- */
    ts_region *(*region_ram)(ts_object *owner, const char *name, uint64_t size, ts_error *err);
    ts_region *(*region_rom)(ts_object *owner, const char *name, uint64_t size, ts_error *err);
    ts_region *(*region_mmio)(ts_object *owner, const char *name, uint64_t size,
                              const ts_mmio_ops *ops, void *opaque);
    ts_region *(*region_alias)(ts_object *owner, const char *name, ts_region *target,
                               uint64_t offset, uint64_t size);
    ts_region *(*region_container)(ts_object *owner, const char *name, uint64_t size);
    void (*region_add)(ts_region *parent, uint64_t offset, ts_region *child, int priority);
    void (*region_remove)(ts_region *parent, ts_region *child);
    void (*region_set_enabled)(ts_region *r, int enabled);
    uint8_t *(*region_host_ptr)(ts_region *r);   /* RAM/ROM backing; NULL otherwise */
    uint64_t (*region_size)(ts_region *r);
    /* The machine's main RAM region (from -m / memory-backend). */
    ts_region *(*machine_ram)(void);
    ts_region *(*system_memory)(void);
    ts_address_space *(*system_as)(void);
    /* Devices export their regions; boards map them by index. */
    void (*device_add_region)(ts_object *obj, ts_region *r);
    ts_region *(*device_region)(ts_object *obj, unsigned index);

    /* Access through an address space (DMA, MMIO from CPUs). Bounds- and
     * decode-checked; MMIO callbacks run under the kernel lock. */
    ts_memtx (*as_rw)(ts_address_space *as, uint64_t addr, void *buf, uint64_t len, int is_write);
    /* Find the flat range holding addr (for a target's TLB). */
    ts_status (*as_lookup)(ts_address_space *as, uint64_t addr, ts_flat_range *out);
    /* Incremented each time any address space's map changes. */
    const volatile uint64_t *map_generation;
    /* Called after DMA or loader writes into RAM, so targets can drop
     * translated code for those pages. */
    void (*ram_write_listen)(ts_ram_write_cb cb, void *opaque);

    /* ---- Interrupt and GPIO lines ---- */
    ts_status (*gpio_in_init)(ts_object *obj, const char *name, int count,
                              ts_irq_handler handler, void *opaque);
    ts_irq *(*gpio_out_init)(ts_object *obj, const char *name, int count);
    /* Handle for output line n of a named output group. */
    ts_irq *(*gpio_out)(ts_object *obj, const char *name, int n);
    void (*irq_set)(ts_irq *irq, int level);
    ts_status (*gpio_connect)(ts_object *src, const char *src_name, int src_n,
                              ts_object *dst, const char *dst_name, int dst_n, ts_error *err);

    /* ---- Clocks, timers, main loop ---- */
    int64_t (*clock_ns)(ts_clock clock);
    ts_timer *(*timer_new)(ts_clock clock, ts_timer_cb cb, void *opaque);
    void (*timer_mod)(ts_timer *t, int64_t deadline_ns);
    void (*timer_del)(ts_timer *t);
    void (*timer_free)(ts_timer *t);
    ts_bh *(*bh_new)(ts_bh_cb cb, void *opaque);
    void (*bh_schedule)(ts_bh *bh);   /* thread-safe */
    void (*bh_free)(ts_bh *bh);
    /* NULL callbacks remove the handler. */
    void (*fd_set_handler)(int fd, ts_fd_cb on_read, ts_fd_cb on_write, void *opaque);
    /* Take/drop the kernel lock (vCPU threads calling into devices directly). */
    void (*lock)(void);
    void (*unlock)(void);

    /* ---- CPUs ---- */
    /* Create CPU number index of the -cpu type (or the board's default). */
    ts_object *(*cpu_new)(unsigned index, ts_error *err);
    unsigned (*cpu_count)(void);
    ts_object *(*cpu_get)(unsigned index);
    /* Wake a halted CPU's thread (interrupt arrived); thread-safe. */
    void (*cpu_wake)(ts_object *cpu);
    const void *(*cpu_get_capability)(ts_object *cpu, const char *id);

    /* ---- Machine lifecycle ---- */
    /* TS_SHUTDOWN_* cause; the kernel applies -no-shutdown/-no-reboot/-action. */
    void (*request_shutdown)(int cause, int exit_status);
    void (*request_reset)(void);

    /* ---- Machine configuration from the command line ----
     * keys: "kernel" "initrd" "append" "bios" "dtb" "firmware-dir"
     *       "ram-size" "smp.cpus" "nographic" "machine.<prop>" */
    const char *(*config_get)(const char *key);

    /* ---- Image loading (shared by all boards) ---- */
    /* Load an ELF's PT_LOAD segments into as (physical addresses). */
    ts_status (*load_elf)(const char *path, ts_address_space *as, int64_t addr_offset,
                          uint64_t *entry, uint64_t *low, uint64_t *high, int *elf_class,
                          ts_error *err);
    /* Load a raw file at addr; fails if larger than max_size. */
    ts_status (*load_raw)(const char *path, ts_address_space *as, uint64_t addr,
                          uint64_t max_size, uint64_t *size, ts_error *err);
    /* Is the file an ELF? 1 yes, 0 no, -1 unreadable (err filled). */
    int (*file_is_elf)(const char *path, ts_error *err);
    ts_status (*file_read_head)(const char *path, void *buf, size_t len, size_t *got, ts_error *err);
    /* Symbols from ELF files loaded so far. */
    ts_status (*symbol_lookup)(const char *name, uint64_t *addr);
    /* Find a firmware file in -L folders and the firmware search path;
     * returns a malloc'ed path the caller frees with host->free, or NULL. */
    char *(*firmware_find)(const char *name);
    void (*free)(void *p);
    /* Record a ROM blob for `info roms` and write it now. */
    ts_status (*rom_add)(const char *name, const void *data, size_t len, uint64_t addr, ts_error *err);

    /* ---- Device tree (the machine's, built by board and devices) ---- */
    ts_status (*fdt_create)(ts_error *err);
    ts_status (*fdt_add_node)(const char *path);
    ts_status (*fdt_set_prop)(const char *path, const char *name, const void *data, size_t len);
    ts_status (*fdt_set_prop_str)(const char *path, const char *name, const char *value);
    /* Host-order 32-bit cells, stored big-endian. */
    ts_status (*fdt_set_prop_cells)(const char *path, const char *name, const uint32_t *cells, size_t n);
    uint32_t (*fdt_phandle)(const char *path);    /* allocates one on first call */
    /* Pack and return the blob (owned by the kernel). */
    const void *(*fdt_blob)(size_t *size);
    /* Replace the built tree by a file (-dtb). */
    ts_status (*fdt_load)(const char *path, ts_error *err);

    /* ---- Chardev front ends ---- */
    ts_chardev_fe *(*chardev_attach)(ts_object *obj, const char *prop_name,
                                     const ts_chardev_ops *ops, void *opaque, ts_error *err);
    /* Attach to serial port n (-serial / -nographic defaults); NULL if none. */
    ts_chardev_fe *(*serial_attach)(unsigned n, const ts_chardev_ops *ops, void *opaque);
    size_t (*chardev_write)(ts_chardev_fe *fe, const uint8_t *buf, size_t len);
    /* The device can take more bytes: poll the backend again. */
    void (*chardev_accept_input)(ts_chardev_fe *fe);

    /* ---- Block and net front ends ---- */
    ts_block_be *(*block_attach)(ts_object *obj, const char *prop_name, ts_error *err);
    ts_status (*block_pread)(ts_block_be *be, uint64_t offset, void *buf, size_t len, ts_error *err);
    ts_status (*block_pwrite)(ts_block_be *be, uint64_t offset, const void *buf, size_t len, ts_error *err);
    ts_status (*block_flush)(ts_block_be *be, ts_error *err);
    uint64_t (*block_length)(ts_block_be *be);
    int (*block_read_only)(ts_block_be *be);
    ts_net_client *(*net_attach)(ts_object *obj, const char *prop_name, ts_error *err);
    ts_status (*net_send)(ts_net_client *nc, const uint8_t *frame, size_t len);

    /* ---- Files ---- */
    /* open(2) for plugins: also resolves /dev/fdset/N (-add-fd) the way the
     * kernel does. Returns an fd (O_CLOEXEC) or -1 with err filled. */
    int (*open_file)(const char *path, int flags, int mode, ts_error *err);

    /* -dfilter: whether logs about guest address addr (an instruction's pc)
     * should be written. Check after the -d mask. */
    int (*log_addr_enabled)(uint64_t addr);

    /* ---- Networking (net.h) ---- */
    /* A NIC attaches to the netdev named by its property prop_name (NULL:
     * "netdev"), or to the -net hub / -nic netdev chosen for it when the
     * property is unset; NULL with err filled if there is nothing to attach. */
    ts_net_client *(*net_nic_attach)(ts_object *obj, const char *prop_name, const struct ts_net_nic_ops *ops,
                                     void *opaque, ts_error *err);
    /* A netdev instance's own client (frames to the guest: net_send on it). */
    ts_net_client *(*net_backend_client)(ts_object *netdev);
    /* The NIC can take frames again: deliver what the kernel queued. */
    void (*net_flush)(ts_net_client *nc);
    /* Is the link up (both ends not set_link off)? */
    int (*net_link_up)(ts_net_client *nc);
    /* One-line description for `info network` ("macaddr=52:54:00:12:34:56"). */
    void (*net_set_info)(ts_net_client *nc, const char *info);

    /* ---- Types (ABI 1.1) ---- */
    /* 1 if the type can be created: built in, or provided by a usable plugin
     * (asking does not load it). Boards leave out optional devices whose
     * plugin is not installed. */
    int (*type_available)(const char *type_name);

    /* ---- Networking, continued ---- */
    /* The next default MAC address of the machine (52:54:00:12:34:56, :57, ...
     * as the reference), shared by all NIC models. */
    void (*net_default_mac)(uint8_t mac[6]);

    /* ---- Randomness (ABI 1.2) ---- */
    /* Random bytes for the guest (device-tree seeds, virtio-rng): the host's
     * entropy, or a repeatable stream under -seed (with -icount, runs of
     * the same guest stay identical). */
    void (*guest_random)(void *buf, size_t len);
} ts_host;

#define TS_SHUTDOWN_GUEST_POWEROFF 1
#define TS_SHUTDOWN_GUEST_RESET 2
#define TS_SHUTDOWN_GUEST_PANIC 3
#define TS_SHUTDOWN_HOST_QUIT 4

#ifdef __cplusplus
}
#endif
#endif /* TESSERA_HOST_H */
