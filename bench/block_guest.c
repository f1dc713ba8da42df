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

#define UART ((volatile uint8_t *)0x10000000)
#define MMIO_BASE 0x10001000ul
#ifndef COUNT
#define COUNT 4096  // 16 MiB per phase
#endif
#define SPAN_BLOCKS 16384u  // random requests land in the first 64 MiB

static void putc_(char c) { *UART = (uint8_t)c; }
static void puts_(const char *s) {
    while (*s) putc_(*s++);
}
static void putdec(uint64_t v) {
    char b[24];
    int i = 0;
    do b[i++] = (char)('0' + v % 10), v /= 10;
    while (v);
    while (i) putc_(b[--i]);
}
static inline uint32_t rd(uintptr_t a) { return *(volatile uint32_t *)a; }
static inline void wr(uintptr_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline uint64_t now(void) {
    uint64_t t;
    __asm__ volatile("csrr %0, time" : "=r"(t));
    return t;
}
#define FENCE() __asm__ volatile("fence rw, rw" ::: "memory")

enum { QSIZE = 8 };
struct desc { uint64_t addr; uint32_t len; uint16_t flags, next; };
struct req { uint32_t type, reserved; uint64_t sector; };
static uint8_t ring[3 * 4096] __attribute__((aligned(4096)));
static struct req hdr;
static uint8_t data[4096] __attribute__((aligned(16)));
static volatile uint8_t status;
static uint16_t avail_idx, used_seen;
static uintptr_t dev;

static int request(uint32_t type, uint64_t sector, int with_data) {
    struct desc *d = (struct desc *)ring;
    hdr = (struct req){type, 0, sector};
    status = 0xff;
    d[0] = (struct desc){(uint64_t)(uintptr_t)&hdr, sizeof hdr, 1, 1};
    if (with_data) {
        d[1] = (struct desc){(uint64_t)(uintptr_t)data, sizeof data, (uint16_t)(1 | (type == 0 ? 2 : 0)), 2};
        d[2] = (struct desc){(uint64_t)(uintptr_t)&status, 1, 2, 0};
    } else {
        d[1] = (struct desc){(uint64_t)(uintptr_t)&status, 1, 2, 0};
    }
    volatile uint16_t *a = (volatile uint16_t *)(ring + 16 * QSIZE);
    a[2 + avail_idx % QSIZE] = 0;
    FENCE();
    a[1] = ++avail_idx;
    FENCE();
    wr(dev + 0x050, 0);
    volatile uint16_t *u = (volatile uint16_t *)(ring + 4096);
    while (u[1] == used_seen) FENCE();
    used_seen++;
    wr(dev + 0x064, rd(dev + 0x060));
    return status;
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
        if (type == 1) data[0] = (uint8_t)i;
        if (request(type, next_block(random, i) * 8, 1) != 0) {
            puts_("IOERROR\n");
            return;
        }
    }
    if (type == 1) request(4, 0, 0);  // writes count until they are flushed
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
    for (uintptr_t a = MMIO_BASE; a < MMIO_BASE + 8 * 0x1000; a += 0x1000)
        if (rd(a) == 0x74726976 && rd(a + 8) == 2) dev = a;
    if (!dev) {
        puts_("no virtio-blk\n");
        return 0;
    }
    wr(dev + 0x070, 0);
    wr(dev + 0x070, 3);
    wr(dev + 0x014, 0);
    uint32_t feat = rd(dev + 0x010);
    wr(dev + 0x024, 0);
    wr(dev + 0x020, feat & (1u << 9));
    wr(dev + 0x028, 4096);
    wr(dev + 0x030, 0);
    wr(dev + 0x038, QSIZE);
    wr(dev + 0x03c, 4096);
    wr(dev + 0x040, (uint32_t)((uintptr_t)ring >> 12));
    wr(dev + 0x070, 7);
    phase("seq-write", 1, 0);
    phase("rand-write", 1, 1);
    phase("seq-read", 0, 0);
    phase("rand-read", 0, 1);
    puts_("DONE\n");
    return 0;
}
