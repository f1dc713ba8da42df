/* Shared macros for the assembly guests: start-up, checks and the HTIF exit.
 * A guest defines `test:`; it ends with `j pass` or a failing CHECK, which
 * reports the test number in gp through tohost. */
#if __riscv_xlen == 64
#define LREG ld
#define SREG sd
#define REGBYTES 8
#else
#define LREG lw
#define SREG sw
#define REGBYTES 4
#endif

/* Fail with test number `num` unless reg == val. */
#define CHECK(num, reg, val) li gp, num; li t6, val; bne reg, t6, fail

#define GUEST_START                                   \
    .section .text.init;                              \
    .globl _start;                                    \
_start:                                               \
    la t0, unexpected_trap;                           \
    csrw mtvec, t0;                                   \
    li t0, -1;                                        \
    csrw pmpaddr0, t0;                                \
    li t0, 0x1f;                                      \
    csrw pmpcfg0, t0;                                 \
    la sp, stack_top;                                 \
    li gp, 0;                                         \
    j test;                                           \
    .align 2;                                         \
unexpected_trap:                                      \
    csrr t0, mcause;                                  \
    addi gp, t0, 1000;                                \
    j fail;                                           \
pass:                                                 \
    li gp, 0;                                         \
    j exit;                                           \
fail:                                                 \
    bnez gp, exit;                                    \
    li gp, 999;                                       \
exit:                                                 \
    slli gp, gp, 1;                                   \
    ori gp, gp, 1;                                    \
    la t0, tohost;                                    \
    sw gp, 0(t0);                                     \
    sw zero, 4(t0);                                   \
1:  j 1b;                                             \
    .section .tohost, "aw", @progbits;                \
    .align 6;                                         \
    .globl tohost;                                    \
tohost: .dword 0;                                     \
    .globl fromhost;                                  \
fromhost: .dword 0;                                   \
    .bss;                                             \
    .align 4;                                         \
    .space 4096;                                      \
stack_top:;                                           \
    .text
