/* Debugger support a CPU can offer (the gdbstub uses it): breakpoints,
 * watchpoints and single-stepping. Found with the CPU class's
 * get_capability(cpu, TS_DEBUG_V1); a CPU without it can still be stopped,
 * resumed and inspected, but not stepped or made to stop at an address.
 *
 * All calls are made by the kernel with the vCPU stopped (outside exec()),
 * the kernel lock held. */
#ifndef TESSERA_DEBUG_H
#define TESSERA_DEBUG_H

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TS_DEBUG_V1 "tessera.debug.v1"

/* Same numbers as the gdb remote protocol's Z packets. */
typedef enum ts_debug_point {
    TS_DEBUG_SW_BREAK = 0,   /* the CPU stops at addr; no memory is patched */
    TS_DEBUG_HW_BREAK = 1,   /* same, for the interpreter there is no difference */
    TS_DEBUG_WATCH_WRITE = 2,
    TS_DEBUG_WATCH_READ = 3,
    TS_DEBUG_WATCH_ACCESS = 4,
} ts_debug_point;

typedef enum ts_debug_reason {
    TS_DEBUG_STOP_NONE = 0,     /* exec did not stop for a debug reason */
    TS_DEBUG_STOP_BREAK = 1,    /* pc is at a breakpoint, that instruction not executed */
    TS_DEBUG_STOP_WATCH = 2,    /* the accessing instruction completed; pc is the next one */
    TS_DEBUG_STOP_STEP = 3,     /* one instruction (or trap entry) done */
} ts_debug_reason;

/* Why the last exec() returned TS_CPU_DEBUG. */
typedef struct ts_debug_stop {
    uint32_t size;
    ts_debug_reason reason;
    ts_debug_point point;       /* BREAK/WATCH: the kind that matched */
    uint64_t addr;              /* BREAK: the pc; WATCH: the data address accessed */
} ts_debug_stop;

typedef struct ts_cpu_debug_ops {
    uint32_t size;
    /* Addresses are virtual, as the CPU sees them now. len: the breakpoint's
     * instruction size (gdb's "kind") or the watched range's byte count.
     * Inserting the same point twice counts once. TS_ERROR: kind not
     * supported (err says why). */
    ts_status (*insert)(void *cpu, ts_debug_point type, uint64_t addr, uint64_t len, ts_error *err);
    ts_status (*remove)(void *cpu, ts_debug_point type, uint64_t addr, uint64_t len);
    void (*remove_all)(void *cpu);
    /* While on, exec() runs one instruction then returns TS_CPU_DEBUG with
     * reason STEP (a breakpoint at the starting pc does not stop it).
     * Interrupts stay masked while stepping, as gdb users expect. */
    void (*set_single_step)(void *cpu, int on);
    void (*last_stop)(void *cpu, ts_debug_stop *out);
} ts_cpu_debug_ops;

/* ABI 1.1: monitor views of a CPU's own structures ("info mem", "info tlb").
 * Found with get_capability(cpu, TS_CPU_INFO_V1); called with the vCPU
 * stopped or the kernel lock held. info() emits the text of view `name` in
 * pieces through emit and returns TS_OK, or TS_ERROR if the CPU has no such
 * view. */
#define TS_CPU_INFO_V1 "tessera.cpu-info.v1"

typedef struct ts_cpu_info_ops {
    uint32_t size;
    ts_status (*info)(void *cpu, const char *name, void (*emit)(void *opaque, const char *text), void *opaque);
} ts_cpu_info_ops;

#ifdef __cplusplus
}
#endif
#endif /* TESSERA_DEBUG_H */
