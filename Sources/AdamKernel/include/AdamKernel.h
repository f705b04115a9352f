/* Adam's element-wise update, the one implementation of it (Optim/Adam.swift calls it). The
 * update is bound by memory (28 bytes of traffic per parameter); the release build's Swift
 * targets AVX2, and a 16-lane AVX-512 loop moves the same bytes in half the instructions, which
 * on the measured Zen 4 took the GAN generator's update from 0.82 to 0.70 ms
 * (docs/performance.md). CPUs without AVX-512F run the scalar loop; both do the same operations
 * in the same order without fused multiply-adds, so they give the same bits. */
#ifndef ADAM_KERNEL_H
#define ADAM_KERNEL_H

/* For i < n, with the gradient g = (((g[0][i] + g[1][i]) + g[2][i]) + ...) * scale over
 * `sources` arenas: m = m + (g - m) c1; v = v + (g g - v) c2;
 * p = (p - p wd lr) - (m alpha) / (sqrt(v) + eps).
 * One source with scale 1 is a plain update (x * 1 is exact). Several are the ranks' gradient
 * arenas of a sharded update, averaged inside this pass: the sum in rank order times 1/N is
 * how every averaging path averages, so the bits are those of averaging first. With wd = 0 the
 * decay term is exactly zero, so one loop serves Adam and AdamW. */
void ddp_adam_update(float *p, const float *const *g, int sources, float scale, float *m, float *v, long n,
                     float alpha, float c1, float c2, float eps, float wd, float lr);

#endif
