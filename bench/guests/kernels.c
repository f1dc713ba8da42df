/* CPU-bound kernels for bench/cpu_jit.py, one per build (-DKERNEL=name):
 * hash, sort, interp, matmul (integer); fmadd, nbody, mandel (floating
 * point). Built for riscv64 bare metal (spike, HTIF console) and for the host
 * (-DNATIVE, stdio). Each prints "checksum <hex>" so the runs can be compared. */
#ifdef NATIVE
#include <stdio.h>
#define out_hex(v) printf("checksum %016llx\n", (unsigned long long)(v))
#else
#include "../../tests/guests/common/htif.h"
static void out_hex(unsigned long long v) {
    char buf[18];
    for (int i = 15; i >= 0; i--) { buf[i] = "0123456789abcdef"[v & 15]; v >>= 4; }
    buf[16] = '\n';
    buf[17] = 0;
    htif_puts("checksum ");
    htif_puts(buf);
}
#endif

#ifndef SCALE
#define SCALE 64   /* outer repetitions: about a second per kernel under a JIT */
#endif

typedef unsigned long long u64;
typedef unsigned int u32;

#define N 4096
static u32 buf[N];
static double m1[64][64], m2[64][64], m3[64][64];

static u64 k_hash(void) {   /* FNV-1a and a xorshift mixer over a buffer */
    u64 h = 1469598103934665603ull, x = 88172645463325252ull;
    for (int r = 0; r < 40 * SCALE; r++)
        for (int i = 0; i < N; i++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            h = (h ^ (u32)(x ^ buf[i])) * 1099511628211ull;
            buf[i] = (u32)h;
        }
    return h;
}

static u64 k_sort(void) {   /* quicksort of pseudo-random keys, repeated */
    u64 h = 0;
    for (int r = 0; r < 4 * SCALE; r++) {
        u32 seed = 7 + r;
        for (int i = 0; i < N; i++) buf[i] = seed = seed * 1103515245u + 12345u;
        int lo_st[64], hi_st[64], sp = 0;
        lo_st[sp] = 0; hi_st[sp++] = N - 1;
        while (sp) {
            int lo = lo_st[--sp], hi = hi_st[sp];
            while (lo < hi) {
                u32 p = buf[(lo + hi) / 2];
                int i = lo, j = hi;
                while (i <= j) {
                    while (buf[i] < p) i++;
                    while (buf[j] > p) j--;
                    if (i <= j) { u32 t = buf[i]; buf[i] = buf[j]; buf[j] = t; i++; j--; }
                }
                if (j - lo < hi - i) { lo_st[sp] = i; hi_st[sp++] = hi; hi = j; }
                else { lo_st[sp] = lo; hi_st[sp++] = j; lo = i; }
            }
        }
        for (int i = 0; i < N; i += 64) h = h * 31 + buf[i];
    }
    return h;
}

static u64 k_interp(void) {   /* a bytecode interpreter: switch dispatch */
    static const unsigned char prog[] = {1, 2, 3, 4, 2, 5, 6, 1, 3, 0};
    u64 acc = 0, x = 7;
    for (int it = 0; it < 60000 * SCALE; it++)
        for (const unsigned char *pc = prog; *pc; pc++) switch (*pc) {
            case 1: acc += x; break;
            case 2: acc ^= acc << 3; break;
            case 3: x = x * 5 + 1; break;
            case 4: acc -= x >> 2; break;
            case 5: acc = (acc >> 1) | (acc << 63); break;
            case 6: acc += (acc & 0xff) * 3; break;
        }
    return acc;
}

static u64 k_matmul(void) {   /* integer matrix multiply */
    static u32 a[64][64], b[64][64], c[64][64];
    u64 h = 0;
    for (int r = 0; r < 8 * SCALE; r++) {
        for (int i = 0; i < 64; i++)
            for (int j = 0; j < 64; j++) { a[i][j] = i * j + r; b[i][j] = i ^ j ^ r; }
        for (int i = 0; i < 64; i++)
            for (int j = 0; j < 64; j++) {
                u32 s = 0;
                for (int k = 0; k < 64; k++) s += a[i][k] * b[k][j];
                c[i][j] = s;
            }
        for (int i = 0; i < 64; i++) h = h * 131 + c[i][(i * 7) & 63];
    }
    return h;
}

static u64 dbits(double d) { union { double d; u64 u; } v = {d}; return v.u; }

static u64 k_fmadd(void) {   /* double matrix multiply (fmadd) */
    u64 h = 0;
    for (int r = 0; r < SCALE; r++) {
        for (int i = 0; i < 64; i++)
            for (int j = 0; j < 64; j++) { m1[i][j] = (i * j + r) * 0.5; m2[i][j] = (i - j) * 0.25; }
        for (int i = 0; i < 64; i++)
            for (int j = 0; j < 64; j++) {
                double s = 0;
                for (int k = 0; k < 64; k++) s += m1[i][k] * m2[k][j];
                m3[i][j] = s;
            }
        h = h * 31 + dbits(m3[r & 63][(r + 1) & 63]);
    }
    return h;
}

static u64 k_nbody(void) {   /* a small n-body step loop: div, sqrt */
    double x[8], y[8], vx[8], vy[8];
    for (int i = 0; i < 8; i++) { x[i] = i; y[i] = i * 0.5 - 2; vx[i] = 0; vy[i] = 0.1 * i; }
    for (int s = 0; s < 500 * SCALE; s++)
        for (int i = 0; i < 8; i++)
            for (int j = 0; j < 8; j++) {
                if (i == j) continue;
                double dx = x[j] - x[i], dy = y[j] - y[i];
                double d2 = dx * dx + dy * dy + 0.01;
                double inv = 1.0 / (d2 * __builtin_sqrt(d2));
                vx[i] += dx * inv * 1e-3;
                vy[i] += dy * inv * 1e-3;
                x[i] += vx[i] * 1e-3;
                y[i] += vy[i] * 1e-3;
            }
    u64 h = 0;
    for (int i = 0; i < 8; i++) h = h * 31 + dbits(x[i]) + dbits(vy[i]);
    return h;
}

static u64 k_mandel(void) {   /* Mandelbrot iteration counts */
    u64 h = 0;
    for (int py = 0; py < 12 * SCALE; py++)
        for (int px = 0; px < 128; px++) {
            double cr = px / 48.0 - 2.0, ci = py / (6.0 * SCALE) - 1.0, zr = 0, zi = 0;
            int n = 0;
            while (n < 200 && zr * zr + zi * zi < 4.0) {
                double t = zr * zr - zi * zi + cr;
                zi = 2 * zr * zi + ci;
                zr = t;
                n++;
            }
            h = h * 33 + n;
        }
    return h;
}

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

int main(void) {
    out_hex(CAT(k_, KERNEL)());
    return 0;
}
