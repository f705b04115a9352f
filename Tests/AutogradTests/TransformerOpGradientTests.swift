import Autograd
import TensorCore
import TestSupport
import XCTest

final class TransformerOpGradientTests: XCTestCase {
    func testLayerNormGradients() {
        let x = GradCheck.random([2, 3, 5], low: -2, high: 2, seed: 1)
        let gamma = GradCheck.random([5], low: 0.5, high: 1.5, seed: 2)
        let beta = GradCheck.random([5], seed: 3)
        GradCheck.check([x, gamma, beta], eps: 1e-3) { v in v[0].layerNorm(gamma: v[1], beta: v[2], epsilon: 1e-3) }
        // Gradient accumulation into an input used twice.
        GradCheck.check([x, gamma, beta], eps: 1e-3) { v in v[0].layerNorm(gamma: v[1], beta: v[2], epsilon: 1e-6) * v[0] }
        // Rows of 13: one full eight-lane vector and a partial one.
        let wide = GradCheck.random([3, 13], low: -2, high: 2, seed: 6)
        let wideGamma = GradCheck.random([13], low: 0.5, high: 1.5, seed: 7), wideBeta = GradCheck.random([13], seed: 8)
        GradCheck.check([wide, wideGamma, wideBeta], eps: 1e-3) { v in v[0].layerNorm(gamma: v[1], beta: v[2], epsilon: 1e-3) * v[0] }
    }

    func testLayerNormNormalisesEachRow() {
        let n = 19
        let x = Variable(GradCheck.random([4, n], low: -3, high: 5, seed: 4))
        let y = x.layerNorm(gamma: Variable(Tensor(repeating: 1, shape: [n])), beta: Variable(Tensor(zeros: [n])), epsilon: 1e-6)
        for r in 0..<4 {
            let row = (0..<n).map { y.value[r, $0] }
            let mean = row.reduce(0, +) / Float(n)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(n)
            XCTAssertEqual(mean, 0, accuracy: 1e-5)
            XCTAssertEqual(variance, 1, accuracy: 1e-3)
        }
    }

    func testEmbeddingLookupAndScatterGradient() {
        let table = GradCheck.random([6, 4], seed: 5)
        let ids = Tensor([2, 0, 5, 2, 2, 1], shape: [2, 3])
        let out = Variable(table).embeddingLookup(Variable(ids))
        XCTAssertEqual(out.shape, [2, 3, 4])
        for j in 0..<4 {
            XCTAssertEqual(out.value[0, 0, j], table[2, j])
            XCTAssertEqual(out.value[0, 2, j], table[5, j])
        }
        // Row 2 appears three times: its gradient adds up; rows 3 and 4 get exact zeros.
        GradCheck.check([table]) { v in v[0].embeddingLookup(Variable(ids)) }
        let t = Variable(table.copy(), requiresGrad: true)
        t.embeddingLookup(Variable(ids)).sum().backward()
        XCTAssertEqual((0..<4).map { t.grad![2, $0] }, [3, 3, 3, 3])
        XCTAssertEqual((0..<4).map { t.grad![3, $0] }, [0, 0, 0, 0])
    }

    func testPositionAdditionGradients() {
        let x = GradCheck.random([2, 3, 4], seed: 6)
        let positions = GradCheck.random([5, 4], seed: 7)
        GradCheck.check([x, positions]) { v in v[0].addingPositions(v[1]) }
        let out = Variable(x).addingPositions(Variable(positions))
        XCTAssertEqual(out.value[1, 2, 3], x[1, 2, 3] + positions[2, 3])
    }

    func testDropoutGradientUsesTheForwardMask() {
        let x = GradCheck.random([3, 7], seed: 8)
        GradCheck.check([x]) { v in
            var rng = RandomGenerator(seed: 11)
            return v[0].dropout(rate: 0.4, rng: &rng)
        }
    }

    func testDropoutMaskIsSeededScaledAndKeepsTheMean() {
        let n = 20_001
        let x = Variable(Tensor(repeating: 1, shape: [n]))
        func run(_ seed: UInt64) -> [Float] {
            var rng = RandomGenerator(seed: seed, stream: [1])
            return x.dropout(rate: 0.25, rng: &rng).value.scalars
        }
        let a = run(3), b = run(3), c = run(4)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
        XCTAssertTrue(a.allSatisfy { $0 == 0 || $0 == 1 / 0.75 })
        let dropped = Double(a.filter { $0 == 0 }.count) / Double(n)
        XCTAssertEqual(dropped, 0.25, accuracy: 0.015)
        XCTAssertEqual(Double(a.reduce(0, +)) / Double(n), 1, accuracy: 0.02)
        var rng = RandomGenerator(seed: 3)
        XCTAssertTrue(x.dropout(rate: 0, rng: &rng) === x)
    }

    func testAttentionGradients() {
        // heads 2, dk 4, dv 3, Lq 3 != Lk 4.
        let q = GradCheck.random([2, 3, 8], seed: 9)
        let k = GradCheck.random([2, 4, 8], seed: 10)
        let v = GradCheck.random([2, 4, 6], seed: 11)
        for causal in [false, true] {
            GradCheck.check([q, k, v], eps: 1e-3) { x in
                Variable.attention(query: x[0], key: x[1], value: x[2], heads: 2, causal: causal)
            }
        }
        // One input in all three roles (gradients accumulate across roles).
        let s = GradCheck.random([2, 5, 6], seed: 12)
        for causal in [false, true] {
            GradCheck.check([s], eps: 1e-3) { x in Variable.attention(query: x[0], key: x[0], value: x[0], heads: 3, causal: causal) }
        }
        // One memory as key and value, with padded keys (cross-attention).
        GradCheck.check([q, k], eps: 1e-3) { x in
            Variable.attention(query: x[0], key: x[1], value: x[1], heads: 2, keyLengths: [3, 4])
        }
    }

    func testAttentionMatchesNaiveComputation() {
        let (b, lq, lk, h, dk, dv) = (2, 3, 5, 2, 4, 3)
        let q = GradCheck.random([b, lq, h * dk], seed: 13)
        let k = GradCheck.random([b, lk, h * dk], seed: 14)
        let v = GradCheck.random([b, lk, h * dv], seed: 15)
        for causal in [false, true] {
            let out = Variable.attention(query: Variable(q), key: Variable(k), value: Variable(v), heads: h, causal: causal)
            for bi in 0..<b { for hi in 0..<h { for i in 0..<lq {
                let keys = causal ? min(i + 1, lk) : lk
                var scores = (0..<keys).map { j in
                    (0..<dk).map { q[bi, i, hi * dk + $0] * k[bi, j, hi * dk + $0] }.reduce(0, +) / Float(dk).squareRoot()
                }
                let m = scores.max()!
                scores = scores.map { fexp($0 - m) }
                let total = scores.reduce(0, +)
                for c in 0..<dv {
                    let expected = (0..<keys).map { scores[$0] / total * v[bi, $0, hi * dv + c] }.reduce(0, +)
                    XCTAssertEqual(out.value[bi, i, hi * dv + c], expected, accuracy: 1e-5)
                }
            } } }
        }
    }

    func testCausalAttentionIgnoresFutureKeys() {
        let q = GradCheck.random([1, 4, 4], seed: 16)
        let k = GradCheck.random([1, 4, 4], seed: 17)
        let v = GradCheck.random([1, 4, 4], seed: 18)
        let before = Variable.attention(query: Variable(q), key: Variable(k), value: Variable(v), heads: 2, causal: true).value
        for c in 0..<4 { k[0, 3, c] = 100; v[0, 3, c] = -100 }
        let after = Variable.attention(query: Variable(q), key: Variable(k), value: Variable(v), heads: 2, causal: true).value
        for i in 0..<3 { for c in 0..<4 { XCTAssertEqual(before[0, i, c], after[0, i, c]) } }
        XCTAssertNotEqual(before[0, 3, 0], after[0, 3, 0])
        XCTAssertFalse(after.scalars.contains { $0.isNaN })
    }

    func testAttentionShapeRuleNamesTheShapes() {
        XCTAssertThrowsError(try ShapeRules.attention(query: [2, 3, 8], key: [2, 4, 8], value: [2, 5, 6], heads: 2)) { e in
            XCTAssertTrue("\(e)".contains("key and value lengths differ"), "\(e)")
        }
        XCTAssertThrowsError(try ShapeRules.attention(query: [2, 3, 8], key: [2, 4, 8], value: [2, 4, 6], heads: 3))
        XCTAssertEqual(try ShapeRules.attention(query: [2, 3, 8], key: [2, 4, 8], value: [2, 4, 6], heads: 2),
                       AttentionDims(batch: 2, heads: 2, queryLength: 3, keyLength: 4, keyDim: 4, valueDim: 3))
    }
}
