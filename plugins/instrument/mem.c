/* Memory access count.
 *   inline=on      inline scoreboard op (default: a callback per access)
 *   track=r|w|rw   which accesses (default rw)
 *   values=on      callback mode: also sum the bytes' values seen (checks get_value)
 * Output at exit: "mem accesses: N" (and "loads: L, stores: S" in callback mode). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

typedef struct {
    uint64_t accesses;
    uint64_t loads;
    uint64_t stores;
    uint64_t value_sum;
} Counts;

static struct qemu_plugin_scoreboard *counts;
static qemu_plugin_u64 accesses, loads, stores, value_sum;
static enum qemu_plugin_mem_rw rw = QEMU_PLUGIN_MEM_RW;
static bool do_inline, do_values;

static void mem_cb(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr, void *udata)
{
    (void)vaddr;
    (void)udata;
    qemu_plugin_u64_add(accesses, vcpu, 1);
    qemu_plugin_u64_add(qemu_plugin_mem_is_store(info) ? stores : loads, vcpu, 1);
    if (do_values) {
        qemu_plugin_mem_value v = qemu_plugin_mem_get_value(info);
        uint64_t x = v.type == QEMU_PLUGIN_MEM_VALUE_U8 ? v.data.u8
                     : v.type == QEMU_PLUGIN_MEM_VALUE_U16 ? v.data.u16
                     : v.type == QEMU_PLUGIN_MEM_VALUE_U32 ? v.data.u32 : v.data.u64;
        qemu_plugin_u64_add(value_sum, vcpu, x);
    }
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        if (do_inline)
            qemu_plugin_register_vcpu_mem_inline_per_vcpu(insn, rw, QEMU_PLUGIN_INLINE_ADD_U64, accesses, 1);
        else
            qemu_plugin_register_vcpu_mem_cb(insn, mem_cb, QEMU_PLUGIN_CB_NO_REGS, rw, NULL);
    }
}

static void at_exit(qemu_plugin_id_t id, void *p)
{
    (void)id;
    (void)p;
    char line[160];
    snprintf(line, sizeof line, "mem accesses: %" PRIu64 "\n", qemu_plugin_u64_sum(accesses));
    qemu_plugin_outs(line);
    if (!do_inline) {
        snprintf(line, sizeof line, "loads: %" PRIu64 ", stores: %" PRIu64 "\n", qemu_plugin_u64_sum(loads),
                 qemu_plugin_u64_sum(stores));
        qemu_plugin_outs(line);
    }
    if (do_values) {
        snprintf(line, sizeof line, "value sum: %" PRIu64 "\n", qemu_plugin_u64_sum(value_sum));
        qemu_plugin_outs(line);
    }
    qemu_plugin_scoreboard_free(counts);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    (void)info;
    for (int i = 0; i < argc; i++) {
        gchar **kv = g_strsplit(argv[i], "=", 2);
        bool ok = kv[0] && kv[1];
        if (ok && g_strcmp0(kv[0], "inline") == 0) {
            ok = qemu_plugin_bool_parse(kv[0], kv[1], &do_inline);
        } else if (ok && g_strcmp0(kv[0], "values") == 0) {
            ok = qemu_plugin_bool_parse(kv[0], kv[1], &do_values);
        } else if (ok && g_strcmp0(kv[0], "track") == 0) {
            if (g_strcmp0(kv[1], "r") == 0) rw = QEMU_PLUGIN_MEM_R;
            else if (g_strcmp0(kv[1], "w") == 0) rw = QEMU_PLUGIN_MEM_W;
            else if (g_strcmp0(kv[1], "rw") == 0) rw = QEMU_PLUGIN_MEM_RW;
            else ok = false;
        } else {
            ok = false;
        }
        g_strfreev(kv);
        if (!ok) {
            fprintf(stderr, "mem: option parsing failed: %s\n", argv[i]);
            return -1;
        }
    }
    counts = qemu_plugin_scoreboard_new(sizeof(Counts));
    accesses = qemu_plugin_scoreboard_u64_in_struct(counts, Counts, accesses);
    loads = qemu_plugin_scoreboard_u64_in_struct(counts, Counts, loads);
    stores = qemu_plugin_scoreboard_u64_in_struct(counts, Counts, stores);
    value_sum = qemu_plugin_scoreboard_u64_in_struct(counts, Counts, value_sum);
    qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
