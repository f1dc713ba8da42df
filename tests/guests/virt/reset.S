# For the virt board with -bios none: counts boots in RAM that survives a
# reset (outside the loaded image), prints "boot N" on the UART, asks the
# sifive_test device for a reset on the first boot and for poweroff with
# status 0 on the second (or with FAIL and code 7 when a0 arrives wrong).
  .section .text
  .globl _start
_start:
  csrr t0, mhartid
  bnez t0, park
  li s0, 0x80100000        # boot counter
  li s1, 0x10000000        # UART0 THR
  li s2, 0x100000          # sifive_test
  lw t0, 0(s0)
  addi t0, t0, 1
  sw t0, 0(s0)
  li t1, 'b'
  sb t1, 0(s1)
  addi t1, t0, '0'
  sb t1, 0(s1)
  li t1, '\n'
  sb t1, 0(s1)
  li t1, 2
  bge t0, t1, done
  li t1, 0x7777            # reset
  sw t1, 0(s2)
park:
  wfi
  j park
done:
  li t1, 0x5555            # poweroff, pass
  sw t1, 0(s2)
  j park
