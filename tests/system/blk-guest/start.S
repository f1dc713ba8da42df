# Entry for the virt board with -bios none: hart 0 gets a stack and runs
# main; the others park.
  .section .text.startup
  .globl _start
_start:
  csrr t0, mhartid
  bnez t0, 1f
  la sp, stack_top
  call main
1:
  wfi
  j 1b
  .bss
  .balign 16
  .space 16384
stack_top:
