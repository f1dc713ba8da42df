# The debuggee of the live gdbstub tests: counts in a0 and stores the count
# to `counter` forever.
  .section .text.init
  .option norvc  # fixed 4-byte instructions: the test knows their addresses
  .globl _start
_start:
  li a0, 0
  la t1, counter
loop:
  addi a0, a0, 1
  sd a0, 0(t1)
  j loop

  .data
  .globl counter
counter: .dword 0

  .section .tohost, "aw", @progbits
  .align 6
  .globl tohost
tohost: .dword 0
  .globl fromhost
fromhost: .dword 0
