/* Matrix products with one small side: a batch of at most 256 rows against a weight matrix,
 * as in the dense layers of a small-batch MLP (the GAN). OpenBLAS packs both operands of
 * every product into its own layout first; for these shapes that re-packs the weights three
 * times a step (forward, input gradient, and the no-gradient forward of the other network)
 * and cost 12% of the GAN's step. This kernel packs nothing large: the weight matrix is read
 * in place, row by row, as the vector operand of a 6x64 or 8x48 register tile, and the batch
 * side is broadcast from where it lies (or, for the input gradient, from one small transposed
 * copy). AVX-512F only; elsewhere it declines and the caller uses OpenBLAS. */
#ifndef SKINNY_GEMM_H
#define SKINNY_GEMM_H

/* Bound on the values the kernel reports as checked: 2^100, so that the sum of up to 2^27
 * of them (a gradient averaged over that many ranks) is still finite. */
#define DDP_SKINNY_GEMM_BOUND 0x1p100f

/* C[m x n] = op(A) op(B) (beta 0) or C + op(A) op(B) (beta 1), row-major, like cblas_sgemm
 * with alpha 1. Returns 0 when the shape, beta or CPU is not one it handles (nothing was
 * written; use cblas_sgemm); else 2 when every value it stored is within
 * +-DDP_SKINNY_GEMM_BOUND (so finite), 1 when not. The check is made on the registers before
 * they are stored, which costs nothing next to the k multiply-adds behind each value, and
 * spares a caller that needs it (a weight gradient about to be averaged) reading C again. */
int ddp_skinny_gemm(int transA, int transB, int m, int n, int k, const float *a, int lda,
                    const float *b, int ldb, float beta, float *c, int ldc);

/* Whether this CPU runs the kernel (AVX-512F) and SWIFTDDP_SKINNY_GEMM is not "0". */
int ddp_skinny_gemm_available(void);

/* Weight gradients of 1 MiB or more go to memory through non-temporal stores (on = 1, the
 * default), or through the caches like every other output (0), for a caller that reads them
 * right away. Process-wide. */
void ddp_skinny_gemm_set_streaming(int on);

#endif
