/* Capabilities a RISC-V CPU offers other plugins (interrupt controllers,
 * boards), looked up with host->cpu_get_capability(cpu, id). Plain C so any
 * plugin can use them. */
#ifndef TESSERA_SDK_RISCV_CPU_H
#define TESSERA_SDK_RISCV_CPU_H

#include <tessera/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Interrupt inputs of a RISC-V CPU: gpio_in group "irq", line n = mip bit n
 * (1 SSIP, 3 MSIP, 5 STIP, 7 MTIP, 9 SEIP, 11 MEIP). Level-triggered. */
#define TS_RISCV_CPU_IRQ_GROUP "irq"

/* "riscv.timer.v1": the source of the `time` CSR and of Sstc comparisons.
 * The ACLINT MTIMER (or a board) installs it; read_time returns mtime in
 * timebase ticks. */
#define TS_RISCV_TIMER_V1 "riscv.timer.v1"
typedef struct ts_riscv_timer_v1 {
    uint32_t size;
    void (*set_time_source)(void *cpu, uint64_t (*read_time)(void *opaque),
                            void *opaque, uint64_t timebase_hz);
} ts_riscv_timer_v1;

/* "riscv.info.v1": what the board needs for the device tree. */
#define TS_RISCV_INFO_V1 "riscv.info.v1"
typedef struct ts_riscv_info_v1 {
    uint32_t size;
    /* e.g. "rv64imafdc_zicsr_zifencei_zba_zbb..." from the enabled extensions */
    const char *(*isa_string)(void *cpu);
    /* "riscv,sv39", "riscv,sv48", "riscv,sv57" or "riscv,none"; NULL if none */
    const char *(*mmu_type)(void *cpu);
    uint32_t (*xlen)(void *cpu);
    uint64_t (*hart_id)(void *cpu);
} ts_riscv_info_v1;

#ifdef __cplusplus
}
#endif
#endif
