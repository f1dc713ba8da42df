/* Memory accesses per page (by physical address when known, else virtual).
 *   pagesize=N   page size in bytes (power of two, default 4096)
 *   limit=N      pages listed (default 30)
 * Output at exit: "Addr, RCPUs, Reads, WCPUs, Writes" then one line per page,
 * most accessed first; RCPUs/WCPUs are bitmaps of the vCPUs that read/wrote. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

typedef struct {
    uint64_t page;
    uint64_t reads, writes;
    uint64_t rcpus, wcpus;
} Page;

static GMutex lock;
static GHashTable *pages;
static uint64_t page_mask = ~0xfffull;
static long limit = 30;

static void mem_cb(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr, void *udata)
{
    (void)udata;
    struct qemu_plugin_hwaddr *hw = qemu_plugin_get_hwaddr(info, vaddr);
    uint64_t addr = hw ? qemu_plugin_hwaddr_phys_addr(hw) : vaddr;
    uint64_t page = addr & page_mask;
    g_mutex_lock(&lock);
    Page *p = g_hash_table_lookup(pages, &page);
    if (!p) {
        p = g_new0(Page, 1);
        p->page = page;
        g_hash_table_insert(pages, &p->page, p);
    }
    if (qemu_plugin_mem_is_store(info)) {
        p->writes++;
        p->wcpus |= 1ull << (vcpu & 63);
    } else {
        p->reads++;
        p->rcpus |= 1ull << (vcpu & 63);
    }
    g_mutex_unlock(&lock);
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    for (size_t i = 0; i < n; i++)
        qemu_plugin_register_vcpu_mem_cb(qemu_plugin_tb_get_insn(tb, i), mem_cb, QEMU_PLUGIN_CB_NO_REGS,
                                         QEMU_PLUGIN_MEM_RW, NULL);
}

static gint by_total(gconstpointer a, gconstpointer b)
{
    const Page *x = a, *y = b;
    uint64_t tx = x->reads + x->writes, ty = y->reads + y->writes;
    if (tx != ty) return tx > ty ? -1 : 1;
    return x->page < y->page ? -1 : x->page > y->page ? 1 : 0;
}

static void at_exit(qemu_plugin_id_t id, void *p)
{
    (void)id;
    (void)p;
    g_mutex_lock(&lock);
    GList *all = g_list_sort(g_hash_table_get_values(pages), by_total);
    GString *out = g_string_new("Addr, RCPUs, Reads, WCPUs, Writes\n");
    long i = 0;
    for (GList *it = all; it && i < limit; it = it->next, i++) {
        Page *pg = it->data;
        g_string_append_printf(out, "0x%016" PRIx64 ", 0x%04" PRIx64 ", %" PRIu64 ", 0x%04" PRIx64 ", %" PRIu64 "\n",
                               pg->page, pg->rcpus, pg->reads, pg->wcpus, pg->writes);
    }
    qemu_plugin_outs(out->str);
    g_string_free(out, TRUE);
    g_list_free(all);
    g_mutex_unlock(&lock);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    (void)info;
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "pagesize=", 9) == 0) {
            unsigned long long sz = strtoull(argv[i] + 9, NULL, 0);
            if (!sz || (sz & (sz - 1))) {
                fprintf(stderr, "hotpages: pagesize must be a power of two: %s\n", argv[i]);
                return -1;
            }
            page_mask = ~(uint64_t)(sz - 1);
        } else if (strncmp(argv[i], "limit=", 6) == 0 && atol(argv[i] + 6) > 0) {
            limit = atol(argv[i] + 6);
        } else {
            fprintf(stderr, "hotpages: option parsing failed: %s\n", argv[i]);
            return -1;
        }
    }
    pages = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, g_free);
    qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
