/* Instruction-class histogram for RISC-V (like the reference's howvec for
 * other targets): each executed instruction is counted in the first class
 * whose mask/pattern matches its encoding.
 *   inline=off   count with a callback instead of inline ops
 * Output at exit: "Instruction Classes:" then "Class: NAME (N hits)" for
 * each class with hits, in table order. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

typedef struct {
    const char *name;
    uint32_t mask, pattern;
    bool compressed;
} Class;

/* Order matters: more specific entries first. */
static const Class classes[] = {
    /* 32-bit encodings, by major opcode (and function where it splits a group) */
    {"Multiply/divide", 0xfe00007f, 0x02000033, false},
    {"Multiply/divide (word)", 0xfe00007f, 0x0200003b, false},
    {"Environment (ecall/ebreak)", 0xffefffff, 0x00000073, false},
    {"Trap return/WFI", 0x0000707f, 0x00000073, false},
    {"CSR access", 0x0000007f, 0x00000073, false},
    {"Fence.i", 0x0000707f, 0x0000100f, false},
    {"Fence", 0x0000007f, 0x0000000f, false},
    {"Load", 0x0000007f, 0x00000003, false},
    {"Store", 0x0000007f, 0x00000023, false},
    {"FP load", 0x0000007f, 0x00000007, false},
    {"FP store", 0x0000007f, 0x00000027, false},
    {"Atomic", 0x0000007f, 0x0000002f, false},
    {"ALU immediate", 0x0000007f, 0x00000013, false},
    {"ALU immediate (word)", 0x0000007f, 0x0000001b, false},
    {"ALU register", 0x0000007f, 0x00000033, false},
    {"ALU register (word)", 0x0000007f, 0x0000003b, false},
    {"LUI/AUIPC", 0x0000005f, 0x00000017, false},
    {"Branch", 0x0000007f, 0x00000063, false},
    {"JAL", 0x0000007f, 0x0000006f, false},
    {"JALR", 0x0000007f, 0x00000067, false},
    {"FP fused multiply-add", 0x00000073, 0x00000043, false},
    {"FP arithmetic", 0x0000007f, 0x00000053, false},
    /* 16-bit encodings, by quadrant and funct3 */
    {"C loads", 0x00006003, 0x00004000, true},    /* c.lw c.ld (c.flw) */
    {"C stores", 0x00006003, 0x0000c000, true},   /* c.sw c.sd */
    {"C FP load/store", 0x00006003, 0x00002000, true},
    {"C stack loads", 0x00006003, 0x00004002, true},
    {"C stack stores", 0x00006003, 0x0000c002, true},
    {"C jumps", 0x0000e003, 0x0000a001, true},    /* c.j */
    {"C branches", 0x0000c003, 0x0000c001, true}, /* c.beqz c.bnez */
    {"C jr/jalr/mv/add", 0x0000e003, 0x00008002, true},
    {"C ALU", 0x00000000, 0x00000000, true},      /* the rest of the compressed set */
    {"Unclassified", 0x00000000, 0x00000000, false},
};
#define N_CLASSES (sizeof(classes) / sizeof(classes[0]))

static struct qemu_plugin_scoreboard *hits;   /* N_CLASSES uint64_t per vCPU */
static bool do_inline = true;

static unsigned classify(uint32_t word, size_t len)
{
    const bool c = len == 2;
    for (unsigned i = 0; i < N_CLASSES; i++) {
        if (classes[i].compressed != c && i != N_CLASSES - 1) continue;
        if ((word & classes[i].mask) == classes[i].pattern) return i;
    }
    return N_CLASSES - 1;
}

static void insn_exec(unsigned int vcpu, void *udata)
{
    uint64_t *counts = qemu_plugin_scoreboard_find(hits, vcpu);
    counts[(uintptr_t)udata]++;
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint32_t word = 0;
        size_t len = qemu_plugin_insn_data(insn, &word, sizeof word);
        unsigned cls = classify(word, len);
        if (do_inline) {
            qemu_plugin_u64 e = {hits, cls * sizeof(uint64_t)};
            qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(insn, QEMU_PLUGIN_INLINE_ADD_U64, e, 1);
        } else {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, insn_exec, QEMU_PLUGIN_CB_NO_REGS, (void *)(uintptr_t)cls);
        }
    }
}

static void at_exit(qemu_plugin_id_t id, void *p)
{
    (void)id;
    (void)p;
    GString *out = g_string_new("Instruction Classes:\n");
    for (unsigned i = 0; i < N_CLASSES; i++) {
        qemu_plugin_u64 e = {hits, i * sizeof(uint64_t)};
        uint64_t n = qemu_plugin_u64_sum(e);
        if (n) g_string_append_printf(out, "Class: %-28s\t(%" PRIu64 " hits)\n", classes[i].name, n);
    }
    qemu_plugin_outs(out->str);
    g_string_free(out, TRUE);
    qemu_plugin_scoreboard_free(hits);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    (void)info;
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "inline=", 7) != 0 || !qemu_plugin_bool_parse("inline", argv[i] + 7, &do_inline)) {
            fprintf(stderr, "howvec: option parsing failed: %s\n", argv[i]);
            return -1;
        }
    }
    hits = qemu_plugin_scoreboard_new(N_CLASSES * sizeof(uint64_t));
    qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
