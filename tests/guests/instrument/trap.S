# Three ecalls from M-mode, each returning through a handler that skips it,
# then a WFI woken by the CLINT timer (enabled in mie, masked in mstatus, so
# it wakes the hart without a trap), then exit through HTIF and halt in WFI.
# For the discontinuity callbacks: 3 exceptions from the ecalls (at
# `first_ecall`, +4, +8) to `handler`; at least one idle and one resume.
  .section .text.init
  .globl _start
_start:
  la t0, handler
  csrw mtvec, t0
  .globl first_ecall
first_ecall:
  ecall
  ecall
  ecall
  li t0, 0x200bff8     # CLINT mtime
  ld t1, 0(t0)
  li t2, 100000        # 10 ms at 10 MHz
  add t1, t1, t2
  li t0, 0x2004000     # CLINT mtimecmp (hart 0)
  sd t1, 0(t0)
  li t0, 0x80          # MTIE
  csrs mie, t0
2:
  wfi
  csrr t0, mip
  andi t0, t0, 0x80
  beqz t0, 2b
  la t1, tohost
  li t2, 1
  sd t2, 0(t1)
1:
  wfi
  j 1b

  .align 2
  .globl handler
handler:
  csrr t3, mepc
  addi t3, t3, 4
  csrw mepc, t3
  mret

  .section .tohost, "aw", @progbits
  .align 6
  .globl tohost
tohost: .dword 0
  .size tohost, 8
  .align 6
  .globl fromhost
fromhost: .dword 0
  .size fromhost, 8
