/*
 * The GEMMs of one GAN training step (models.md section 3, batch 64), single-thread OpenBLAS,
 * timed with their operands in cache ("hot": the same product repeated) and evicted ("cold":
 * 96 MB streamed through the caches before each product, as the step's Adam update and the
 * other layers do). The hot sum bounds what the step could reach if every product found its
 * weights in cache.
 *
 *   gcc -O2 launch/bench/gan_gemm_cache.c -o /tmp/gan_gemm_cache -lopenblas
 *   OPENBLAS_NUM_THREADS=1 /tmp/gan_gemm_cache
 *
 * One line per product (best of 30), then the sums.
 */
#include <cblas.h>
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

int main(void) {
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
        for (int r = 0; r < 2 * reps; r++) {
            const int cold = r % 2;
            if (cold) for (size_t i = 0; i < evict; i += 16) junk[i] += 1.0f;
            const double t0 = now();
            switch (g.op) {
            case FORWARD: cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, b, n, k, 1, x, k, w, n, 0, out, n); break;
            case INPUT_GRADIENT: cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, b, k, n, 1, dy, n, w, n, 0, out, k); break;
            case WEIGHT_GRADIENT: cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, n, b, 1, x, k, dy, n, 0, out, n); break;
            }
            const double t = now() - t0;
            if (t < best[cold]) best[cold] = t;
        }
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
