/*
 * The GEMMs of one GAN training step (models.md section 3, batch 64), single-thread OpenBLAS,
 * timed with their operands in cache ("hot": the same product repeated) and evicted ("cold":
 * 96 MB streamed through the caches before each product, as the step's Adam update and the
 * other layers do). The hot sum bounds what the step could reach if every product found its
 * weights in cache.
 *
 *   gcc -O2 launch/bench/gan_gemm_cache.c -o /tmp/gan_gemm_cache -lopenblas -lm
 *   OPENBLAS_NUM_THREADS=1 /tmp/gan_gemm_cache
 *
 * With KERNEL=skinny, the products SkinnyGEMM takes (docs/architecture.md) run through it
 * instead, checked against OpenBLAS's result. Build it with the Swift toolchain's clang, the
 * compiler SwiftPM builds the C target with (GCC 12 makes a slower kernel of the same source):
 *
 *   clang -O2 -ISources/SkinnyGEMM/include launch/bench/gan_gemm_cache.c \
 *       Sources/SkinnyGEMM/SkinnyGEMM.c -o /tmp/gan_gemm_cache -lopenblas -lm
 *   KERNEL=skinny OPENBLAS_NUM_THREADS=1 /tmp/gan_gemm_cache
 *
 * One line per product (best of 30), then the sums.
 */
#include <cblas.h>
#include <math.h>
#include <string.h>
#if __has_include("SkinnyGEMM.h")
#include "SkinnyGEMM.h"
#endif
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static float *filled(size_t n, int period) {
    float *p = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) p[i] = 1e-3f * (float)(i % period);
    return p;
}

enum product { FORWARD, INPUT_GRADIENT, WEIGHT_GRADIENT };
static const char *names[] = {"forward Y = X W", "input gradient dY W^T", "weight gradient X^T dY"};

struct gemm { enum product op; int rows, inputs, units; };

/* G: 100-256-512-1024-784; D: 784-512-256-1. D step: G forward (64 rows, no gradient), D
 * forward and backward on [real; fake] (128 rows, no input gradient for the first layer).
 * G step: G forward, D forward and input gradients only (64 rows), G backward (no input
 * gradient for the noise). */
static const struct gemm step[] = {
    {FORWARD, 64, 100, 256}, {FORWARD, 64, 256, 512}, {FORWARD, 64, 512, 1024}, {FORWARD, 64, 1024, 784},
    {FORWARD, 128, 784, 512}, {FORWARD, 128, 512, 256}, {FORWARD, 128, 256, 1},
    {WEIGHT_GRADIENT, 128, 256, 1}, {INPUT_GRADIENT, 128, 256, 1},
    {WEIGHT_GRADIENT, 128, 512, 256}, {INPUT_GRADIENT, 128, 512, 256}, {WEIGHT_GRADIENT, 128, 784, 512},
    {FORWARD, 64, 100, 256}, {FORWARD, 64, 256, 512}, {FORWARD, 64, 512, 1024}, {FORWARD, 64, 1024, 784},
    {FORWARD, 64, 784, 512}, {FORWARD, 64, 512, 256}, {FORWARD, 64, 256, 1},
    {INPUT_GRADIENT, 64, 256, 1}, {INPUT_GRADIENT, 64, 512, 256}, {INPUT_GRADIENT, 64, 784, 512},
    {WEIGHT_GRADIENT, 64, 1024, 784}, {INPUT_GRADIENT, 64, 1024, 784},
    {WEIGHT_GRADIENT, 64, 512, 1024}, {INPUT_GRADIENT, 64, 512, 1024},
    {WEIGHT_GRADIENT, 64, 256, 512}, {INPUT_GRADIENT, 64, 256, 512}, {WEIGHT_GRADIENT, 64, 100, 256},
};

#ifdef SKINNY_GEMM_H
#define SKINNY(...) ddp_skinny_gemm(__VA_ARGS__)
#else
#define SKINNY(...) 0
#endif

/* The product with OpenBLAS, or with SkinnyGEMM when `skinny` and it takes the shape. */
static void product(int skinny, enum product op, int b, int k, int n, const float *x, const float *w,
                    const float *dy, float *out) {
    switch (op) {
    case FORWARD:
        if (!skinny || !SKINNY(0, 0, b, n, k, x, k, w, n, 0, out, n))
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, b, n, k, 1, x, k, w, n, 0, out, n);
        break;
    case INPUT_GRADIENT:
        if (!skinny || !SKINNY(0, 1, b, k, n, dy, n, w, n, 0, out, k))
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, b, k, n, 1, dy, n, w, n, 0, out, k);
        break;
    case WEIGHT_GRADIENT:
        if (!skinny || !SKINNY(1, 0, k, n, b, x, k, dy, n, 0, out, n))
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, n, b, 1, x, k, dy, n, 0, out, n);
        break;
    }
}

int main(void) {
    const char *kernel = getenv("KERNEL");
    const int skinny = kernel && strcmp(kernel, "skinny") == 0;
#ifndef SKINNY_GEMM_H
    if (skinny) { fprintf(stderr, "built without SkinnyGEMM (see the header comment)\n"); return 1; }
#endif
    const int reps = 30, count = sizeof step / sizeof step[0];
    const size_t evict = (96u << 20) / sizeof(float);
    float *junk = filled(evict, 7);
    double total[2] = {0, 0}, flops = 0;
    for (int s = 0; s < count; s++) {
        const struct gemm g = step[s];
        const int b = g.rows, k = g.inputs, n = g.units;
        float *x = filled((size_t)b * k, 97), *w = filled((size_t)k * n, 89), *dy = filled((size_t)b * n, 83);
        float *out = malloc(sizeof(float) * (size_t)(g.op == WEIGHT_GRADIENT ? k * n : b * (k > n ? k : n)));
        double best[2] = {1e9, 1e9};
        const size_t outSize = g.op == WEIGHT_GRADIENT ? (size_t)k * n : (size_t)b * (k > n ? k : n);
        float *reference = malloc(sizeof(float) * outSize);
        product(0, g.op, b, k, n, x, w, dy, reference);
        for (int r = 0; r < 2 * reps; r++) {
            const int cold = r % 2;
            if (cold) for (size_t i = 0; i < evict; i += 16) junk[i] += 1.0f;
            const double t0 = now();
            product(skinny, g.op, b, k, n, x, w, dy, out);
            const double t = now() - t0;
            if (t < best[cold]) best[cold] = t;
        }
        const size_t written = g.op == WEIGHT_GRADIENT ? (size_t)k * n : g.op == FORWARD ? (size_t)b * n : (size_t)b * k;
        for (size_t i = 0; i < written; i++)
            if (fabsf(out[i] - reference[i]) > 1e-4f * (1 + fabsf(reference[i]))) {
                fprintf(stderr, "product %d differs from OpenBLAS at %zu: %g against %g\n", s, i, out[i], reference[i]);
                return 1;
            }
        free(reference);
        const double gflop = 2.0 * b * k * n * 1e-9;
        printf("%-24s %3d rows %4d x %4d   hot %6.3f ms %5.1f GFLOP/s   cold %6.3f ms %5.1f GFLOP/s\n", names[g.op], b, k, n,
               best[0] * 1e3, gflop / best[0], best[1] * 1e3, gflop / best[1]);
        total[0] += best[0];
        total[1] += best[1];
        flops += gflop;
        free(x); free(w); free(dy); free(out);
    }
    printf("step GEMMs: %.3f GFLOP; hot %.2f ms (%.1f GFLOP/s), cold %.2f ms (%.1f GFLOP/s)\n", flops, total[0] * 1e3,
           flops / total[0], total[1] * 1e3, flops / total[1]);
    free(junk);
    return 0;
}
