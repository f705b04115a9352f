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
            ddp_adam_update(&p, g, &m, &v, n, alpha, c1, c2, eps, wd, lr)
            XCTAssertEqual(p.map(\.bitPattern), rp.map(\.bitPattern), "parameters, weight decay \(wd)")
            XCTAssertEqual(m.map(\.bitPattern), rm.map(\.bitPattern), "first moments")
            XCTAssertEqual(v.map(\.bitPattern), rv.map(\.bitPattern), "second moments")
        }
    }
}
