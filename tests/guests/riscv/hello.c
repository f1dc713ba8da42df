/* A C guest: prints through the HTIF console and checks some arithmetic the
 * compiler generates (calls, loops, 64-bit math on RV32, FP). */
#include <stdint.h>

extern volatile uint64_t tohost;

static void htif_putc(char c) {
    tohost = (1ull << 56) | (1ull << 48) | (uint8_t)c;
    while (tohost) {
    }
}

static void puts_(const char *s) {
    while (*s) htif_putc(*s++);
}

static uint64_t fib(unsigned n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

int main(void) {
    puts_("hello from the guest\n");
    if (fib(20) != 6765) return 2;
    volatile uint64_t big = 0x123456789ull;
    if (big * 3 != 0x369d0369bull) return 3;
    if (big / 7 != 0x299c335cull) return 4;
    volatile double d = 2.0;
    if (d * d + 0.5 != 4.5) return 5;
    volatile float f = 1.5f;
    if ((int)(f * 4.0f) != 6) return 6;
    return 0;
}
