/* A CPU-bound bare-metal workload for the spike board: hashing, sorting,
 * matrix multiply and a bytecode interpreter loop. Prints the retired
 * instruction count (minstret) so the benchmark can report guest MIPS. */
#include "../../tests/guests/common/htif.h"

#define N_SORT 4096
#define N_MAT 48

static unsigned int sortbuf[N_SORT];
static double a[N_MAT][N_MAT], b[N_MAT][N_MAT], c[N_MAT][N_MAT];

static unsigned long long fnv(const unsigned char *p, unsigned long n, unsigned long long h) {
    for (unsigned long i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static void shell_sort(unsigned int *v, int n) {
    for (int gap = n / 2; gap > 0; gap /= 2)
        for (int i = gap; i < n; i++)
            for (int j = i; j >= gap && v[j - gap] > v[j]; j -= gap) {
                unsigned int t = v[j];
                v[j] = v[j - gap];
                v[j - gap] = t;
            }
}

/* A tiny stack machine: the classic interpreter-dispatch loop. */
static long interp(int iterations) {
    static const unsigned char prog[] = {1, 2, 3, 4, 2, 5, 0};
    long acc = 0, x = 7;
    for (int it = 0; it < iterations; it++)
        for (const unsigned char *pc = prog; *pc; pc++) switch (*pc) {
            case 1: acc += x; break;
            case 2: acc ^= acc << 3; break;
            case 3: x = x * 5 + 1; break;
            case 4: acc -= x >> 2; break;
            case 5: acc = (acc >> 1) | (acc << 63); break;
        }
    return acc;
}

static void hex(unsigned long long v) {
    char buf[17];
    for (int i = 15; i >= 0; i--) { buf[i] = "0123456789abcdef"[v & 15]; v >>= 4; }
    buf[16] = 0;
    htif_puts(buf);
}

int main(void) {
    unsigned long long start, end, h = 1469598103934665603ull;
    __asm__ volatile("csrr %0, minstret" : "=r"(start));
    for (int round = 0; round < 100; round++) {
        unsigned int seed = 12345 + round;
        for (int i = 0; i < N_SORT; i++) sortbuf[i] = seed = seed * 1103515245 + 12345;
        shell_sort(sortbuf, N_SORT);
        h = fnv((const unsigned char *)sortbuf, sizeof sortbuf, h);
        for (int i = 0; i < N_MAT; i++)
            for (int j = 0; j < N_MAT; j++) { a[i][j] = (i * j + round) * 0.5; b[i][j] = (i - j) * 0.25; }
        for (int i = 0; i < N_MAT; i++)
            for (int j = 0; j < N_MAT; j++) {
                double s = 0;
                for (int k = 0; k < N_MAT; k++) s += a[i][k] * b[k][j];
                c[i][j] = s;
            }
        h = fnv((const unsigned char *)c, sizeof c, h);
        h ^= (unsigned long long)interp(20000);
    }
    __asm__ volatile("csrr %0, minstret" : "=r"(end));
    htif_puts("checksum ");
    hex(h);
    htif_puts("\ninstret ");
    hex(end - start);
    htif_puts("\n");
    return 0;
}
