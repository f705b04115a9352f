import AdamKernel
import XCTest

/// Adam's update (16 AVX-512 lanes, or the scalar loop without AVX-512F) against its formula in
/// scalar Swift, bit for bit: ranks and resumed runs must not depend on which path ran.
final class AdamKernelTests: XCTestCase {
    func testSameBitsAsTheScalarFormula() {
        // 16-lane blocks and a tail; gradients from tiny to large, zero moments included.
        let n = 16 * 70 + 11
        var rng = SystemRandomNumberGenerator()
        func values(_ scale: Float) -> [Float] { (0..<n).map { _ in Float.random(in: -1...1, using: &rng) * scale } }
        for (alpha, wd, lr) in [(Float(1.7e-4), Float(0), Float(2e-4)), (3e-3, 0.004, 1e-3)] {
            let c1: Float = 0.1, c2: Float = 0.001, eps: Float = 1e-7
            var p = values(0.5), m = values(0.01), v = values(1e-4).map { abs($0) }
            var g = values(1)
            for i in stride(from: 0, to: n, by: 97) { g[i] *= 1e-6; m[i] = 0; v[i] = 0 }
            var (rp, rm, rv) = (p, m, v)
            for i in 0..<n {
                let mi = rm[i] + (g[i] - rm[i]) * c1
                let vi = rv[i] + (g[i] * g[i] - rv[i]) * c2
                rm[i] = mi
                rv[i] = vi
                let w = rp[i] - rp[i] * wd * lr
                rp[i] = w - (mi * alpha) / (vi.squareRoot() + eps)
            }
            update(&p, [g], &m, &v, alpha, c1, c2, eps, wd, lr)
            XCTAssertEqual(p.map(\.bitPattern), rp.map(\.bitPattern), "parameters, weight decay \(wd)")
            XCTAssertEqual(m.map(\.bitPattern), rm.map(\.bitPattern), "first moments")
            XCTAssertEqual(v.map(\.bitPattern), rv.map(\.bitPattern), "second moments")
        }
    }

    /// The update that averages 2 or 3 ranks' gradients in its pass gives the bits of averaging
    /// first (sum in rank order, times 1/N) and updating with one source after.
    func testAveragingInThePassEqualsAveragingFirst() {
        let n = 16 * 40 + 9
        var rng = SystemRandomNumberGenerator()
        func values(_ scale: Float) -> [Float] { (0..<n).map { _ in Float.random(in: -1...1, using: &rng) * scale } }
        for ranks in [2, 3] {
            let grads = (0..<ranks).map { _ in values(1) }
            let inverse = 1 / Float(ranks)
            let mean = (0..<n).map { i in (1..<ranks).reduce(grads[0][i]) { $0 + grads[$1][i] } * inverse }
            let p0 = values(0.5), m0 = values(0.01), v0 = values(1e-4).map { abs($0) }
            var (p, m, v) = (p0, m0, v0), (rp, rm, rv) = (p0, m0, v0)
            update(&rp, [mean], &rm, &rv, 1e-3, 0.1, 0.001, 1e-7, 0.004, 1e-3)
            update(&p, grads, &m, &v, 1e-3, 0.1, 0.001, 1e-7, 0.004, 1e-3)
            XCTAssertEqual(p.map(\.bitPattern), rp.map(\.bitPattern), "\(ranks) ranks: parameters")
            XCTAssertEqual(m.map(\.bitPattern), rm.map(\.bitPattern), "\(ranks) ranks: first moments")
            XCTAssertEqual(v.map(\.bitPattern), rv.map(\.bitPattern), "\(ranks) ranks: second moments")
        }
    }

    /// `ddp_adam_update` with the gradient the mean of `sources` (one: the plain update).
    private func update(_ p: inout [Float], _ sources: [[Float]], _ m: inout [Float], _ v: inout [Float], _ alpha: Float,
                        _ c1: Float, _ c2: Float, _ eps: Float, _ wd: Float, _ lr: Float) {
        let n = p.count
        let copies = sources.map { s -> UnsafeMutablePointer<Float> in
            let c = UnsafeMutablePointer<Float>.allocate(capacity: n)
            c.initialize(from: s, count: n)
            return c
        }
        defer { copies.forEach { $0.deallocate() } }
        var pointers = copies.map { Optional(UnsafePointer($0)) }
        ddp_adam_update(&p, &pointers, Int32(sources.count), sources.count == 1 ? 1 : 1 / Float(sources.count), &m, &v, n,
                        alpha, c1, c2, eps, wd, lr)
    }
}
