/* Adam's element-wise update with AVX-512F. The update is bound by memory (28 bytes of traffic
 * per parameter); the release build targets AVX2, and this 16-lane loop moves the same bytes in
 * half the instructions, which on the measured Zen 4 took the GAN generator's update from
 * 0.82 to 0.70 ms (docs/performance.md). The same operations in the same order as the Swift loop
 * in Optim/Adam.swift, without fused multiply-adds: the results are the same bits. */
#ifndef ADAM_KERNEL_H
#define ADAM_KERNEL_H

/* For i < n: m = m + (g - m) c1; v = v + (g g - v) c2; p = (p - p wd lr) - (m alpha) / (sqrt(v) + eps).
 * Returns 1 when done, 0 when the CPU lacks AVX-512F (nothing was written; use the Swift loop). */
int ddp_adam_update(float *p, const float *g, float *m, float *v, long n, float alpha, float c1, float c2,
                    float eps, float wd, float lr);

#endif
