import SkinnyGEMM
import TensorCore
import XCTest

/// The small-batch kernel against a product summed in Double: every transpose combination,
/// beta 0 and 1, row counts that leave a partial tile of 6 and of 8 rows, column counts that
/// leave a partial 16-lane vector, and leading dimensions wider than the matrices (for the weight
/// gradient also multiples of 256, which the kernel copies to a padded layout first). C starts on
/// a cache line, so weight gradients of a megabyte or more take the non-temporal store path.
final class SkinnyGEMMTests: XCTestCase {
    struct Case {
        var transA, transB: Bool
        var m, n, k: Int
        /// B's leading dimension a multiple of 256 floats instead of a few past its width.
        var alignedB = false
        /// C's rows whole cache lines apart (a multiple of 16 floats) instead of 2 past its width.
        var alignedC = false
    }

    static let cases: [Case] = [
        Case(transA: false, transB: false, m: 64, n: 784, k: 200),   // the width of the GAN's last generator layer
        Case(transA: false, transB: false, m: 13, n: 130, k: 129),   // partial tiles and a partial vector
        Case(transA: false, transB: false, m: 256, n: 37, k: 500),
        Case(transA: true, transB: false, m: 100, n: 256, k: 64),    // weight gradient of a 100-input layer
        Case(transA: true, transB: false, m: 131, n: 200, k: 7),
        Case(transA: true, transB: false, m: 70, n: 512, k: 33, alignedB: true),   // dY rows 2 KiB apart
        Case(transA: true, transB: false, m: 100, n: 300, k: 64, alignedB: true),  // padded to 512
        Case(transA: true, transB: false, m: 515, n: 530, k: 16, alignedC: true),  // 1.1 MB: streamed
        Case(transA: true, transB: false, m: 520, n: 512, k: 9, alignedC: false),  // streamed where aligned
        Case(transA: false, transB: true, m: 64, n: 1024, k: 784),   // input gradient
        Case(transA: false, transB: true, m: 17, n: 301, k: 129),
        Case(transA: false, transB: true, m: 200, n: 130, k: 140),   // more batch rows than one 64-wide strip
        Case(transA: true, transB: true, m: 40, n: 257, k: 70),
    ]

    /// Row-major storage of a rows x cols operand inside a buffer with `ld` >= cols.
    private func operand(rows: Int, cols: Int, ld: Int, seed: Int) -> [Float] {
        (0..<rows * ld).map { i in Float(sin(Double(i * 7 + seed * 131) * 0.37)) }
    }

    func testMatchesDoublePrecisionProductForEveryLayout() throws {
        try XCTSkipUnless(BLAS.skinnyKernel, "this CPU has no AVX-512F: products go to OpenBLAS")
        for (index, c) in Self.cases.enumerated() {
            let (aRows, aCols) = c.transA ? (c.k, c.m) : (c.m, c.k)
            let (bRows, bCols) = c.transB ? (c.n, c.k) : (c.k, c.n)
            let lda = aCols + 3, ldb = c.alignedB ? (bCols + 255) / 256 * 256 : bCols + 5
            let ldc = c.alignedC ? (c.n + 15) / 16 * 16 : c.n + 2
            let a = operand(rows: aRows, cols: aCols, ld: lda, seed: index)
            let b = operand(rows: bRows, cols: bCols, ld: ldb, seed: index + 50)
            let start = operand(rows: c.m, cols: c.n, ld: ldc, seed: index + 90)
            let out = UnsafeMutableRawPointer.allocate(byteCount: start.count * 4, alignment: 64)
                .bindMemory(to: Float.self, capacity: start.count)
            defer { out.deallocate() }
            for beta: Float in [0, 1] {
                out.update(from: start, count: start.count)
                let took = ddp_skinny_gemm(c.transA ? 1 : 0, c.transB ? 1 : 0, Int32(c.m), Int32(c.n), Int32(c.k),
                                           a, Int32(lda), b, Int32(ldb), beta, out, Int32(ldc))
                XCTAssertEqual(took, 2, "case \(index) should use the kernel, its values all within the bound")
                var wrong: [String] = []
                for i in 0..<c.m {
                    for j in 0..<c.n {
                        var sum = beta == 1 ? Double(start[i * ldc + j]) : 0
                        for q in 0..<c.k {
                            let x = c.transA ? a[q * lda + i] : a[i * lda + q]
                            let y = c.transB ? b[j * ldb + q] : b[q * ldb + j]
                            sum += Double(x) * Double(y)
                        }
                        if abs(Double(out[i * ldc + j]) - sum) > 1e-4 * (1 + Double(c.k).squareRoot()) {
                            wrong.append("(\(i), \(j)): \(out[i * ldc + j]) against \(sum)")
                        }
                    }
                    // Padding columns of C past n are never written.
                    for j in c.n..<ldc where out[i * ldc + j] != start[i * ldc + j] { wrong.append("padding (\(i), \(j))") }
                }
                XCTAssert(wrong.isEmpty, "case \(index) beta \(beta): \(wrong.count) wrong, first \(wrong.first ?? "")")
            }
        }
    }

    func testDeclinesWhatOpenBLASShouldCompute() {
        let a = [Float](repeating: 1, count: 400 * 400), b = a
        var c = [Float](repeating: 0, count: 400 * 400)
        func take(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, beta: Float = 0) -> Int32 {
            c.withUnsafeMutableBufferPointer { o in
                ddp_skinny_gemm(transA ? 1 : 0, transB ? 1 : 0, Int32(m), Int32(n), Int32(k), a, 400, b, 400, beta,
                                o.baseAddress!, 400)
            }
        }
        XCTAssertEqual(take(false, false, 300, 256, 256), 0, "more than 256 batch rows")
        XCTAssertEqual(take(true, false, 256, 256, 300), 0, "a weight gradient summed over more than 256 rows")
        XCTAssertEqual(take(false, false, 64, 8, 400), 0, "fewer than 16 output columns")
        XCTAssertEqual(take(false, true, 128, 128, 64), 0, "attention-sized products: weights under 16384 values")
        XCTAssertEqual(take(false, false, 64, 256, 256, beta: 0.5), 0, "beta other than 0 and 1")
    }

    /// The route inside `BLAS.gemm`: the same product with the kernel and through OpenBLAS
    /// (two threads make it decline) agrees to rounding.
    func testGemmRoutesSmallBatchesAndAgreesWithOpenBLAS() throws {
        try XCTSkipUnless(BLAS.skinnyKernel, "this CPU has no AVX-512F: products go to OpenBLAS")
        let m = 32, n = 96, k = 300
        let a = operand(rows: m, cols: k, ld: k, seed: 1), b = operand(rows: k, cols: n, ld: n, seed: 2)
        func product(threads: Int) -> [Float] {
            let saved = BLAS.threads
            BLAS.threads = threads
            defer { BLAS.threads = saved }
            var c = [Float](repeating: 0, count: m * n)
            let checked = c.withUnsafeMutableBufferPointer { o in
                BLAS.gemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: o.baseAddress!, ldc: n)
            }
            XCTAssertEqual(checked, threads == 1, "only the kernel checks the values it stores")
            return c
        }
        let skinny = product(threads: 1), openBLAS = product(threads: 2)
        for i in 0..<m * n { XCTAssertEqual(skinny[i], openBLAS[i], accuracy: 1e-4) }
    }

    /// The kernel reports a stored value beyond ±2¹⁰⁰, an infinity or a NaN, wherever it lands:
    /// a full tile, a partial one, the streamed path, the transposed (input-gradient) layout,
    /// and a value that only the addition of beta 1 pushes out.
    func testReportsValuesOutsideTheBound() throws {
        try XCTSkipUnless(BLAS.skinnyKernel, "this CPU has no AVX-512F: products go to OpenBLAS")
        for (index, c) in Self.cases.enumerated() {
            let (aRows, aCols) = c.transA ? (c.k, c.m) : (c.m, c.k)
            let (bRows, bCols) = c.transB ? (c.n, c.k) : (c.k, c.n)
            let lda = aCols, ldb = bCols, ldc = c.alignedC ? (c.n + 15) / 16 * 16 : c.n
            let b = operand(rows: bRows, cols: bCols, ld: ldb, seed: index)
            let out = UnsafeMutableRawPointer.allocate(byteCount: c.m * ldc * 4, alignment: 64)
                .bindMemory(to: Float.self, capacity: c.m * ldc)
            defer { out.deallocate() }
            for (bad, beta) in [(Float(1e31), Float(0)), (.infinity, 0), (.nan, 0), (0, 1)] {
                var a = operand(rows: aRows, cols: aCols, ld: lda, seed: index + 7)
                // The last element of A's last row reaches C's last row (or column) in every layout.
                a[a.count - 1] = bad
                out.update(repeating: beta == 1 ? 2e30 : 0, count: c.m * ldc)
                let took = ddp_skinny_gemm(c.transA ? 1 : 0, c.transB ? 1 : 0, Int32(c.m), Int32(c.n), Int32(c.k),
                                           a, Int32(lda), b, Int32(ldb), beta, out, Int32(ldc))
                XCTAssertEqual(took, 1, "case \(index): \(bad) with beta \(beta) should be reported")
            }
        }
    }
}
