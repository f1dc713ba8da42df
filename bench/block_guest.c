// Block I/O benchmark guest (virt board, -bios none): through the legacy
// virtio-mmio virtio-blk, N requests of 4 KiB in each phase -- sequential
// write, random write, flush, sequential read, random read -- one request
// in flight (as `fio --iodepth=1`). Prints "BEGIN name" before a phase and
// "PHASE name ticks count" after it (ticks of the time CSR, 10 MHz on
// virt), then "DONE"; the host times the lines as they arrive.
#include <stdint.h>

__asm__(".section .text.startup\n.globl _start\n_start:\n csrr t0, mhartid\n bnez t0, 1f\n"
        " la sp, stack_top\n call main\n li t0, 0x100000\n li t1, 0x5555\n sw t1, 0(t0)\n1: wfi\n j 1b\n"
        ".bss\n.balign 16\n.space 16384\nstack_top:\n.text\n");

#include "vblk.h"  // tests/guests/virt: the legacy virtio-blk driver

#ifndef COUNT
#define COUNT 4096  // 16 MiB per phase
#endif
#define SPAN_BLOCKS 16384u  // random requests land in the first 64 MiB

static void putdec(uint64_t v) {
    char b[24];
    int i = 0;
    do b[i++] = (char)('0' + v % 10), v /= 10;
    while (v);
    while (i) putc_(b[--i]);
}
static inline uint64_t now(void) {
    uint64_t t;
    __asm__ volatile("csrr %0, time" : "=r"(t));
    return t;
}

static uint64_t rng = 88172645463325252ull;
static uint64_t next_block(int random, uint64_t i) {
    if (!random) return i;
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng % SPAN_BLOCKS;
}

static void phase(const char *name, uint32_t type, int random) {
    puts_("BEGIN ");
    puts_(name);
    putc_('\n');
    uint64_t t0 = now();
    for (uint64_t i = 0; i < COUNT; i++) {
        if (type == VBLK_T_OUT) vblk_data[0] = (uint8_t)i;
        if (vblk_request(type, next_block(random, i) * 8) != 0) {
            puts_("IOERROR\n");
            return;
        }
    }
    if (type == VBLK_T_OUT) vblk_request(VBLK_T_FLUSH, 0);  // writes count until they are flushed
    uint64_t t = now() - t0;
    puts_("PHASE ");
    puts_(name);
    putc_(' ');
    putdec(t);
    putc_(' ');
    putdec(COUNT);
    putc_('\n');
}

int main(void) {
    if (!vblk_init()) return 0;
    phase("seq-write", VBLK_T_OUT, 0);
    phase("rand-write", VBLK_T_OUT, 1);
    phase("seq-read", VBLK_T_IN, 0);
    phase("rand-read", VBLK_T_IN, 1);
    puts_("DONE\n");
    return 0;
}
