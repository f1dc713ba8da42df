/* Integer classes: I, M, A, Zba/Zbb/Zbc/Zbs, Zicond (via .insn), C. */
#include "guest.h"
GUEST_START
test:
    li a0, 7; li a1, -3
    add a2, a0, a1;        CHECK(1, a2, 4)
    sub a2, a0, a1;        CHECK(2, a2, 10)
    slt a2, a1, a0;        CHECK(3, a2, 1)
    sltu a2, a1, a0;       CHECK(4, a2, 0)
    sra a2, a1, 1;         CHECK(5, a2, -2)
    mul a2, a0, a1;        CHECK(6, a2, -21)
    div a2, a0, a1;        CHECK(7, a2, -2)
    rem a2, a0, a1;        CHECK(8, a2, 1)
    divu a2, a0, zero;     CHECK(9, a2, -1)
    remu a2, a0, zero;     CHECK(10, a2, 7)
    mulhu a2, a1, a1;      CHECK(11, a2, -6)
    /* Zba/Zbb/Zbs */
    sh2add a2, a0, a1;     CHECK(12, a2, 25)
    andn a2, a0, a1;       CHECK(13, a2, 2)
    clz a2, a0;            CHECK(14, a2, __riscv_xlen - 3)
    cpop a2, a1;           CHECK(15, a2, __riscv_xlen - 1)
    max a2, a0, a1;        CHECK(16, a2, 7)
    minu a2, a0, a1;       CHECK(17, a2, 7)
    rori a2, a0, 1;        CHECK(18, a2, (1 << (__riscv_xlen - 1)) | 3)
    bseti a2, zero, 5;     CHECK(19, a2, 32)
    bext a2, a0, zero;     CHECK(20, a2, 1)
    sext.b a2, a1;         CHECK(21, a2, -3)
    li a3, 0x01000200
    orc.b a2, a3;          CHECK(22, a2, 0xff00ff00)
    clmul a2, a0, a0;      CHECK(23, a2, 21)
    /* Zicond: czero.eqz a2, a0, zero -> 0; czero.nez a2, a0, zero -> a0 */
    .insn r 0x33, 5, 7, a2, a0, zero;  CHECK(24, a2, 0)
    .insn r 0x33, 7, 7, a2, a0, zero;  CHECK(25, a2, 7)
#if __riscv_xlen == 64
    addw a2, a0, a1;       CHECK(26, a2, 4)
    li a3, 0x7fffffff
    addiw a2, a3, 1;       CHECK(27, a2, -0x80000000)
    add.uw a2, a1, zero;   CHECK(28, a2, 0xfffffffd)
    rev8 a2, a0;           CHECK(29, a2, 0x0700000000000000)
    divw a2, a3, a1;       CHECK(30, a2, -715827882)
#endif
    /* A */
    la a4, word
    li a5, 5
    amoadd.w a2, a5, (a4); CHECK(31, a2, 100)
    lw a2, 0(a4);          CHECK(32, a2, 105)
    amomax.w a2, a1, (a4); CHECK(33, a2, 105)
    lr.w a2, (a4)
    sc.w a3, a0, (a4);     CHECK(34, a3, 0)
    lw a2, 0(a4);          CHECK(35, a2, 7)
    sc.w a3, a0, (a4);     CHECK(36, a3, 1)
    /* C (the assembler picks compressed forms for these) */
    c.li a2, 5
    c.addi a2, -1;         CHECK(37, a2, 4)
    c.mv a3, a2
    c.slli a3, 2;          CHECK(38, a3, 16)
    /* Misaligned load and store are emulated (as the reference does). */
    la a4, bytes
    li a5, 0x11223344
    sw a5, 1(a4)
    lw a2, 1(a4);          CHECK(39, a2, 0x11223344)
    lbu a2, 2(a4);         CHECK(40, a2, 0x33)
    /* Counters: instret advances by one per instruction. */
    csrr a2, minstret
    nop
    csrr a3, minstret
    sub a2, a3, a2;        CHECK(41, a2, 2)
    j pass

    .data
    .align 3
word: .word 100, 0
bytes: .dword 0, 0
