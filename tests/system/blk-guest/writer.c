// Crash-safety guest (virt board, -bios none): drives the virtio-blk disk
// through the legacy virtio-mmio layout and writes 4 KiB blocks forever.
// Block n of run R holds, in every 512-byte sector, (R, n, sector index,
// checksum) followed by filler; after each batch it flushes and prints
// "F <R> <n>\n" on the UART: everything up to write n is then stable.
// R is the goldfish RTC's nanoseconds at boot, so runs never collide.
#include "vblk.h"  // tests/guests/virt: the legacy virtio-blk driver

#define RTC ((volatile uint32_t *)0x101000)
#define NBLOCKS 4096u  // 16 MiB of the disk

static void puthex(uint64_t v) {
    for (int i = 60; i >= 0; i -= 4) putc_("0123456789abcdef"[(v >> i) & 15]);
}

// The block a write goes to: the same hash the test's checker uses.
static uint32_t block_of(uint64_t run, uint64_t n) { return (uint32_t)(((n * 2654435761ull + run) >> 16) % NBLOCKS); }

int main(void) {
    if (!vblk_init()) return 0;

    uint32_t lo = RTC[0], hi = RTC[1];
    uint64_t run = ((uint64_t)hi << 32 | lo) & 0xffffffffffffull;
    puts_("R ");
    puthex(run);
    putc_('\n');
    for (uint64_t n = 1;; n++) {
        uint32_t b = block_of(run, n);
        uint64_t *w = (uint64_t *)vblk_data;
        for (uint32_t s = 0; s < 8; s++) {
            uint64_t *p = w + s * 64;
            p[0] = run;
            p[1] = n;
            p[2] = (uint64_t)b * 8 + s;
            for (int i = 3; i < 64; i++) p[i] = run ^ (n * 0x9e3779b97f4a7c15ull) ^ (uint64_t)i;
        }
        if (vblk_request(VBLK_T_OUT, (uint64_t)b * 8) != 0) {
            puts_("write failed\n");
            return 0;
        }
        if (n % 4 == 0) {
            if (vblk_request(VBLK_T_FLUSH, 0) != 0) {
                puts_("flush failed\n");
                return 0;
            }
            puts_("F ");
            puthex(n);
            putc_('\n');
        }
    }
}
