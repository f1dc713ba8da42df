/* A plain-C test plugin whose ABI version, types and behaviour are chosen at
 * compile time, to prove the loader's refusals and lazy loading:
 *   TEST_ABI_MAJOR / TEST_ABI_MINOR  what the manifest and descriptor declare
 *   TEST_TYPE                         the device type name it provides
 *   TEST_NO_DESCRIPTOR                omit the exported descriptor
 *   TEST_DESC_MINOR                   the descriptor's minor, when it should
 *                                     differ from the manifest's
 *   TEST_MARKER                       a constructor writes $TESSERA_TEST_MARKER
 *                                     (proves whether plugin code ran) */
#include <tessera/plugin.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STR2(x) #x
#define STR(x) STR2(x)

TESSERA_MANIFEST(manifest_text, "abi " STR(TEST_ABI_MAJOR) "." STR(TEST_ABI_MINOR) "\n"
                                "plugin test-" TEST_VARIANT "\n"
                                "version 1.0\n"
                                "type device " TEST_TYPE " - misc test device\n");

#ifdef TEST_MARKER
__attribute__((constructor)) static void mark_loaded(void) {
    const char *p = getenv("TESSERA_TEST_MARKER");
    if (p) {
        FILE *f = fopen(p, "w");
        if (f) fclose(f);
    }
}
#endif

static int token;
static void *dev_create(ts_object *obj, ts_error *err) {
    (void)obj;
    (void)err;
    return &token;
}
static const ts_device_class dev_class = {
    sizeof(ts_device_class),
    {sizeof(ts_object_class), NULL, 0, TS_STATE_NONE, dev_create, NULL, NULL, NULL, NULL},
    NULL, 1, NULL, NULL,
};
__attribute__((unused)) static ts_status init(const ts_host *host, ts_error *err) {
    (void)host;
    (void)err;
    return TS_OK;
}
__attribute__((unused)) static const void *get_class(const char *name) { return strcmp(name, TEST_TYPE) == 0 ? &dev_class : NULL; }

#ifndef TEST_DESC_MINOR
#define TEST_DESC_MINOR TEST_ABI_MINOR
#endif

#ifndef TEST_NO_DESCRIPTOR
TESSERA_EXPORT const ts_plugin_descriptor tessera_plugin_descriptor = {
    sizeof(ts_plugin_descriptor), TEST_ABI_MAJOR, TEST_DESC_MINOR, "test", "1.0", "test-build",
    manifest_text, init, get_class, NULL, NULL,
};
#endif
