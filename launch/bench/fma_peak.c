/*
 * The single-core floating-point peak of this CPU: twelve independent chains of AVX-512 FMAs
 * (enough to cover the FMA latency), and the clock from a chain of dependent integer additions
 * (one a cycle). docs/performance.md compares the GEMM kernels against this figure.
 *
 *   clang -O2 -mavx512f -mfma launch/bench/fma_peak.c -o /tmp/fma_peak && taskset -c 0 /tmp/fma_peak
 */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(void) {
    enum { CHAINS = 12 };
    __m512 acc[CHAINS];
    const __m512 x = _mm512_set1_ps(1.0000001f), y = _mm512_set1_ps(0.9999999f);
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_set1_ps((float)i);
    const long rounds = 200000000;
    double start = now();
    for (long n = 0; n < rounds; n++) {
        for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_fmadd_ps(acc[i], x, y);
        __asm__ volatile("" ::"v"(acc[0]));
    }
    double seconds = now() - start;
    float sink = 0;
    for (int i = 0; i < CHAINS; i++) sink += _mm512_reduce_add_ps(acc[i]);
    printf("AVX-512 FMA peak: %.1f GFLOP/s (checksum %g)\n", rounds * CHAINS * 32.0 / seconds / 1e9, sink);

    const long adds = 1000000000;
    long r = 0;
    start = now();
    for (long n = 0; n < adds; n++) __asm__ volatile("add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0" : "+r"(r));
    printf("clock: about %.2f GHz\n", 4.0 * adds / (now() - start) / 1e9);
    return 0;
}
