/* Start-up for C guests: trap vector, PMP, stack, FPU on; main's return value
 * is the exit code written to tohost. */
#include "guest.h"
GUEST_START
test:
    li t0, 1 << 13; csrs mstatus, t0   /* FS = Initial */
    call main
    mv gp, a0
    beqz gp, pass
    j exit
