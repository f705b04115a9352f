import CBLAS
import SkinnyGEMM

/// Matrix products through OpenBLAS `cblas_sgemm` (row-major), except those with a batch of at
/// most 256 rows on one side and a weight matrix on the other when this rank runs one thread:
/// `SkinnyGEMM` computes those without packing the weights (docs/performance.md).
public enum BLAS {
    /// Values the skinny kernel checks while it stores them (`gemm`'s result): 2¹⁰⁰, so that
    /// a sum of up to 2²⁷ of them, an average over that many ranks, is finite.
    public static let checkedBound: Float = DDP_SKINNY_GEMM_BOUND

    /// C[m×n] = alpha · op(A) · op(B) + beta · C, with leading dimensions for strided sub-matrices.
    /// Returns true when the skinny kernel computed it and every value stored is within
    /// ±`checkedBound` (so finite); false says nothing either way.
    @inline(__always) @discardableResult
    public static func gemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                            alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                            b: UnsafePointer<Float>, ldb: Int,
                            beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) -> Bool {
        if m == 0 || n == 0 { return false }
        if k == 0 {
            for i in 0..<m { let row = c + i * ldc; for j in 0..<n { row[j] *= beta } }
            return false
        }
        if alpha == 1, singleThreaded {
            let done = ddp_skinny_gemm(transA ? 1 : 0, transB ? 1 : 0, Int32(m), Int32(n), Int32(k), a, Int32(lda),
                                       b, Int32(ldb), beta, c, Int32(ldc))
            if done != 0 { return done == 2 }
        }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        return false
    }

    /// Matrix product of two 2-D tensors into `c` (which must have the output shape).
    public static func matmul(_ a: Tensor, _ b: Tensor, transA: Bool = false, transB: Bool = false,
                              alpha: Float = 1, beta: Float = 0, into c: Tensor) {
        let out = checkShape { try ShapeRules.matmul(a.shape, b.shape, transposeA: transA, transposeB: transB) }
        precondition(c.shape == out, "matmul: output \(shapeString(c.shape)) should be \(shapeString(out))")
        let k = transA ? a.shape[0] : a.shape[1]
        gemm(transA: transA, transB: transB, m: out[0], n: out[1], k: k, alpha: alpha,
             a: a.data, lda: a.shape[1], b: b.data, ldb: b.shape[1], beta: beta, c: c.data, ldc: out[1])
    }

    /// A batch of independent products, one `cblas_sgemm` each, with fixed element strides
    /// between consecutive matrices (e.g. attention heads laid out inside a larger buffer).
    public static func gemmBatched(count: Int, transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                                   alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, strideA: Int,
                                   b: UnsafePointer<Float>, ldb: Int, strideB: Int,
                                   beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, strideC: Int) {
        for i in 0..<count {
            gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                 a: a + i * strideA, lda: lda, b: b + i * strideB, ldb: ldb,
                 beta: beta, c: c + i * strideC, ldc: ldc)
        }
    }

    /// y += alpha · x
    @inline(__always)
    public static func axpy(_ n: Int, _ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        cblas_saxpy(Int32(n), alpha, x, 1, y, 1)
    }

    public static func dot(_ n: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>) -> Float {
        cblas_sdot(Int32(n), x, 1, y, 1)
    }

    /// Threads OpenBLAS may use in this process (one per rank's share of the cores).
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(newValue)) }
    }

    /// With more threads OpenBLAS splits a product across them; the skinny kernel is single-threaded.
    @inline(__always)
    static var singleThreaded: Bool { openblas_get_num_threads() == 1 }

    /// Whether small-batch products use the skinny kernel on this CPU (AVX-512F, and
    /// `SWIFTDDP_SKINNY_GEMM` not `0`).
    public static var skinnyKernel: Bool { ddp_skinny_gemm_available() != 0 }

    /// Whether the skinny kernel may write weight gradients of 1 MiB or more past the caches
    /// (non-temporal stores; the default). Off for callers that read and write them all right
    /// after backward, such as the full average in shared memory. Process-wide.
    public static func streamLargeWeightGradients(_ on: Bool) { ddp_skinny_gemm_set_streaming(on ? 1 : 0) }
}
