// A minimal bare-metal driver for the virt board's first virtio-blk on the
// legacy virtio-mmio layout (version 1: GuestPageSize/QueuePFN), one request
// in flight, polled; plus UART output. Shared by the block crash-safety guest
// (tests/system/blk-guest/writer.c) and the block benchmark guest
// (bench/block_guest.c). Header-only: each guest is one translation unit.
#pragma once
#include <stdint.h>

#define VBLK_UART ((volatile uint8_t *)0x10000000)
#define VBLK_MMIO_BASE 0x10001000ul
#define VBLK_FENCE() __asm__ volatile("fence rw, rw" ::: "memory")

enum { VBLK_QSIZE = 8, VBLK_T_IN = 0, VBLK_T_OUT = 1, VBLK_T_FLUSH = 4 };

static void putc_(char c) { *VBLK_UART = (uint8_t)c; }
static void puts_(const char *s) {
    while (*s) putc_(*s++);
}

static inline uint32_t vblk_rd(uintptr_t a) { return *(volatile uint32_t *)a; }
static inline void vblk_wr(uintptr_t a, uint32_t v) { *(volatile uint32_t *)a = v; }

struct vblk_desc { uint64_t addr; uint32_t len; uint16_t flags, next; };
struct vblk_req { uint32_t type, reserved; uint64_t sector; };

static uint8_t vblk_ring[3 * 4096] __attribute__((aligned(4096)));
static struct vblk_req vblk_hdr;
static uint8_t vblk_data[4096] __attribute__((aligned(16)));  // the one 4 KiB data buffer
static volatile uint8_t vblk_status;
static uint16_t vblk_avail_idx, vblk_used_seen;
static uintptr_t vblk_dev;

// Finds and sets up the device (FLUSH is the only feature taken); 0 and a
// message on the UART when there is none.
static int vblk_init(void) {
    for (uintptr_t a = VBLK_MMIO_BASE; a < VBLK_MMIO_BASE + 8 * 0x1000; a += 0x1000)
        if (vblk_rd(a) == 0x74726976 && vblk_rd(a + 8) == 2) vblk_dev = a;
    const uintptr_t dev = vblk_dev;
    if (!dev) {
        puts_("no virtio-blk\n");
        return 0;
    }
    vblk_wr(dev + 0x070, 0);
    vblk_wr(dev + 0x070, 1 | 2);
    vblk_wr(dev + 0x014, 0);
    uint32_t feat = vblk_rd(dev + 0x010);
    vblk_wr(dev + 0x024, 0);
    vblk_wr(dev + 0x020, feat & (1u << 9));  // FLUSH only
    vblk_wr(dev + 0x028, 4096);
    vblk_wr(dev + 0x030, 0);
    if (vblk_rd(dev + 0x034) < VBLK_QSIZE) {
        puts_("queue too small\n");
        return 0;
    }
    vblk_wr(dev + 0x038, VBLK_QSIZE);
    vblk_wr(dev + 0x03c, 4096);
    vblk_wr(dev + 0x040, (uint32_t)((uintptr_t)vblk_ring >> 12));
    vblk_wr(dev + 0x070, 1 | 2 | 4);
    return 1;
}

// One request (IN/OUT of vblk_data at `sector`, or FLUSH), waited for;
// returns the device's status byte (0: OK).
static int vblk_request(uint32_t type, uint64_t sector) {
    struct vblk_desc *d = (struct vblk_desc *)vblk_ring;
    vblk_hdr = (struct vblk_req){type, 0, sector};
    vblk_status = 0xff;
    d[0] = (struct vblk_desc){(uint64_t)(uintptr_t)&vblk_hdr, sizeof vblk_hdr, 1, 1};
    if (type != VBLK_T_FLUSH) {
        d[1] = (struct vblk_desc){(uint64_t)(uintptr_t)vblk_data, sizeof vblk_data,
                                  (uint16_t)(1 | (type == VBLK_T_IN ? 2 : 0)), 2};
        d[2] = (struct vblk_desc){(uint64_t)(uintptr_t)&vblk_status, 1, 2, 0};
    } else {
        d[1] = (struct vblk_desc){(uint64_t)(uintptr_t)&vblk_status, 1, 2, 0};
    }
    volatile uint16_t *a = (volatile uint16_t *)(vblk_ring + 16 * VBLK_QSIZE);
    a[2 + vblk_avail_idx % VBLK_QSIZE] = 0;
    VBLK_FENCE();
    a[1] = ++vblk_avail_idx;
    VBLK_FENCE();
    vblk_wr(vblk_dev + 0x050, 0);
    volatile uint16_t *u = (volatile uint16_t *)(vblk_ring + 4096);
    while (u[1] == vblk_used_seen) VBLK_FENCE();
    vblk_used_seen++;
    vblk_wr(vblk_dev + 0x064, vblk_rd(vblk_dev + 0x060));
    return vblk_status;
}
