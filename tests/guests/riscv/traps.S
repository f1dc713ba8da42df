/* Traps: illegal-instruction tval, ecall from U and S with delegation,
 * vectored interrupts, WFI wake-up, TSR/TW, misaligned AMO. */
#include "guest.h"
GUEST_START
test:
    /* 1: illegal instruction -> M handler sees mcause 2 and the bits in mtval */
    la t0, h_illegal; csrw mtvec, t0
    li gp, 1
    .word 0xffffffff
    j fail
    .align 2
h_illegal:
    csrr a0, mcause; CHECK(1, a0, 2)
    csrr a0, mtval;  CHECK(2, a0, 0xffffffff)
    csrr a0, mepc; addi a0, a0, 4; csrw mepc, a0
    la t0, after_illegal; csrw mepc, t0
    mret
after_illegal:
    /* 3: ecall from U, delegated to S; S returns to U with sret, U ecalls again to M */
    la t0, s_handler; csrw stvec, t0
    li t0, 1 << 8; csrw medeleg, t0
    la t0, m_handler; csrw mtvec, t0
    la t0, user_code; csrw mepc, t0
    li t0, 3 << 11; csrc mstatus, t0          /* MPP = U */
    li s1, 0
    mret
    .align 2
user_code:
    li gp, 3
    ecall                                     /* to S (delegated) */
    li s1, 2
    .word 0x30200073                          /* mret in U: illegal, not delegated -> M */
    j fail
    .align 2
s_handler:
    csrr a0, scause; CHECK(3, a0, 8)
    csrr a0, sepc; addi a0, a0, 4; csrw sepc, a0
    li s1, 1
    sret
    .align 2
m_handler:
    csrr a0, mcause; CHECK(4, a0, 2)
    CHECK(5, s1, 2)
    li t0, 3 << 11; csrs mstatus, t0          /* back to M-mode code */
    la t0, after_user; csrw mepc, t0
    mret
after_user:
    /* 6: software interrupt through a vectored mtvec */
    la t0, vec_table; ori t0, t0, 1; csrw mtvec, t0
    csrw medeleg, zero
    csrci mstatus, 8                          /* mret left MIE = MPIE = 1 */
    li s1, 0
    li t0, 1 << 1; csrw mie, t0               /* SSIE */
    csrs mip, t0                              /* SSIP pending, not yet enabled */
    CHECK(10, s1, 0)
    csrsi mstatus, 8                          /* MIE: taken now, at the vector for cause 1 */
    CHECK(6, s1, 1)
    /* 7: WFI returns when an interrupt is pending even with MIE clear */
    csrci mstatus, 8
    csrs mip, t0
    wfi
    csrc mip, t0
    /* 8: misaligned AMO raises store/AMO address misaligned */
    la t0, h_amo; csrw mtvec, t0
    la a1, scratch
    addi a1, a1, 2
    li gp, 8
    amoadd.w a2, a0, (a1)
    j fail
    .align 2
h_amo:
    csrr a0, mcause; CHECK(8, a0, 6)
    csrr a0, mtval; la t1, scratch; addi t1, t1, 2; li gp, 9; bne a0, t1, fail
    j pass

    .align 8
    .option push
    .option norvc               /* vector entries are 4 bytes apart */
vec_table:
    j fail          /* 0 */
    j vec_ssi       /* 1 */
    .rept 14
    j fail
    .endr
    .option pop
vec_ssi:
    li t1, 1 << 1; csrc mip, t1
    csrr a0, mcause; li t1, (1 << (__riscv_xlen - 1)) | 1; li gp, 7; bne a0, t1, fail
    li s1, 1
    mret

    .data
    .align 3
scratch: .dword 0, 0
