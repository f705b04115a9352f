#include "SkinnyGEMM.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

/* How a tile writes C: over what is there, added to it (beta 1), or with non-temporal stores
 * (full, aligned vectors only; the rest as WRITE). */
enum { WRITE, ACCUMULATE, STREAM };

/* One register tile: C(r, j) for MR rows and NV*16 columns (the last `w - 16 v` masked) is
 * sum over q < kc of A(r, q) B[q * ldb + j], with A(r, q) = a[r * ars + q * aks] broadcast
 * and B's row q loaded as vectors. Rows past `mr` repeat the last real row (computed, not
 * stored), so the loop has no row tests. C(r, j) is stored at c[r * crs + j * ccs] as `mode`
 * says; returns whether every stored value is within +-DDP_SKINNY_GEMM_BOUND (NaN is not). Every `every` k steps it also fetches the NV lines of one row of `next` into L2, for
 * `nextRows` rows a row apart (the next column strip; `tiles` divides it among row blocks). */
/* B's rows are strided (one weight row apart), which the hardware prefetcher follows poorly:
 * fetching 8 rows ahead took the GAN's products with cold weights from 13.6 to 12.3 ms. */
#define PREFETCH_ROWS 8
/* Fully unrolled tile loops, so that GCC as well as Clang keeps the accumulators in registers. */
#define UNROLL _Pragma("GCC unroll 8")
#define DEFINE_TILE(NAME, MR, NV)                                                                   \
    __attribute__((target("avx512f"))) static int NAME(int kc, const float *a, long ars, long aks,  \
        const float *restrict b, long ldb, float *c, long crs, long ccs, int mr, int w,             \
        int mode, const float *next, int nextRows, int every) {                                      \
        __mmask16 mask[NV];                                                                          \
        for (int v = 0; v < NV; v++) {                                                               \
            const int left = w - 16 * v;                                                             \
            mask[v] = left >= 16 ? 0xFFFF : left <= 0 ? 0 : (__mmask16)((1u << left) - 1);           \
        }                                                                                            \
        const float *row[MR];                                                                        \
        for (int r = 0; r < MR; r++) row[r] = a + (long)(r < mr ? r : mr - 1) * ars;                 \
        __m512 acc[MR][NV];                                                                          \
        UNROLL for (int r = 0; r < MR; r++)                                                          \
            UNROLL for (int v = 0; v < NV; v++) acc[r][v] = _mm512_setzero_ps();                     \
        long q = 0;                                                                                  \
        int countdown = every;                                                                       \
        for (int p = 0; p < kc; p++, q += aks, b += ldb) {                                           \
            if (nextRows > 0 && --countdown == 0) {                                                  \
                countdown = every;                                                                   \
                UNROLL for (int v = 0; v < NV; v++) _mm_prefetch((const char *)(next + 16 * v), _MM_HINT_T1); \
                next += ldb;                                                                         \
                nextRows--;                                                                          \
            }                                                                                        \
            __m512 bv[NV];                                                                           \
            UNROLL for (int v = 0; v < NV; v++) bv[v] = _mm512_maskz_loadu_ps(mask[v], b + 16 * v);  \
            UNROLL for (int v = 0; v < NV; v++)                                                      \
                _mm_prefetch((const char *)(b + PREFETCH_ROWS * ldb + 16 * v), _MM_HINT_T0);         \
            UNROLL for (int r = 0; r < MR; r++) {                                                    \
                const __m512 av = _mm512_set1_ps(row[r][q]);                                         \
                UNROLL for (int v = 0; v < NV; v++) acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]); \
            }                                                                                        \
        }                                                                                            \
        const __m512 bound = _mm512_set1_ps(DDP_SKINNY_GEMM_BOUND);                                  \
        __mmask16 outside = 0;                                                                       \
        if (mr == MR && ccs == 1) {                                                                  \
            /* A full tile (the common case) goes straight from the registers to C: a weight      \
             * gradient sums only k = the batch per tile, so a detour would cost ~5% there. */     \
            UNROLL for (int r = 0; r < MR; r++)                                                      \
                UNROLL for (int v = 0; v < NV; v++) {                                                \
                    float *out = c + r * crs + 16 * v;                                               \
                    __m512 x = acc[r][v];                                                            \
                    if (mode == ACCUMULATE) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(mask[v], out)); \
                    outside |= _mm512_mask_cmp_ps_mask(mask[v], _mm512_abs_ps(x), bound, _CMP_NLE_UQ); \
                    if (mode == STREAM && mask[v] == 0xFFFF && !((unsigned long)out & 63))           \
                        _mm512_stream_ps(out, x);                                                    \
                    else                                                                             \
                        _mm512_mask_storeu_ps(out, mask[v], x);                                      \
                }                                                                                    \
            return outside == 0;                                                                     \
        }                                                                                            \
        /* Otherwise spill through a fixed-index buffer: indexing `acc` by the runtime `mr` would \
         * make the compiler keep the accumulators in memory inside the loop. */                     \
        float tile[MR][NV * 16] __attribute__((aligned(64)));                                        \
        UNROLL for (int r = 0; r < MR; r++)                                                          \
            UNROLL for (int v = 0; v < NV; v++) _mm512_store_ps(tile[r] + 16 * v, acc[r][v]);       \
        if (ccs == 1) {                                                                              \
            for (int r = 0; r < mr; r++) {                                                           \
                float *out = c + r * crs;                                                            \
                for (int v = 0; v < NV; v++) {                                                       \
                    __m512 x = _mm512_load_ps(tile[r] + 16 * v);                                     \
                    if (mode == ACCUMULATE) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(mask[v], out + 16 * v)); \
                    outside |= _mm512_mask_cmp_ps_mask(mask[v], _mm512_abs_ps(x), bound, _CMP_NLE_UQ); \
                    _mm512_mask_storeu_ps(out + 16 * v, mask[v], x);                                 \
                }                                                                                    \
            }                                                                                        \
            return outside == 0;                                                                     \
        }                                                                                            \
        int within = 1;                                                                              \
        for (int j = 0; j < w; j++) {                                                                \
            float *out = c + j * ccs;                                                                \
            for (int r = 0; r < mr; r++) {                                                           \
                const float x = mode == ACCUMULATE ? out[r * crs] + tile[r][j] : tile[r][j];         \
                within &= fabsf(x) <= DDP_SKINNY_GEMM_BOUND;                                         \
                out[r * crs] = x;                                                                    \
            }                                                                                        \
        }                                                                                            \
        return within;                                                                               \
    }

DEFINE_TILE(tile8x48, 8, 3)
DEFINE_TILE(tile6x64, 6, 4)

typedef int (*tile_fn)(int, const float *, long, long, const float *, long, float *, long, long, int, int, int,
                        const float *, int, int);

static long padded(long count, long block) { return (count + block - 1) / block * block; }

/* C'(i, j) = sum_q A'(i, q) B'[q * ldb + j] over all rows i < m and columns j < n, in tiles.
 * The tile shape is the one that computes fewer padded elements. Rows outer when the rows
 * operand is the large one (it is then read once), columns outer otherwise (each column strip
 * of B' stays in cache while every row block passes over it). */
static int tiles(int m, int n, int k, const float *a, long ars, long aks, const float *b, long ldb,
                 float *c, long crs, long ccs, int mode, int rowsOuter) {
    const int wide = padded(m, 6) * padded(n, 64) < padded(m, 8) * padded(n, 48);
    const int mrMax = wide ? 6 : 8, nr = wide ? 64 : 48;
    const tile_fn tile = wide ? tile6x64 : tile8x48;
    int within = 1;
    if (rowsOuter) {
        for (int i = 0; i < m; i += mrMax)
            for (int j = 0; j < n; j += nr)
                within &= tile(k, a + i * ars, ars, aks, b + j, ldb, c + i * crs + j * ccs, crs, ccs,
                               m - i < mrMax ? m - i : mrMax, n - j < nr ? n - j : nr, mode, NULL, 0, 1);
        return within;
    }
    /* The first row block of a strip streams it from memory, the others find it in L2; they
     * also fetch the next strip into L2, a share of its rows each, spread over their k steps,
     * so that no row block waits on memory. */
    const int blocks = (m + mrMax - 1) / mrMax, share = blocks > 1 ? (k + blocks - 2) / (blocks - 1) : 0;
    for (int j = 0; j < n; j += nr)
        for (int i = 0, block = 0; i < m; i += mrMax, block++) {
            const int first = (block - 1) * share;
            const int rows = j + nr < n && block > 0 && first < k ? (k - first < share ? k - first : share) : 0;
            within &= tile(k, a + i * ars, ars, aks, b + j, ldb, c + i * crs + j * ccs, crs, ccs,
                           m - i < mrMax ? m - i : mrMax, n - j < nr ? n - j : nr, mode,
                           rows ? b + j + nr + (long)first * ldb : NULL, rows, rows ? k / rows : 1);
        }
    return within;
}

/* A per-thread buffer for the transposed batch operand of op(A) B^T, freed when the thread ends. */
static pthread_key_t scratchKey;
static pthread_once_t scratchOnce = PTHREAD_ONCE_INIT;
struct scratch { float *data; size_t capacity; };
static void freeScratch(void *p) {
    struct scratch *s = p;
    free(s->data);
    free(s);
}
static void makeScratchKey(void) { pthread_key_create(&scratchKey, freeScratch); }
static float *scratch(size_t count) {
    pthread_once(&scratchOnce, makeScratchKey);
    struct scratch *s = pthread_getspecific(scratchKey);
    if (!s) {
        if (!(s = calloc(1, sizeof *s))) return NULL;
        pthread_setspecific(scratchKey, s);
    }
    if (count > s->capacity) {
        float *grown = aligned_alloc(64, padded((long)(count * sizeof(float)), 64));
        if (!grown) return NULL;
        free(s->data);
        s->data = grown;
        s->capacity = count;
    }
    return s->data;
}

/* t[q * m + i] = a[i * lda + q]: 8 x 8 blocks transposed in registers, the edges one by one. */
__attribute__((target("avx512f"))) static void transpose(int m, int k, const float *a, long lda, float *t) {
    const int m8 = m & ~7, k8 = k & ~7;
    for (int i = 0; i < m8; i += 8)
        for (int q = 0; q < k8; q += 8) {
            __m256 r[8], u[8];
            for (int j = 0; j < 8; j++) r[j] = _mm256_loadu_ps(a + (i + j) * lda + q);
            for (int j = 0; j < 8; j += 2) {
                u[j] = _mm256_unpacklo_ps(r[j], r[j + 1]);
                u[j + 1] = _mm256_unpackhi_ps(r[j], r[j + 1]);
            }
            for (int j = 0; j < 8; j += 4) {
                r[j] = _mm256_shuffle_ps(u[j], u[j + 2], 0x44);
                r[j + 1] = _mm256_shuffle_ps(u[j], u[j + 2], 0xEE);
                r[j + 2] = _mm256_shuffle_ps(u[j + 1], u[j + 3], 0x44);
                r[j + 3] = _mm256_shuffle_ps(u[j + 1], u[j + 3], 0xEE);
            }
            for (int j = 0; j < 4; j++) {
                _mm256_storeu_ps(t + (long)(q + j) * m + i, _mm256_permute2f128_ps(r[j], r[j + 4], 0x20));
                _mm256_storeu_ps(t + (long)(q + j + 4) * m + i, _mm256_permute2f128_ps(r[j], r[j + 4], 0x31));
            }
        }
    for (int i = 0; i < m; i++)
        for (int q = i < m8 ? k8 : 0; q < k; q++) t[(long)q * m + i] = a[i * lda + q];
}

/* Whether large weight gradients may be written with non-temporal stores (ddp_skinny_gemm_set_streaming). */
static int streaming = 1;

void ddp_skinny_gemm_set_streaming(int on) { __atomic_store_n(&streaming, on != 0, __ATOMIC_RELAXED); }

/* -1 until the first call works it out; every thread works out the same value. */
static int availability = -1;

int ddp_skinny_gemm_available(void) {
    int known = __atomic_load_n(&availability, __ATOMIC_RELAXED);
    if (known < 0) {
        const char *setting = getenv("SWIFTDDP_SKINNY_GEMM");
        known = __builtin_cpu_supports("avx512f") && !(setting && strcmp(setting, "0") == 0);
        __atomic_store_n(&availability, known, __ATOMIC_RELAXED);
    }
    return known;
}

enum { BATCH_MAX = 256, WEIGHTS_MIN = 16384, STREAM_BYTES_MIN = 1 << 20 };

int ddp_skinny_gemm(int transA, int transB, int m, int n, int k, const float *a, int lda,
                    const float *b, int ldb, float beta, float *c, int ldc) {
    if ((beta != 0 && beta != 1) || m <= 0 || n <= 0 || k <= 0 || !ddp_skinny_gemm_available()) return 0;
    const int mode = beta == 1 ? ACCUMULATE : WRITE;
    if (!transB) {
        /* op(A) [m x k] broadcast, B [k x n] read in place: a batch times weights (m small),
         * or activations^T times output gradients (the weight gradient; k, the batch, small). */
        const int batch = transA ? k : m;
        const long weights = transA ? (long)m * n : (long)k * n;
        if (batch > BATCH_MAX || weights < WEIGHTS_MIN || n < 16) return 0;
        if (transA && ldb % 256 == 0) {
            /* A weight gradient reads each column strip of dY (k rows, the batch) once per row
             * block of C. Rows a multiple of 1 KiB apart share a few L1 sets and evict each other
             * between row blocks; a copy with rows 64 bytes longer spreads them over every set
             * (docs/performance.md). */
            float *copy = scratch((size_t)k * (n + 16));
            if (!copy) return 0;
            for (int q = 0; q < k; q++) memcpy(copy + (long)q * (n + 16), b + (long)q * ldb, n * sizeof(float));
            b = copy;
            ldb = n + 16;
        }
        /* A weight gradient of a megabyte or more (beyond L2) is written with non-temporal
         * stores, unless switched off: no read of the old lines before writing them, and the
         * caches keep the weights and activations the rest of backward reads (the GAN's
         * generator backward 5.0 -> 4.5 ms; docs/performance.md). The fence orders them before
         * anything read or averaged next. */
        const int stream = transA && mode == WRITE && (long)m * n * 4 >= STREAM_BYTES_MIN &&
                           __atomic_load_n(&streaming, __ATOMIC_RELAXED);
        const int within = tiles(m, n, k, a, transA ? 1 : lda, transA ? lda : 1, b, ldb, c, ldc, 1, stream ? STREAM : mode, 0);
        if (stream) _mm_sfence();
        return within ? 2 : 1;
    }
    /* op(A) B^T with B [n x k] the weights: computed as C^T = B op(A)^T, B's rows broadcast in
     * place and op(A)^T [k x m] the vector operand (a transposed copy when A is not). */
    if (m > BATCH_MAX || m < 16 || (long)n * k < WEIGHTS_MIN) return 0;
    const float *vectors = a;
    long ldv = lda;
    if (!transA) {
        float *t = scratch((size_t)k * m);
        if (!t) return 0;
        transpose(m, k, a, lda, t);
        vectors = t;
        ldv = m;
    }
    return tiles(n, m, k, b, ldb, 1, vectors, ldv, c, 1, ldc, mode, 1) ? 2 : 1;
}

#else

int ddp_skinny_gemm_available(void) { return 0; }

void ddp_skinny_gemm_set_streaming(int on) { (void)on; }

int ddp_skinny_gemm(int transA, int transB, int m, int n, int k, const float *a, int lda,
                    const float *b, int ldb, float beta, float *c, int ldc) {
    (void)transA; (void)transB; (void)m; (void)n; (void)k; (void)a; (void)lda; (void)b; (void)ldb;
    (void)beta; (void)c; (void)ldc;
    return 0;
}

#endif
