/* Instrumentation (the kernel side of `-plugin`): how the kernel asks a CPU
 * to report translation blocks, executed instructions and memory accesses.
 * Found with the CPU class's get_capability(cpu, TS_INSTRUMENT_V1).
 *
 * The CPU forms blocks (straight-line code up to a control-flow instruction,
 * a page end or a length limit), calls `translate` once per new block and
 * keeps the returned plan with the block; when it executes the block it calls
 * `block_exec` first, `insn_exec` before each instruction the plan flags, and
 * `mem` after each access of an instruction the plan flags. A CPU with no
 * hooks attached runs exactly as without this capability.
 *
 * All hooks are called on the vCPU's thread, inside exec(), without the
 * kernel lock. attach/detach are called with the vCPU stopped. */
#ifndef TESSERA_INSTRUMENT_H
#define TESSERA_INSTRUMENT_H

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TS_INSTRUMENT_V1 "tessera.instrument.v1"

typedef struct ts_instr_insn {
    uint64_t vaddr;
    uint64_t paddr;          /* ~0 when unknown */
    const void *haddr;       /* host pointer to the bytes in guest RAM, NULL if none */
    uint32_t len;            /* bytes */
    uint8_t bytes[16];       /* the encoding as stored in memory */
} ts_instr_insn;

typedef struct ts_instr_block {
    uint32_t size;
    uint64_t vaddr;
    uint32_t n_insns;
    const ts_instr_insn *insns;
} ts_instr_block;

/* Plan flags per instruction. */
#define TS_INSTR_EXEC 1u   /* call insn_exec before it */
#define TS_INSTR_MEM 2u    /* call mem after each of its accesses */

/* What the kernel answers for a block; owned by the kernel until
 * ts_instr_hooks.release. */
typedef struct ts_instr_plan {
    uint32_t block_flags;       /* nonzero: call block_exec */
    const uint8_t *insn_flags;  /* n_insns entries of TS_INSTR_* */
} ts_instr_plan;

/* Memory access description passed to `mem`. */
typedef struct ts_instr_mem {
    uint64_t vaddr;
    uint64_t value;          /* loaded or stored value, zero-extended */
    uint8_t size_shift;      /* 0..3 */
    uint8_t is_store;
    uint8_t sign_extended;
} ts_instr_mem;

/* Kernel hooks; ctx is the per-vCPU context given to attach. */
typedef struct ts_instr_hooks {
    uint32_t size;
    const ts_instr_plan *(*translate)(void *ctx, const ts_instr_block *block);
    void (*release)(void *ctx, const ts_instr_plan *plan);
    void (*block_exec)(void *ctx, const ts_instr_plan *plan);
    void (*insn_exec)(void *ctx, const ts_instr_plan *plan, uint32_t index);
    void (*mem)(void *ctx, const ts_instr_plan *plan, uint32_t index, const ts_instr_mem *access);
    /* The CPU dropped all its blocks (code changed, fence.i, a flush request). */
    void (*flushed)(void *ctx);
    /* The vCPU stops for lack of work (WFI) / runs again. */
    void (*idle)(void *ctx);
    void (*resume)(void *ctx);
    /* Trap entry: QEMU_PLUGIN_DISCON_* type, pc before and after. */
    void (*discon)(void *ctx, unsigned type, uint64_t from_pc, uint64_t to_pc);
    /* Incremented by the kernel to make every CPU drop its blocks (plugin
     * reset/uninstall); CPUs compare it at block boundaries. */
    const volatile uint64_t *flush_generation;
} ts_instr_hooks;

typedef struct ts_cpu_instrument_ops {
    uint32_t size;
    /* hooks NULL: detach. */
    void (*attach)(void *cpu, const ts_instr_hooks *hooks, void *ctx);
    /* Guest memory through the CPU's current translation (debug access, no
     * faults raised): TS_OK or TS_ERROR when some page is unmapped. */
    ts_status (*read_vaddr)(void *cpu, uint64_t vaddr, void *buf, size_t len);
    ts_status (*write_vaddr)(void *cpu, uint64_t vaddr, const void *buf, size_t len);
} ts_cpu_instrument_ops;

#ifdef __cplusplus
}
#endif
#endif /* TESSERA_INSTRUMENT_H */
