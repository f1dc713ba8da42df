/* A device plugin built against the frozen ABI 1.0 headers (abi-1.0/) only.
 * It uses 1.0 host functions (properties, MMIO region, IRQ output, error
 * reporting) so that the current 1.x kernel must lay them out as 1.0 did. On
 * realize it prints one line the test looks for. */
#include <tessera/plugin.h>

#include <string.h>

#if TESSERA_ABI_MAJOR != 1 || TESSERA_ABI_MINOR != 0
#error "built against the wrong headers: this plugin must see ABI 1.0"
#endif

TESSERA_MANIFEST(manifest_text, "abi 1.0\n"
                                "plugin abi10-probe\n"
                                "version 1.0\n"
                                "type device abi10-probe - misc device built against the frozen ABI 1.0 headers\n");

static const ts_host *host;

typedef struct probe {
    ts_object *obj;
    uint32_t scratch;
} probe;

static ts_memtx probe_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value) {
    (void)offset;
    (void)size;
    *value = ((probe *)opaque)->scratch;
    return TS_MEMTX_OK;
}
static ts_memtx probe_write(void *opaque, uint64_t offset, unsigned size, uint64_t value) {
    (void)offset;
    (void)size;
    ((probe *)opaque)->scratch = (uint32_t)value;
    return TS_MEMTX_OK;
}
static const ts_mmio_ops probe_ops = {sizeof(ts_mmio_ops), probe_read, probe_write, 4, 4, 0};

static probe the_probe;

static void *probe_create(ts_object *obj, ts_error *err) {
    (void)err;
    the_probe.obj = obj;
    return &the_probe;
}
static ts_status probe_realize(void *self, ts_error *err) {
    probe *p = self;
    uint64_t magic = 0;
    if (host->prop_get_uint(p->obj, "magic", &magic) != TS_OK) {
        host->error_set(err, "abi10-probe: property 'magic' unreadable");
        return TS_ERROR;
    }
    ts_region *r = host->region_mmio(p->obj, "abi10-probe", 0x100, &probe_ops, p);
    if (!r || host->region_size(r) != 0x100) {
        host->error_set(err, "abi10-probe: region_mmio misbehaved");
        return TS_ERROR;
    }
    host->device_add_region(p->obj, r);
    if (!host->gpio_out_init(p->obj, "irq", 1)) {
        host->error_set(err, "abi10-probe: gpio_out_init failed");
        return TS_ERROR;
    }
    host->error_report("abi10-probe: realized by a %u.%u kernel, magic=%llu, type %s", host->abi_major,
                       host->abi_minor, (unsigned long long)magic, host->object_type(p->obj));
    return TS_OK;
}

static const ts_prop_decl probe_props[] = {
    {sizeof(ts_prop_decl), "magic", TS_PROP_UINT, "7", 0, 1000, NULL, NULL, "a number echoed at realize"},
};
static const ts_device_class probe_class = {
    sizeof(ts_device_class),
    {sizeof(ts_object_class), probe_props, 1, TS_STATE_NONE, probe_create, probe_realize, NULL, NULL, NULL},
    NULL, 1, NULL, NULL,
};

static ts_status init(const ts_host *h, ts_error *err) {
    /* A 1.0 plugin may rely on everything up to the 1.0 table's end. */
    if (h->abi_major != 1 || h->size < sizeof(ts_host)) {
        if (err) strcpy(err->message, "host table older than ABI 1.0");
        return TS_ERROR;
    }
    host = h;
    return TS_OK;
}
static const void *get_class(const char *name) { return strcmp(name, "abi10-probe") == 0 ? &probe_class : NULL; }

TESSERA_EXPORT const ts_plugin_descriptor tessera_plugin_descriptor = {
    sizeof(ts_plugin_descriptor), 1, 0, "abi10-probe", "1.0", "frozen-1.0", manifest_text, init, get_class, NULL, NULL,
};
