/* Bare-metal test of crc-accel on the riscv `virt` board (-bios none):
 * programs the device, waits for its interrupt through the PLIC (or polls
 * STATUS), compares RESULT with a software CRC, prints PASS or FAIL <n> on
 * the UART and powers off through the sifive_test device (status n on failure).
 *
 * Expects the device at CRC_BASE with PLIC source CRC_IRQ: the first device on
 * virt's platform bus (-device crc-accel,addr=0x4000000). */
#include <stdint.h>

#define CRC_BASE 0x4000000ul
#define CRC_IRQ 64
#define UART_BASE 0x10000000ul
#define TEST_BASE 0x100000ul
#define PLIC_BASE 0xc000000ul

enum {
    REG_ID = 0x00, REG_VERSION = 0x04, REG_SRC_LO = 0x08, REG_SRC_HI = 0x0c, REG_LEN = 0x10,
    REG_POLY = 0x14, REG_CTRL = 0x18, REG_STATUS = 0x1c, REG_RESULT = 0x20, REG_IRQ_EN = 0x24,
    REG_IRQ_STAT = 0x28, REG_IRQ_ACK = 0x2c,
};
enum { ST_BUSY = 1, ST_DONE = 2, ST_ERROR = 4 };

static inline void w32(uintptr_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline uint32_t r32(uintptr_t a) { return *(volatile uint32_t *)a; }
static inline uint32_t crc_rd(unsigned off) { return r32(CRC_BASE + off); }
static inline void crc_wr(unsigned off, uint32_t v) { w32(CRC_BASE + off, v); }

static void putc_(char c) {
    while (!(*(volatile uint8_t *)(UART_BASE + 5) & 0x20)) {
    }
    *(volatile uint8_t *)UART_BASE = (uint8_t)c;
}
static void puts_(const char *s) {
    while (*s) putc_(*s++);
}
static void puthex(uint32_t v) {
    for (int i = 28; i >= 0; i -= 4) putc_("0123456789abcdef"[(v >> i) & 15]);
}

void exit_status(int code) {
    w32(TEST_BASE, code == 0 ? 0x5555 : ((uint32_t)code << 16) | 0x3333);
    for (;;) __asm__ volatile("wfi");
}

/* The guest's own CRC, bit by bit (deliberately not the device's table method). */
static uint32_t soft_crc(const uint8_t *p, uint32_t n, uint32_t poly) {
    uint32_t c = 0xffffffffu;
    for (uint32_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
    }
    return ~c;
}
static const uint32_t polys[2] = {0xEDB88320u, 0x82F63B78u};

static void start(const void *buf, uint32_t len, uint32_t poly) {
    uintptr_t a = (uintptr_t)buf;
    crc_wr(REG_SRC_LO, (uint32_t)a);
    crc_wr(REG_SRC_HI, (uint32_t)((uint64_t)a >> 32));
    crc_wr(REG_LEN, len);
    crc_wr(REG_POLY, poly);
    crc_wr(REG_CTRL, 1);
}

static uint32_t wait_poll(void) {
    uint32_t st;
    while ((st = crc_rd(REG_STATUS)) & ST_BUSY) {
    }
    return st;
}

/* Sleep in WFI until the PLIC has our source, claim and complete it. */
static int wait_irq(void) {
    volatile uint32_t *claim = (volatile uint32_t *)(PLIC_BASE + 0x200004);
    for (long spins = 0; spins < 1000000; spins++) {
        __asm__ volatile("wfi");
        uint32_t id = *claim;
        if (id == 0) continue;
        if (id != CRC_IRQ) return -(int)id;
        if (!(crc_rd(REG_IRQ_STAT) & 1)) return -1000;
        crc_wr(REG_IRQ_ACK, 1);
        *claim = id; /* complete */
        return 0;
    }
    return -2000;
}

static uint8_t big[65536];

#define CHECK(n, cond)                  \
    do {                                \
        if (!(cond)) {                  \
            puts_("FAIL ");             \
            putc_('0' + (n) / 10);      \
            putc_('0' + (n) % 10);      \
            putc_('\n');                \
            return n;                   \
        }                               \
    } while (0)

int main(void) {
    static const char check[] = "123456789";
    CHECK(1, crc_rd(REG_ID) == 0x41435243u);
    CHECK(2, crc_rd(REG_VERSION) == 0x00010000u);

    /* Polled: the catalogue check values of both polynomials. */
    start(check, 9, 0);
    CHECK(3, wait_poll() == ST_DONE);
    CHECK(4, crc_rd(REG_RESULT) == 0xCBF43926u && soft_crc((const uint8_t *)check, 9, polys[0]) == 0xCBF43926u);
    start(check, 9, 1);
    CHECK(5, wait_poll() == ST_DONE);
    CHECK(6, crc_rd(REG_RESULT) == 0xE3069283u && soft_crc((const uint8_t *)check, 9, polys[1]) == 0xE3069283u);
    CHECK(7, crc_rd(REG_IRQ_STAT) == 1); /* latched even with IRQ_EN off */
    crc_wr(REG_IRQ_ACK, 1);
    CHECK(8, crc_rd(REG_IRQ_STAT) == 0);

    /* Interrupt-driven: PLIC source priority 1, enabled for hart 0 M-mode
     * (context 0), threshold 0; MEIE on so WFI wakes, MIE off so no trap. */
    w32(PLIC_BASE + 4 * CRC_IRQ, 1);
    w32(PLIC_BASE + 0x2000 + 4 * (CRC_IRQ / 32), 1u << (CRC_IRQ % 32));
    w32(PLIC_BASE + 0x200000, 0);
    __asm__ volatile("csrs mie, %0" ::"r"(1ul << 11));
    crc_wr(REG_IRQ_EN, 1);

    uint32_t x = 12345;
    for (unsigned i = 0; i < sizeof big; i++) {
        x = x * 1103515245u + 12345u;
        big[i] = (uint8_t)(x >> 16);
    }
    for (uint32_t p = 0; p < 2; p++) {
        start(big, sizeof big, p);
        int r = wait_irq();
        if (r) {
            puts_("irq wait ");
            puthex((uint32_t)r);
            putc_('\n');
        }
        CHECK(10 + (int)p, r == 0);
        CHECK(12 + (int)p, crc_rd(REG_STATUS) == ST_DONE);
        CHECK(14 + (int)p, crc_rd(REG_RESULT) == soft_crc(big, sizeof big, polys[p]));
    }
    /* An odd length and offset. */
    start(big + 3, 1001, 1);
    CHECK(16, wait_irq() == 0);
    CHECK(17, crc_rd(REG_RESULT) == soft_crc(big + 3, 1001, polys[1]));

    /* DMA from nowhere: ERROR, still an interrupt. */
    start((const void *)0x8, 16, 0);
    CHECK(18, wait_irq() == 0);
    CHECK(19, crc_rd(REG_STATUS) == (ST_DONE | ST_ERROR));

    puts_("crc32(123456789)=");
    puthex(0xCBF43926u);
    puts_("\nPASS\n");
    return 0;
}
