# Deterministic guest for the instrumentation tests (spike, -bios none):
# a loop of LOOPS iterations, 4 instructions and 2 memory accesses each, then
# exit through HTIF and halt in WFI (so nothing more runs after the exit
# request). Built with -march=rv64g (no compressed instructions).
#
# Executed from _start: 4*LOOPS + 8 instructions in LOOPS + 1 blocks
# (first block: li, la, loop body; LOOPS-1 loop blocks; the exit block up to
# the WFI), 2*LOOPS + 1 memory accesses (the loads see LOOPS-1 .. 0).
  .section .text.init
  .globl _start
  .type _start, @function
_start:
  li t0, LOOPS
  la t1, scratch
1:
  addi t0, t0, -1
  sd t0, 0(t1)
  ld t2, 0(t1)
  bnez t0, 1b
  .size _start, . - _start
  .globl done
  .type done, @function
done:
  la t1, tohost
  li t2, 1
  sd t2, 0(t1)
2:
  wfi
  j 2b
  .size done, . - done

  .section .tohost, "aw", @progbits
  .align 6
  .globl tohost
tohost: .dword 0
  .size tohost, 8
  .align 6
  .globl fromhost
fromhost: .dword 0
  .size fromhost, 8

  .section .data
  .align 3
scratch: .dword 0
