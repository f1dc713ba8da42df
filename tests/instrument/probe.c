/* A plugin as a third party writes it: only <qemu-plugin.h> (and glib), built
 * at test time with plain `cc -shared -fPIC`. It exercises the API surface
 * the bundled plugins do not and prints what the test checks.
 *   from=0xADDR   only instructions at or above ADDR are counted/instrumented
 *   stop=0xADDR   the `done` label: registers and memory are checked there */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

typedef struct {
    uint64_t insns;        /* callback count */
    uint64_t inline_insns; /* inline count */
    uint64_t blocks;
    uint64_t cond_hits;    /* conditional callback: fired when inline_insns == 10 */
    uint64_t last_tb;      /* STORE_U64 of the block address */
    uint64_t loads, stores, signed_loads, load_sum;
} Stats;

static struct qemu_plugin_scoreboard *sb;
static qemu_plugin_u64 insns, inline_insns, blocks, cond_hits, last_tb, loads, stores, signed_loads, load_sum;
static uint64_t from, stop;
static char report[1024];
static int vcpu_inits, flushes, idles, resumes, exceptions, interrupts;
static uint64_t first_from, first_to;
static GMutex lock;

static void on_insn(unsigned int vcpu, void *udata) { qemu_plugin_u64_add(insns, vcpu, 1); }
static void on_block(unsigned int vcpu, void *udata) { qemu_plugin_u64_add(blocks, vcpu, 1); }
static void on_cond(unsigned int vcpu, void *udata) { qemu_plugin_u64_add(cond_hits, vcpu, 1); }

static void on_mem(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr, void *udata)
{
    if (qemu_plugin_mem_is_store(info)) {
        qemu_plugin_u64_add(stores, vcpu, 1);
        return;
    }
    qemu_plugin_u64_add(loads, vcpu, 1);
    if (qemu_plugin_mem_is_sign_extended(info)) qemu_plugin_u64_add(signed_loads, vcpu, 1);
    qemu_plugin_mem_value v = qemu_plugin_mem_get_value(info);
    if (v.type == QEMU_PLUGIN_MEM_VALUE_U64) qemu_plugin_u64_add(load_sum, vcpu, v.data.u64);
}

/* At `done`: t0 is 0, pc is `done`; memory at pc holds the instruction. */
static void at_done(unsigned int vcpu, void *udata)
{
    GArray *regs = qemu_plugin_get_registers();
    struct qemu_plugin_register *pc = NULL, *t0 = NULL, *t2 = NULL;
    for (guint i = 0; i < regs->len; i++) {
        qemu_plugin_reg_descriptor *d = &g_array_index(regs, qemu_plugin_reg_descriptor, i);
        if (!strcmp(d->name, "pc")) pc = d->handle;
        if (!strcmp(d->name, "t0")) t0 = d->handle;
        if (!strcmp(d->name, "t2")) t2 = d->handle;
    }
    GByteArray *buf = g_byte_array_new();
    uint64_t pcv = 0, t0v = ~0ull, t2v = 0;
    if (pc && qemu_plugin_read_register(pc, buf) == 8) memcpy(&pcv, buf->data, 8);
    g_byte_array_set_size(buf, 0);
    if (t0 && qemu_plugin_read_register(t0, buf) == 8) memcpy(&t0v, buf->data, 8);
    /* write t2 = 0x1234 and read it back */
    g_byte_array_set_size(buf, 8);
    uint64_t val = 0x1234;
    memcpy(buf->data, &val, 8);
    int wrote = t2 ? qemu_plugin_write_register(t2, buf) : 0;
    g_byte_array_set_size(buf, 0);
    if (t2) qemu_plugin_read_register(t2, buf);
    if (buf->len >= 8) memcpy(&t2v, buf->data, 8);
    GByteArray *code = g_byte_array_new();
    bool rd = qemu_plugin_read_memory_vaddr(pcv, code, 4);
    uint64_t pa = 0;
    bool xl = qemu_plugin_translate_vaddr(pcv, &pa);
    snprintf(report, sizeof report,
             "regs: %u pc=0x%" PRIx64 " t0=%" PRIu64 " wrote=%d t2=0x%" PRIx64 " read=%d code=%08x xlate=%d pa=0x%" PRIx64 "\n",
             regs->len, pcv, t0v, wrote, t2v, rd, rd ? *(uint32_t *)code->data : 0, xl, pa);
    g_byte_array_free(code, TRUE);
    g_byte_array_free(buf, TRUE);
    g_array_free(regs, TRUE);
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    if (qemu_plugin_tb_vaddr(tb) < from) return;
    qemu_plugin_register_vcpu_tb_exec_cb(tb, on_block, QEMU_PLUGIN_CB_NO_REGS, NULL);
    qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(tb, QEMU_PLUGIN_INLINE_STORE_U64, last_tb,
                                                      qemu_plugin_tb_vaddr(tb));
    for (size_t i = 0; i < qemu_plugin_tb_n_insns(tb); i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t pc = qemu_plugin_insn_vaddr(insn);
        qemu_plugin_register_vcpu_insn_exec_cb(insn, on_insn, QEMU_PLUGIN_CB_NO_REGS, NULL);
        qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(insn, QEMU_PLUGIN_INLINE_ADD_U64, inline_insns, 1);
        qemu_plugin_register_vcpu_insn_exec_cond_cb(insn, on_cond, QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_COND_EQ,
                                                    inline_insns, 10, NULL);
        qemu_plugin_register_vcpu_mem_cb(insn, on_mem, QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_MEM_RW, NULL);
        if (pc == stop) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, at_done, QEMU_PLUGIN_CB_RW_REGS, NULL);
            char *d = qemu_plugin_insn_disas(insn);
            uint8_t bytes[8];
            size_t n = qemu_plugin_insn_data(insn, bytes, sizeof bytes);
            g_mutex_lock(&lock);
            const char *sym = qemu_plugin_insn_symbol(insn);
            printf("disas at done: %s (size %zu, copied %zu, symbol %s)\n", d, qemu_plugin_insn_size(insn), n,
                   sym ? sym : "none");
            fflush(stdout);
            g_mutex_unlock(&lock);
            g_free(d);
        }
    }
}

static void vcpu_init(qemu_plugin_id_t id, unsigned int vcpu) { vcpu_inits++; }
static void vcpu_idle(qemu_plugin_id_t id, unsigned int vcpu) { idles++; }
static void vcpu_resume(qemu_plugin_id_t id, unsigned int vcpu) { resumes++; }

static void on_discon(qemu_plugin_id_t id, unsigned int vcpu, enum qemu_plugin_discon_type type, uint64_t from,
                      uint64_t to)
{
    g_mutex_lock(&lock);
    if (type == QEMU_PLUGIN_DISCON_EXCEPTION && exceptions++ == 0) {
        first_from = from;
        first_to = to;
    }
    if (type == QEMU_PLUGIN_DISCON_INTERRUPT) interrupts++;
    g_mutex_unlock(&lock);
}
static void on_flush(qemu_plugin_id_t id) { flushes++; }

static void at_exit(qemu_plugin_id_t id, void *p)
{
    char line[512];
    snprintf(line, sizeof line,
             "probe: vcpus=%d inits=%d insns=%" PRIu64 " inline=%" PRIu64 " blocks=%" PRIu64 " cond=%" PRIu64
             " last_tb=0x%" PRIx64 " loads=%" PRIu64 " stores=%" PRIu64 " signed=%" PRIu64 " load_sum=%" PRIu64 "\n",
             qemu_plugin_num_vcpus(), vcpu_inits, qemu_plugin_u64_sum(insns), qemu_plugin_u64_sum(inline_insns),
             qemu_plugin_u64_sum(blocks), qemu_plugin_u64_sum(cond_hits), qemu_plugin_u64_get(last_tb, 0),
             qemu_plugin_u64_sum(loads), qemu_plugin_u64_sum(stores), qemu_plugin_u64_sum(signed_loads),
             qemu_plugin_u64_sum(load_sum));
    qemu_plugin_outs(line);
    qemu_plugin_outs(report);
    snprintf(line, sizeof line, "events: idle=%d resume=%d exceptions=%d first=0x%" PRIx64 "->0x%" PRIx64 " interrupts=%d\n",
             idles > 0, resumes > 0, exceptions, first_from, first_to, interrupts);
    qemu_plugin_outs(line);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (!strncmp(argv[i], "from=", 5)) from = strtoull(argv[i] + 5, NULL, 0);
        else if (!strncmp(argv[i], "stop=", 5)) stop = strtoull(argv[i] + 5, NULL, 0);
        else if (!strcmp(argv[i], "fail=on")) return 7;
    }
    printf("install: target=%s min=%d cur=%d system=%d smp=%d\n", info->target_name, info->version.min,
           info->version.cur, info->system_emulation, info->system.smp_vcpus);
    fflush(stdout);
    sb = qemu_plugin_scoreboard_new(sizeof(Stats));
    insns = qemu_plugin_scoreboard_u64_in_struct(sb, Stats, insns);
    inline_insns = qemu_plugin_scoreboard_u64_in_struct(sb, Stats, inline_insns);
    blocks = qemu_plugin_scoreboard_u64_in_struct(sb, Stats, blocks);
    cond_hits = qemu_plugin_scoreboard_u64_in_struct(sb, Stats, cond_hits);
    last_tb = qemu_plugin_scoreboard_u64_in_struct(sb, Stats, last_tb);
    loads = qemu_plugin_scoreboard_u64_in_struct(sb, Stats, loads);
    stores = qemu_plugin_scoreboard_u64_in_struct(sb, Stats, stores);
    signed_loads = qemu_plugin_scoreboard_u64_in_struct(sb, Stats, signed_loads);
    load_sum = qemu_plugin_scoreboard_u64_in_struct(sb, Stats, load_sum);
    qemu_plugin_register_vcpu_init_cb(id, vcpu_init);
    qemu_plugin_register_flush_cb(id, on_flush);
    qemu_plugin_register_vcpu_idle_cb(id, vcpu_idle);
    qemu_plugin_register_vcpu_resume_cb(id, vcpu_resume);
    qemu_plugin_register_vcpu_discon_cb(id, QEMU_PLUGIN_DISCON_ALL, on_discon);
    qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
