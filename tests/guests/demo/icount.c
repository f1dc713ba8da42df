/* -icount guest: prints what it measures of time against its own work, on
 * spike (CLINT at 0x2000000, 10 MHz). Under -icount every number is a
 * function of the instructions executed: two runs print the same. */
#include "../common/htif.h"

#define CLINT 0x2000000ul
static volatile uint64_t *const mtime = (volatile uint64_t *)(CLINT + 0xbff8);
static volatile uint64_t *const mtimecmp = (volatile uint64_t *)(CLINT + 0x4000);

static uint64_t instret(void) {
    uint64_t v;
    __asm__ volatile("csrr %0, minstret" : "=r"(v));
    return v;
}
static uint64_t mip(void) {
    uint64_t v;
    __asm__ volatile("csrr %0, mip" : "=r"(v));
    return v;
}

static void put_num(const char *label, uint64_t v) {
    char buf[24];
    int i = 23;
    buf[i] = 0;
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    htif_puts(label);
    htif_puts(buf + i);
    htif_puts("\n");
}

int main(void) {
    /* Work against time. */
    uint64_t t0 = *mtime, i0 = instret();
    for (volatile int k = 0; k < 200000; k++) {
    }
    uint64_t t1 = *mtime, i1 = instret();
    put_num("work-insns ", i1 - i0);
    put_num("work-ticks ", t1 - t0);

    /* A timer 1 ms ahead, polled: how many polls it takes. */
    uint64_t cmp = *mtime + 10000, spins = 0;
    *mtimecmp = cmp;
    while (!(mip() & 0x80)) spins++;
    put_num("poll-spins ", spins);
    put_num("poll-late ", *mtime - cmp);

    /* WFI until a timer 20 s ahead (sleep=off: no real waiting). */
    __asm__ volatile("csrs mie, %0" ::"r"(0x80ul));
    cmp = *mtime + 200000000ul;
    *mtimecmp = cmp;
    uint64_t wfis = 0;
    while (!(mip() & 0x80)) {
        __asm__ volatile("wfi");
        wfis++;
    }
    put_num("wfi-late ", *mtime - cmp);
    put_num("wfi-count ", wfis);
    put_num("mtime ", *mtime);
    return 0;
}
