# Minimal start-up for spike: one hart runs main, the others wait.
  .section .text.init
  .globl _start
_start:
  csrr t0, mhartid
  bnez t0, park
  li t0, 1 << 13       # mstatus.FS = initial: C code may use the FPU
  csrs mstatus, t0
  la sp, __stack_top
  la t0, __bss_start
  la t1, __bss_end
1:
  bgeu t0, t1, 2f
  sb zero, 0(t0)
  addi t0, t0, 1
  j 1b
2:
  call main
  call htif_exit
park:
  wfi
  j park

  .section .tohost, "aw", @progbits
  .align 6
  .globl tohost
tohost: .dword 0
  .size tohost, 8
  .align 6
  .globl fromhost
fromhost: .dword 0
  .size fromhost, 8
