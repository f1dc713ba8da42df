/* F/D corner cases: FS=Off traps, NaN-boxing, fflags accumulation, rounding
 * modes, saturating conversions, fmin/fmax with NaN, fclass, SD/FS dirty. */
#include "guest.h"
GUEST_START
test:
    /* 1: FP instruction with FS=Off is illegal */
    la t0, h_fs_off; csrw mtvec, t0
    li t0, 3 << 13; csrc mstatus, t0
    li gp, 1
    fadd.s f0, f0, f0
    j fail
    .align 2
h_fs_off:
    csrr a0, mcause; CHECK(1, a0, 2)
    la t0, unexpected_trap; csrw mtvec, t0
    li t0, 1 << 13; csrs mstatus, t0          /* FS = Initial */
    /* 2: writing an f register makes FS dirty (and SD) */
    li a0, 0x3f800000
    fmv.w.x f1, a0
    csrr a1, mstatus
    srli a2, a1, 13; andi a2, a2, 3; CHECK(2, a2, 3)
    srli a2, a1, __riscv_xlen - 1;   CHECK(3, a2, 1)
#if __riscv_xlen == 64
    /* 4: a single read from an improperly boxed register is the canonical NaN */
    li a0, 0x000000003f800000
    fmv.d.x f2, a0
    fmv.x.w a1, f2;       CHECK(4, a1, 0x3f800000)   /* fmv.x.w ignores boxing */
    fadd.s f3, f2, f1
    fmv.x.w a1, f3;       CHECK(5, a1, 0x7fc00000)
    /* 6: flw boxes: upper bits all ones */
    la a2, one_f
    flw f4, 0(a2)
    fmv.x.d a1, f4;       CHECK(6, a1, 0xffffffff3f800000)
#endif
    /* 7: 1/3 is inexact: NX accumulates */
    csrw fflags, zero
    li a0, 0x40400000; fmv.w.x f5, a0   /* 3.0 */
    fdiv.s f6, f1, f5
    csrr a1, fflags;      CHECK(7, a1, 1)
    /* 8: divide by zero */
    fmv.w.x f7, zero
    fdiv.s f6, f1, f7
    csrr a1, fflags;      CHECK(8, a1, 1 | 8)
    /* 9: saturating conversion of NaN -> max int, NV */
    csrw fflags, zero
    li a0, 0x7fc00000; fmv.w.x f8, a0
    fcvt.w.s a1, f8, rtz; CHECK(9, a1, 0x7fffffff)
    csrr a1, fflags;      CHECK(10, a1, 16)
    /* 11: rounding modes: 2.5 -> 2 (rne), 3 (rup), 2 (rtz), 3 (rmm) */
    li a0, 0x40200000; fmv.w.x f9, a0
    fcvt.w.s a1, f9, rne; CHECK(11, a1, 2)
    fcvt.w.s a1, f9, rup; CHECK(12, a1, 3)
    fcvt.w.s a1, f9, rtz; CHECK(13, a1, 2)
    fcvt.w.s a1, f9, rmm; CHECK(14, a1, 3)
    /* 15: dynamic rounding through frm */
    li a0, 3; csrw frm, a0
    fcvt.w.s a1, f9;      CHECK(15, a1, 3)
    csrr a1, fcsr;        CHECK(16, a1, (3 << 5) | 16 | 1)
    /* 17: fmin with one NaN returns the other operand */
    fmin.s f10, f8, f1
    fmv.x.w a1, f10;      CHECK(17, a1, 0x3f800000)
    /* 18: fclass of -0.0 and +inf */
    li a0, 0x80000000; fmv.w.x f11, a0
    fclass.s a1, f11;     CHECK(18, a1, 1 << 3)
    li a0, 0x7f800000; fmv.w.x f11, a0
    fclass.s a1, f11;     CHECK(19, a1, 1 << 7)
    /* 20: double arithmetic and conversions */
    fcvt.d.w f12, a0
    li a2, 10
    fcvt.d.w f13, a2
    fmul.d f14, f13, f13
    fcvt.w.d a1, f14;     CHECK(20, a1, 100)
    fsqrt.d f15, f14
    fcvt.w.d a1, f15;     CHECK(21, a1, 10)
    fcvt.s.d f16, f15
    fmv.x.w a1, f16;      CHECK(22, a1, 0x41200000)
    feq.d a1, f15, f13;   CHECK(23, a1, 1)
    /* 24: invalid rounding mode (frm = 5) is illegal for dynamic-rm instructions */
    la t0, h_badrm; csrw mtvec, t0
    li a0, 5; csrw frm, a0
    li gp, 24
    fadd.s f0, f1, f1
    j fail
    .align 2
h_badrm:
    csrr a0, mcause; CHECK(24, a0, 2)
    j pass

    .data
    .align 2
one_f: .word 0x3f800000
