/* Sv39 (RV64) / Sv32 (RV32) paging: an identity-mapped superpage for the
 * code, a user page with A/D updated by hardware, a page fault on an
 * unmapped address, SUM (cleared after a user access, the next one faults),
 * and PMP denying S-mode. */
#include "guest.h"
#if __riscv_xlen == 64
#define SATP_MODE (8 << 60)
#define PTE_SIZE 8
#define LEVELS 3
#else
#define SATP_MODE (1 << 31)
#define PTE_SIZE 4
#define LEVELS 2
#endif
#define V 1
#define R 2
#define W 4
#define X 8
#define U 16
#define A 64
#define D 128
GUEST_START
test:
    la t0, m_trap; csrw mtvec, t0
#if __riscv_xlen == 64
    /* root[2] = 1 GiB leaf at 0x80000000 (RWX, A, D) */
    la a0, root
    li t0, (0x80000000 >> 12) << 10 | V | R | W | X | A | D
    sd t0, 2*8(a0)
    /* root[0] -> l1 ; l1[0] -> l0 ; l0[1]: VA 0x1000 -> user page */
    la a1, l1; srli t0, a1, 12; slli t0, t0, 10; ori t0, t0, V; sd t0, 0(a0)
    la a2, l0; srli t0, a2, 12; slli t0, t0, 10; ori t0, t0, V; sd t0, 0(a1)
    la a3, upage; srli t0, a3, 12; slli t0, t0, 10; ori t0, t0, V | R | W | U; sd t0, 8(a2)
#else
    /* root[0x200] = 4 MiB leaf at 0x80000000; root[0] -> l0; l0[1] -> user page */
    la a0, root
    li t0, (0x80000000 >> 12) << 10 | V | R | W | X | A | D
    li t1, 0x200*4; add t1, a0, t1; sw t0, 0(t1)
    la a2, l0; srli t0, a2, 12; slli t0, t0, 10; ori t0, t0, V; sw t0, 0(a0)
    la a3, upage; srli t0, a3, 12; slli t0, t0, 10; ori t0, t0, V | R | W | U; sw t0, 4(a2)
#endif
    srli t0, a0, 12
    li t1, SATP_MODE
    or t0, t0, t1
    csrw satp, t0
    sfence.vma
    /* Enter S-mode with SUM set. */
    li t0, 1 << 18; csrs mstatus, t0
    li t0, 3 << 11; csrc mstatus, t0
    li t0, 1 << 11; csrs mstatus, t0   /* MPP = S */
    la t0, s_code; csrw mepc, t0
    mret
s_code:
    li t0, 0x1000
    li t1, 1234
    SREG t1, 8(t0)                     /* hardware sets A and D */
    LREG t2, 8(t0)
    CHECK(1, t2, 1234)
    la a3, upage
    LREG t2, 8(a3)                     /* same memory through the identity map */
    CHECK(2, t2, 1234)
    la a2, l0
    LREG t2, PTE_SIZE(a2)
    andi t2, t2, A | D
    CHECK(3, t2, A | D)
    /* SUM cleared: the user page just read must now fault (no stale TLB entry). */
    li t0, 1 << 18; csrc sstatus, t0
    li gp, 9
    li t0, 0x1000
    LREG t1, 8(t0)
    j fail
s_code_unmapped:
    /* Unmapped address: load page fault with tval = address. */
    li gp, 4
    li t0, 0x5000
    LREG t1, 0(t0)
    j fail
    .align 2
m_trap:
    csrr t0, mcause
    li t1, 13
    bne t0, t1, m_trap_other
    csrr t0, mtval
    li t1, 0x1008
    bne t0, t1, 1f
    /* The SUM fault: set SUM again and go on in S-mode. */
    li t0, 1 << 18; csrs mstatus, t0
    la t0, s_code_unmapped; csrw mepc, t0
    mret
1:  CHECK(5, t0, 0x5000)
    /* Now make PMP deny S-mode reads of the user page: entry 0 NA4-free TOR
     * up to upage, entry 1 TOR to upage+4K with no permission, entry 2 all. */
    la t0, upage; srli t0, t0, 2; csrw pmpaddr0, t0
    la t0, upage + 4096; srli t0, t0, 2; csrw pmpaddr1, t0
    li t0, -1; csrw pmpaddr2, t0
    li t0, (0x1f << 16) | (0x08 << 8) | 0x0f; csrw pmpcfg0, t0
    sfence.vma
    la t0, s_code2; csrw mepc, t0
    mret
s_code2:
    li gp, 6
    li t0, 0x1000
    LREG t1, 0(t0)
    j fail
m_trap_other:
    li t1, 5                              /* load access fault */
    li gp, 7
    bne t0, t1, fail
    csrr t0, mtval; CHECK(8, t0, 0x1000)
    j pass

    .bss
    .align 12
root: .space 4096
l1: .space 4096
l0: .space 4096
upage: .space 4096
