# Entry for the crc-accel test guest (virt, -bios none): hart 0 gets a stack
# and calls main; other harts park. main's return value is the exit status.
  .section .text.init
  .globl _start
_start:
  csrr t0, mhartid
  bnez t0, park
  la sp, stack_top
  call main
  call exit_status
park:
  wfi
  j park

  .bss
  .align 4
  .space 8192
stack_top:
