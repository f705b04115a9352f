/* Adam's element-wise update, the one implementation of it (Optim/Adam.swift calls it). The
 * update is bound by memory (28 bytes of traffic per parameter); the release build's Swift
 * targets AVX2, and a 16-lane AVX-512 loop moves the same bytes in half the instructions, which
 * on the measured Zen 4 took the GAN generator's update from 0.82 to 0.70 ms
 * (docs/performance.md). CPUs without AVX-512F run the scalar loop; both do the same operations
 * in the same order without fused multiply-adds, so they give the same bits. */
#ifndef ADAM_KERNEL_H
#define ADAM_KERNEL_H

/* For i < n: m = m + (g - m) c1; v = v + (g g - v) c2; p = (p - p wd lr) - (m alpha) / (sqrt(v) + eps).
 * With wd = 0 the decay term is exactly zero, so one loop serves Adam and AdamW. */
void ddp_adam_update(float *p, const float *g, float *m, float *v, long n, float alpha, float c1, float c2,
                     float eps, float wd, float lr);

#endif
