# For the virt board with -bios none: powers off through sifive_test with
# FAIL and exit code 3.
  .section .text
  .globl _start
_start:
  li t0, 0x100000
  li t1, (3 << 16) | 0x3333
  sw t1, 0(t0)
1:
  j 1b
