/* HTIF console and exit for bare-metal programs on spike. */
#ifndef GUEST_HTIF_H
#define GUEST_HTIF_H
#include <stdint.h>

extern volatile uint64_t tohost;
extern volatile uint64_t fromhost;

static inline void htif_putc(char c) {
    tohost = (1ull << 56) | (1ull << 48) | (uint8_t)c;
    while (tohost) {
    }
}
static inline void htif_puts(const char *s) {
    while (*s) htif_putc(*s++);
}
void htif_exit(int code);
#endif
