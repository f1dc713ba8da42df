/* The most executed blocks.
 *   limit=N   how many to list (default 20)
 * Output at exit: "pc, tcount, icount, ecount" then one line per block:
 * start address, times translated, instructions, executions. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

typedef struct {
    uint64_t pc;
    size_t insns;
    unsigned trans_count;
    struct qemu_plugin_scoreboard *exec;   /* executions per vCPU */
} Block;

static GMutex lock;
static GHashTable *blocks;   /* (pc ^ insns) -> Block */
static long limit = 20;

static uint64_t exec_total(const Block *b)
{
    return qemu_plugin_u64_sum(qemu_plugin_scoreboard_u64(b->exec));
}

static gint by_exec(gconstpointer a, gconstpointer b)
{
    uint64_t ea = exec_total(a), eb = exec_total(b);
    return ea > eb ? -1 : ea < eb ? 1 : 0;
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    uint64_t pc = qemu_plugin_tb_vaddr(tb);
    size_t n = qemu_plugin_tb_n_insns(tb);
    uint64_t key = pc ^ n;
    g_mutex_lock(&lock);
    Block *b = g_hash_table_lookup(blocks, &key);
    if (b) {
        b->trans_count++;
    } else {
        b = g_new0(Block, 1);
        b->pc = pc;
        b->insns = n;
        b->trans_count = 1;
        b->exec = qemu_plugin_scoreboard_new(sizeof(uint64_t));
        uint64_t *k = g_new(uint64_t, 1);
        *k = key;
        g_hash_table_insert(blocks, k, b);
    }
    g_mutex_unlock(&lock);
    qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(tb, QEMU_PLUGIN_INLINE_ADD_U64,
                                                      qemu_plugin_scoreboard_u64(b->exec), 1);
}

static void free_block(gpointer p)
{
    Block *b = p;
    qemu_plugin_scoreboard_free(b->exec);
    g_free(b);
}

static void at_exit(qemu_plugin_id_t id, void *p)
{
    (void)id;
    (void)p;
    g_mutex_lock(&lock);
    GList *all = g_list_sort(g_hash_table_get_values(blocks), by_exec);
    GString *out = g_string_new("");
    g_string_append_printf(out, "collected %u entries in the hash table\n", g_hash_table_size(blocks));
    g_string_append(out, "pc, tcount, icount, ecount\n");
    long i = 0;
    for (GList *it = all; it && i < limit; it = it->next, i++) {
        Block *b = it->data;
        g_string_append_printf(out, "0x%016" PRIx64 ", %u, %zu, %" PRIu64 "\n", b->pc, b->trans_count, b->insns,
                               exec_total(b));
    }
    qemu_plugin_outs(out->str);
    g_string_free(out, TRUE);
    g_list_free(all);
    g_hash_table_destroy(blocks);
    blocks = NULL;
    g_mutex_unlock(&lock);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    (void)info;
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "limit=", 6) == 0 && atol(argv[i] + 6) > 0) {
            limit = atol(argv[i] + 6);
        } else {
            fprintf(stderr, "hotblocks: option parsing failed: %s\n", argv[i]);
            return -1;
        }
    }
    blocks = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, free_block);
    qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
