/*
 * The GAN generator's four forward products (64 rows: 100 -> 256 -> 512 -> 1024 -> 784) chained
 * as in a training step, through SkinnyGEMM, repeated with a stream of other data read between
 * repetitions: how fast the chain runs when its 6 MB of weights were last touched that many
 * megabytes ago. Best of 60 chains, per argument.
 *
 *   clang -O2 -ISources/SkinnyGEMM/include launch/bench/gan_forward_eviction.c \
 *       Sources/SkinnyGEMM/SkinnyGEMM.c -o /tmp/gan_forward_eviction
 *   for mb in 0 7 15 30 91; do taskset -c 0 /tmp/gan_forward_eviction $mb; done
 */
#include "SkinnyGEMM.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    const int dims[5] = {100, 256, 512, 1024, 784}, batch = 64;
    float *w[4], *x[5];
    srand(1);
    for (int l = 0; l < 4; l++) {
        const long n = (long)dims[l] * dims[l + 1];
        w[l] = aligned_alloc(64, n * sizeof(float));
        for (long i = 0; i < n; i++) w[l][i] = (float)rand() / (float)RAND_MAX - 0.5f;
    }
    for (int l = 0; l < 5; l++) {
        x[l] = aligned_alloc(64, (long)batch * dims[l] * sizeof(float) + 64);
        for (long i = 0; i < (long)batch * dims[l]; i++) x[l][i] = 0.01f;
    }
    const long between = (argc > 1 ? atol(argv[1]) : 0) * (1 << 20) / sizeof(float);
    float *junk = between ? malloc(between * sizeof(float)) : NULL;
    for (long i = 0; i < between; i++) junk[i] = (float)i;
    if (!ddp_skinny_gemm_available()) { fprintf(stderr, "SkinnyGEMM needs AVX-512F\n"); return 1; }
    double best = 1e9;
    volatile float sink = 0;
    for (int it = 0; it < 60; it++) {
        float s = 0;
        for (long i = 0; i < between; i += 16) s += junk[i];
        sink += s;
        const double start = now();
        for (int l = 0; l < 4; l++)
            ddp_skinny_gemm(0, 0, batch, dims[l + 1], dims[l], x[l], dims[l], w[l], dims[l + 1], 0, x[l + 1], dims[l + 1]);
        const double t = now() - start;
        if (t < best) best = t;
    }
    double flops = 0;
    for (int l = 0; l < 4; l++) flops += 2.0 * batch * dims[l] * dims[l + 1];
    printf("%s MB between chains: %.3f ms (%.1f GFLOP/s)\n", argc > 1 ? argv[1] : "0", best * 1e3, flops / best / 1e9);
    return 0;
}
