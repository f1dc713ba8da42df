// Crash-safety guest (virt board, -bios none): drives the virtio-blk disk
// through the legacy virtio-mmio layout and writes 4 KiB blocks forever.
// Block n of run R holds, in every 512-byte sector, (R, n, sector index,
// checksum) followed by filler; after each batch it flushes and prints
// "F <R> <n>\n" on the UART: everything up to write n is then stable.
// R is the goldfish RTC's nanoseconds at boot, so runs never collide.
#include <stdint.h>

#define UART ((volatile uint8_t *)0x10000000)
#define RTC ((volatile uint32_t *)0x101000)
#define MMIO_BASE 0x10001000ul
#define NBLOCKS 4096u  // 16 MiB of the disk

static void putc_(char c) { *UART = (uint8_t)c; }
static void puts_(const char *s) {
    while (*s) putc_(*s++);
}
static void puthex(uint64_t v) {
    for (int i = 60; i >= 0; i -= 4) putc_("0123456789abcdef"[(v >> i) & 15]);
}

static inline uint32_t rd(uintptr_t a) { return *(volatile uint32_t *)a; }
static inline void wr(uintptr_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
#define FENCE() __asm__ volatile("fence rw, rw" ::: "memory")

enum { QSIZE = 8 };
struct desc { uint64_t addr; uint32_t len; uint16_t flags, next; };
struct req { uint32_t type, reserved; uint64_t sector; };

static uint8_t ring[3 * 4096] __attribute__((aligned(4096)));
static struct req hdr;
static uint8_t data[4096] __attribute__((aligned(16)));
static volatile uint8_t status;
static uint16_t avail_idx, used_seen;

static struct desc *descs(void) { return (struct desc *)ring; }
static volatile uint16_t *avail(void) { return (volatile uint16_t *)(ring + 16 * QSIZE); }
static volatile uint16_t *used(void) { return (volatile uint16_t *)(ring + 4096); }

// The block a write goes to: the same hash the test's checker uses.
static uint32_t block_of(uint64_t run, uint64_t n) { return (uint32_t)(((n * 2654435761ull + run) >> 16) % NBLOCKS); }

static int request(uintptr_t dev, uint32_t type, uint64_t sector, int with_data) {
    struct desc *d = descs();
    hdr.type = type;
    hdr.reserved = 0;
    hdr.sector = sector;
    status = 0xff;
    d[0] = (struct desc){(uint64_t)(uintptr_t)&hdr, sizeof hdr, 1, 1};
    if (with_data) {
        d[1] = (struct desc){(uint64_t)(uintptr_t)data, sizeof data, 1, 2};
        d[2] = (struct desc){(uint64_t)(uintptr_t)&status, 1, 2, 0};
    } else {
        d[1] = (struct desc){(uint64_t)(uintptr_t)&status, 1, 2, 0};
    }
    volatile uint16_t *a = avail();
    a[2 + avail_idx % QSIZE] = 0;
    FENCE();
    avail_idx++;
    a[1] = avail_idx;
    FENCE();
    wr(dev + 0x050, 0);
    while (used()[1] == used_seen) FENCE();
    used_seen++;
    wr(dev + 0x064, rd(dev + 0x060));
    return status;
}

int main(void) {
    uintptr_t dev = 0;
    for (uintptr_t a = MMIO_BASE; a < MMIO_BASE + 8 * 0x1000; a += 0x1000)
        if (rd(a) == 0x74726976 && rd(a + 8) == 2) dev = a;
    if (!dev) {
        puts_("no virtio-blk\n");
        return 0;
    }
    wr(dev + 0x070, 0);
    wr(dev + 0x070, 1 | 2);
    wr(dev + 0x014, 0);
    uint32_t feat = rd(dev + 0x010);
    wr(dev + 0x024, 0);
    wr(dev + 0x020, feat & (1u << 9));  // FLUSH only
    wr(dev + 0x028, 4096);
    wr(dev + 0x030, 0);
    if (rd(dev + 0x034) < QSIZE) {
        puts_("queue too small\n");
        return 0;
    }
    wr(dev + 0x038, QSIZE);
    wr(dev + 0x03c, 4096);
    wr(dev + 0x040, (uint32_t)((uintptr_t)ring >> 12));
    wr(dev + 0x070, 1 | 2 | 4);

    uint32_t lo = RTC[0], hi = RTC[1];
    uint64_t run = ((uint64_t)hi << 32 | lo) & 0xffffffffffffull;
    puts_("R ");
    puthex(run);
    putc_('\n');
    for (uint64_t n = 1;; n++) {
        uint32_t b = block_of(run, n);
        uint64_t *w = (uint64_t *)data;
        for (uint32_t s = 0; s < 8; s++) {
            uint64_t *p = w + s * 64;
            p[0] = run;
            p[1] = n;
            p[2] = (uint64_t)b * 8 + s;
            for (int i = 3; i < 64; i++) p[i] = run ^ (n * 0x9e3779b97f4a7c15ull) ^ (uint64_t)i;
        }
        if (request(dev, 1, (uint64_t)b * 8, 1) != 0) {
            puts_("write failed\n");
            return 0;
        }
        if (n % 4 == 0) {
            if (request(dev, 4, 0, 0) != 0) {
                puts_("flush failed\n");
                return 0;
            }
            puts_("F ");
            puthex(n);
            putc_('\n');
        }
    }
}
