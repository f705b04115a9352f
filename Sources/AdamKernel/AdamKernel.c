#include "AdamKernel.h"

#include <math.h>

static void scalar(float *p, const float *const *g, int sources, float scale, float *m, float *v, long from,
                   long to, float alpha, float c1, float c2, float eps, float wd, float lr) {
    for (long i = from; i < to; i++) {
        float sum = g[0][i];
        for (int s = 1; s < sources; s++) sum += g[s][i];
        const float gi = sum * scale;
        const float mi = m[i] + (gi - m[i]) * c1;
        const float vi = v[i] + (gi * gi - v[i]) * c2;
        m[i] = mi;
        v[i] = vi;
        const float w = p[i] - p[i] * wd * lr;
        p[i] = w - (mi * alpha) / (sqrtf(vi) + eps);
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

/* Inlined into `vector16` with `sources` a constant for one and two sources, so that their
 * loops carry no inner loop over the sources. */
__attribute__((target("avx512f"), always_inline)) static inline void loop16(
    float *p, const float *const *g, int sources, float scale, float *m, float *v, long n, float alpha, float c1,
    float c2, float eps, float wd, float lr) {
    const __m512 c1v = _mm512_set1_ps(c1), c2v = _mm512_set1_ps(c2), alphav = _mm512_set1_ps(alpha);
    const __m512 epsv = _mm512_set1_ps(eps), wdv = _mm512_set1_ps(wd), lrv = _mm512_set1_ps(lr);
    const __m512 scalev = _mm512_set1_ps(scale);
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 sum = _mm512_loadu_ps(g[0] + i);
        for (int s = 1; s < sources; s++) sum = _mm512_add_ps(sum, _mm512_loadu_ps(g[s] + i));
        const __m512 gi = _mm512_mul_ps(sum, scalev), pi = _mm512_loadu_ps(p + i);
        __m512 mi = _mm512_loadu_ps(m + i), vi = _mm512_loadu_ps(v + i);
        mi = _mm512_add_ps(mi, _mm512_mul_ps(_mm512_sub_ps(gi, mi), c1v));
        vi = _mm512_add_ps(vi, _mm512_mul_ps(_mm512_sub_ps(_mm512_mul_ps(gi, gi), vi), c2v));
        _mm512_storeu_ps(m + i, mi);
        _mm512_storeu_ps(v + i, vi);
        const __m512 w = _mm512_sub_ps(pi, _mm512_mul_ps(_mm512_mul_ps(pi, wdv), lrv));
        const __m512 step = _mm512_div_ps(_mm512_mul_ps(mi, alphav), _mm512_add_ps(_mm512_sqrt_ps(vi), epsv));
        _mm512_storeu_ps(p + i, _mm512_sub_ps(w, step));
    }
    scalar(p, g, sources, scale, m, v, i, n, alpha, c1, c2, eps, wd, lr);
}

__attribute__((target("avx512f"))) static void vector16(float *p, const float *const *g, int sources, float scale,
                                                        float *m, float *v, long n, float alpha, float c1, float c2,
                                                        float eps, float wd, float lr) {
    if (sources == 1)
        loop16(p, g, 1, scale, m, v, n, alpha, c1, c2, eps, wd, lr);
    else if (sources == 2)
        loop16(p, g, 2, scale, m, v, n, alpha, c1, c2, eps, wd, lr);
    else
        loop16(p, g, sources, scale, m, v, n, alpha, c1, c2, eps, wd, lr);
}

#endif

void ddp_adam_update(float *p, const float *const *g, int sources, float scale, float *m, float *v, long n,
                     float alpha, float c1, float c2, float eps, float wd, float lr) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512f")) {
        vector16(p, g, sources, scale, m, v, n, alpha, c1, c2, eps, wd, lr);
        return;
    }
#endif
    scalar(p, g, sources, scale, m, v, 0, n, alpha, c1, c2, eps, wd, lr);
}
