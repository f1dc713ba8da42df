/* Basic-block and instruction count, total and per vCPU.
 *   inline=on   inline scoreboard ops (default: a callback per block)
 *   idle=on     also print the per-vCPU counts each time a vCPU goes idle
 * Output at exit: "CPU<n>: bb's: B, insns: I" per vCPU, then "bb's: B, insns: I". */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

typedef struct {
    uint64_t bb_count;
    uint64_t insn_count;
} Counts;

static struct qemu_plugin_scoreboard *counts;
static qemu_plugin_u64 bb_count, insn_count;
static bool do_inline, idle_report;

static void print_vcpu(unsigned int i)
{
    char line[128];
    snprintf(line, sizeof line, "CPU%u: bb's: %" PRIu64 ", insns: %" PRIu64 "\n", i,
             qemu_plugin_u64_get(bb_count, i), qemu_plugin_u64_get(insn_count, i));
    qemu_plugin_outs(line);
}

static void vcpu_idle(qemu_plugin_id_t id, unsigned int vcpu)
{
    (void)id;
    print_vcpu(vcpu);
}

static void tb_exec(unsigned int vcpu, void *udata)
{
    qemu_plugin_u64_add(bb_count, vcpu, 1);
    qemu_plugin_u64_add(insn_count, vcpu, (uintptr_t)udata);
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    if (do_inline) {
        qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(tb, QEMU_PLUGIN_INLINE_ADD_U64, bb_count, 1);
        qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(tb, QEMU_PLUGIN_INLINE_ADD_U64, insn_count, n);
    } else {
        qemu_plugin_register_vcpu_tb_exec_cb(tb, tb_exec, QEMU_PLUGIN_CB_NO_REGS, (void *)(uintptr_t)n);
    }
}

static void at_exit(qemu_plugin_id_t id, void *p)
{
    (void)id;
    (void)p;
    char line[128];
    for (int i = 0; i < qemu_plugin_num_vcpus(); i++) print_vcpu(i);
    snprintf(line, sizeof line, "bb's: %" PRIu64 ", insns: %" PRIu64 "\n", qemu_plugin_u64_sum(bb_count),
             qemu_plugin_u64_sum(insn_count));
    qemu_plugin_outs(line);
    qemu_plugin_scoreboard_free(counts);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    (void)info;
    for (int i = 0; i < argc; i++) {
        gchar **kv = g_strsplit(argv[i], "=", 2);
        bool ok = kv[0] && kv[1];
        if (ok && g_strcmp0(kv[0], "inline") == 0) ok = qemu_plugin_bool_parse(kv[0], kv[1], &do_inline);
        else if (ok && g_strcmp0(kv[0], "idle") == 0) ok = qemu_plugin_bool_parse(kv[0], kv[1], &idle_report);
        else ok = false;
        g_strfreev(kv);
        if (!ok) {
            fprintf(stderr, "bb: option parsing failed: %s\n", argv[i]);
            return -1;
        }
    }
    counts = qemu_plugin_scoreboard_new(sizeof(Counts));
    bb_count = qemu_plugin_scoreboard_u64_in_struct(counts, Counts, bb_count);
    insn_count = qemu_plugin_scoreboard_u64_in_struct(counts, Counts, insn_count);
    if (idle_report) qemu_plugin_register_vcpu_idle_cb(id, vcpu_idle);
    qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
