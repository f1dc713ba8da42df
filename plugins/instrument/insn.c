/* Instruction count, total and per vCPU.
 *   inline=on   count with inline scoreboard ops (default: a callback per instruction)
 *   sizes=on    also histogram instruction sizes
 * Output at exit (-d plugin): "cpu N insns: C" per vCPU, then "total insns: T". */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

static bool do_inline;
static bool do_sizes;
static struct qemu_plugin_scoreboard *counts;   /* one uint64_t per vCPU */
static qemu_plugin_u64 count;
static uint64_t size_hist[17];
static GMutex lock;

static void insn_exec(unsigned int vcpu, void *udata)
{
    (void)udata;
    qemu_plugin_u64_add(count, vcpu, 1);
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        if (do_inline) {
            qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(insn, QEMU_PLUGIN_INLINE_ADD_U64, count, 1);
        } else {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, insn_exec, QEMU_PLUGIN_CB_NO_REGS, NULL);
        }
        if (do_sizes) {
            size_t sz = qemu_plugin_insn_size(insn);
            g_mutex_lock(&lock);
            size_hist[sz < 16 ? sz : 16]++;
            g_mutex_unlock(&lock);
        }
    }
}

static void at_exit(qemu_plugin_id_t id, void *p)
{
    (void)id;
    (void)p;
    char line[128];
    for (int i = 0; i < qemu_plugin_num_vcpus(); i++) {
        snprintf(line, sizeof line, "cpu %d insns: %" PRIu64 "\n", i, qemu_plugin_u64_get(count, i));
        qemu_plugin_outs(line);
    }
    snprintf(line, sizeof line, "total insns: %" PRIu64 "\n", qemu_plugin_u64_sum(count));
    qemu_plugin_outs(line);
    if (do_sizes) {
        for (int s = 0; s <= 16; s++) {
            if (!size_hist[s]) continue;
            snprintf(line, sizeof line, "len %d bytes: %" PRIu64 " insns translated\n", s, size_hist[s]);
            qemu_plugin_outs(line);
        }
    }
    qemu_plugin_scoreboard_free(counts);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    (void)info;
    for (int i = 0; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) {
            fprintf(stderr, "insn: bad option %s\n", argv[i]);
            return -1;
        }
        *eq = '\0';
        const char *name = argv[i], *val = eq + 1;
        bool ok = false;
        if (strcmp(name, "inline") == 0) ok = qemu_plugin_bool_parse(name, val, &do_inline);
        else if (strcmp(name, "sizes") == 0) ok = qemu_plugin_bool_parse(name, val, &do_sizes);
        *eq = '=';
        if (!ok) {
            fprintf(stderr, "insn: bad option %s\n", argv[i]);
            return -1;
        }
    }
    counts = qemu_plugin_scoreboard_new(sizeof(uint64_t));
    count = qemu_plugin_scoreboard_u64(counts);
    qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
