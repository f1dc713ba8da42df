/* Execution log: one line per executed instruction,
 *   vcpu, 0xPC, 0xENCODING, "disassembly"[, load|store, 0xVADDR]...
 * written when the instruction's accesses are known (at the next instruction
 * of that vCPU, or at exit).
 *   ifilter=TEXT   only instructions whose disassembly contains TEXT (repeatable)
 *   afilter=0xPC   only the instruction at that address (repeatable)
 *   reg=NAME       append ", NAME -> 0xVALUE" with the register after each
 *                  logged instruction (register read through the API) */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

typedef struct {
    GString *line;                           /* pending line, NULL if none */
    struct qemu_plugin_register *reg;        /* reg= register, NULL if none */
} Cpu;

static GMutex lock;
static GPtrArray *cpus;    /* Cpu* by vCPU index */
static GPtrArray *ifilters;
static GArray *afilters;
static char *reg_name;

static Cpu *cpu(unsigned int i)
{
    g_mutex_lock(&lock);
    while (cpus->len <= i) g_ptr_array_add(cpus, g_new0(Cpu, 1));
    Cpu *c = g_ptr_array_index(cpus, i);
    g_mutex_unlock(&lock);
    return c;
}

static void flush_line(Cpu *c)
{
    if (!c->line) return;
    if (c->reg) {
        GByteArray *buf = g_byte_array_new();
        int n = qemu_plugin_read_register(c->reg, buf);
        uint64_t v = 0;
        if (n > 0) memcpy(&v, buf->data, n < 8 ? n : 8);
        g_string_append_printf(c->line, ", %s -> 0x%" PRIx64, reg_name, v);
        g_byte_array_free(buf, TRUE);
    }
    g_string_append_c(c->line, '\n');
    qemu_plugin_outs(c->line->str);
    g_string_free(c->line, TRUE);
    c->line = NULL;
}

static void vcpu_init(qemu_plugin_id_t id, unsigned int vcpu)
{
    (void)id;
    Cpu *c = cpu(vcpu);
    if (!reg_name) return;
    GArray *regs = qemu_plugin_get_registers();
    for (guint i = 0; i < regs->len; i++) {
        qemu_plugin_reg_descriptor *d = &g_array_index(regs, qemu_plugin_reg_descriptor, i);
        if (g_strcmp0(d->name, reg_name) == 0) c->reg = d->handle;
    }
    g_array_free(regs, TRUE);
}

static void insn_exec(unsigned int vcpu, void *udata)
{
    Cpu *c = cpu(vcpu);
    flush_line(c);   /* the previous instruction is complete */
    c->line = g_string_new(NULL);
    g_string_printf(c->line, "%u, %s", vcpu, (const char *)udata);
}

static void mem_cb(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr, void *udata)
{
    (void)udata;
    Cpu *c = cpu(vcpu);
    if (c->line)
        g_string_append_printf(c->line, ", %s, 0x%08" PRIx64, qemu_plugin_mem_is_store(info) ? "store" : "load", vaddr);
}

static bool wanted(uint64_t pc, const char *disas)
{
    if (!ifilters->len && !afilters->len) return true;
    for (guint i = 0; i < afilters->len; i++)
        if (g_array_index(afilters, uint64_t, i) == pc) return true;
    for (guint i = 0; i < ifilters->len; i++)
        if (strstr(disas, g_ptr_array_index(ifilters, i))) return true;
    return false;
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t pc = qemu_plugin_insn_vaddr(insn);
        uint32_t word = 0;
        size_t len = qemu_plugin_insn_data(insn, &word, sizeof word);
        char *disas = qemu_plugin_insn_disas(insn);
        if (wanted(pc, disas)) {
            /* The text lives as long as the block's callbacks: kept (leaked) per translation. */
            char *text = g_strdup_printf("0x%" PRIx64 ", 0x%0*" PRIx32 ", \"%s\"", pc, (int)len * 2, word, disas);
            qemu_plugin_register_vcpu_insn_exec_cb(insn, insn_exec, QEMU_PLUGIN_CB_R_REGS, text);
            qemu_plugin_register_vcpu_mem_cb(insn, mem_cb, QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_MEM_RW, NULL);
        }
        g_free(disas);
    }
}

static void at_exit(qemu_plugin_id_t id, void *p)
{
    (void)id;
    (void)p;
    for (guint i = 0; i < cpus->len; i++) {
        Cpu *c = g_ptr_array_index(cpus, i);
        if (!c->line) continue;
        c->reg = NULL;   /* no vCPU context at exit: registers cannot be read */
        flush_line(c);
    }
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    (void)info;
    cpus = g_ptr_array_new();
    ifilters = g_ptr_array_new();
    afilters = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "ifilter=", 8) == 0) {
            g_ptr_array_add(ifilters, g_strdup(argv[i] + 8));
        } else if (strncmp(argv[i], "afilter=", 8) == 0) {
            uint64_t pc = strtoull(argv[i] + 8, NULL, 16);
            g_array_append_val(afilters, pc);
        } else if (strncmp(argv[i], "reg=", 4) == 0) {
            reg_name = g_strdup(argv[i] + 4);
        } else {
            fprintf(stderr, "execlog: option parsing failed: %s\n", argv[i]);
            return -1;
        }
    }
    qemu_plugin_register_vcpu_init_cb(id, vcpu_init);
    qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
