#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TensorCore
import XCTest

final class VectorMathTests: XCTestCase {
    typealias Kernel = @Sendable (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void

    static let kernels: [(name: String, run: Kernel, reference: @Sendable (Double) -> Double)] = [
        ("exp", { VectorMath.exp($0, $1, count: $2) }, { exp($0) }),
        ("tanh", { VectorMath.tanh($0, $1, count: $2) }, { tanh($0) }),
        ("sigmoid", { VectorMath.sigmoid($0, $1, count: $2) }, { 1 / (1 + exp(-$0)) }),
        ("normalCDF", { VectorMath.normalCDF($0, $1, count: $2) }, { 0.5 * erfc(-$0 / 2.0.squareRoot()) }),
    ]

    func apply(_ kernel: Kernel, _ x: [Float]) -> [Float] {
        var y = [Float](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { px in y.withUnsafeMutableBufferPointer { kernel(px.baseAddress!, $0.baseAddress!, x.count) } }
        return y
    }

    /// Every `stride`-th float (by bit pattern) of magnitude ≤ `limit`, both signs: 2²³/stride
    /// points in every binade, from the subnormals up. (The release-build sweep over every
    /// float is in docs/performance.md; a debug build checks a subset in seconds.)
    func sweep(limit: Float, stride: UInt32) -> [Float] {
        Swift.stride(from: 0, through: limit.bitPattern, by: Int(stride)).flatMap { b in
            [Float(bitPattern: b), -Float(bitPattern: b)]
        }
    }

    /// Largest error against the Double reference: relative (where the reference is not 0) or absolute.
    func maxError(_ kernel: Kernel, _ reference: (Double) -> Double, _ x: [Float], relative: Bool) -> (error: Double, at: Float) {
        let y = apply(kernel, x)
        var worst = (error: 0.0, at: Float.nan)
        for (xi, yi) in zip(x, y) {
            let r = reference(Double(xi))
            let e = relative ? abs(Double(yi) - r) / abs(r) : abs(Double(yi) - r)
            if !(e <= worst.error) { worst = (e, xi) }
        }
        return worst
    }

    // MARK: Accuracy

    func testExpRelativeErrorOverItsNormalRange() {
        let exp = Self.kernels[0]
        let dense = sweep(limit: 88, stride: 1 << 13).filter { $0 >= -87 }
        let linear = (0...100_000).map { Float(-87 + 175 * Double($0) / 100_000) }
        let worst = maxError(exp.run, exp.reference, dense + linear, relative: true)
        // Measured over every float in [−87, 88] (release build): 6.5e-8.
        XCTAssertLessThan(worst.error, 1e-7, "at \(worst.at)")
    }

    /// Box–Muller's two functions over their domains: ln on positive normal floats from 2⁻⁵³
    /// (the smallest first uniform) up, cos(2πu) on [0, 1) and beyond.
    func testLogAndCosineOfTurnsAgainstDouble() {
        let positive = Swift.stride(from: Float(0x1p-53).bitPattern, through: Float(4).bitPattern, by: 4099)
            .map { Float(bitPattern: $0) }
        var worstLog = 0.0
        for chunk in Swift.stride(from: 0, to: positive.count - 7, by: 8) {
            let x = VectorMath.Vector(positive[chunk..<chunk + 8])
            let y = VectorMath.log(x)
            for l in 0..<8 {
                let r = log(Double(x[l]))
                // Relative away from 1, absolute near it (where ln x → 0).
                worstLog = max(worstLog, abs(Double(y[l]) - r) / max(abs(r), 1))
            }
        }
        XCTAssertLessThan(worstLog, 2.5e-7, "ln")
        var worstCos = 0.0
        for i in Swift.stride(from: 0, to: 40_000, by: 8) {
            let u = VectorMath.Vector((0..<8).map { Float(i + $0) / 20_000 - 0.5 })
            let y = VectorMath.cosTwoPi(u)
            for l in 0..<8 { worstCos = max(worstCos, abs(Double(y[l]) - cos(2 * Double.pi * Double(u[l])))) }
        }
        XCTAssertLessThan(worstCos, 2.5e-7, "cos 2πu")
    }

    /// `fillNormal`'s values: mean, variance, the share beyond 2σ and beyond 3σ of 400,000 draws,
    /// and the same values again from the same seed, with a partial last vector.
    func testFillNormalDrawsStandardNormals() {
        let t = Tensor(uninitialized: [400_003])
        var rng = RandomGenerator(seed: 7)
        rng.fillNormal(t)
        let z = Array(UnsafeBufferPointer(start: t.data, count: t.count)).map(Double.init)
        let n = Double(z.count), mean = z.reduce(0, +) / n
        let variance = z.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n
        XCTAssertEqual(mean, 0, accuracy: 0.005)
        XCTAssertEqual(variance, 1, accuracy: 0.01)
        XCTAssertEqual(Double(z.filter { abs($0) > 2 }.count) / n, 0.0455, accuracy: 0.0015)
        XCTAssertEqual(Double(z.filter { abs($0) > 3 }.count) / n, 0.0027, accuracy: 0.0004)
        XCTAssertTrue(z.allSatisfy { $0.isFinite })
        let again = Tensor(uninitialized: [400_003])
        var same = RandomGenerator(seed: 7)
        same.fillNormal(again)
        XCTAssertTrue((0..<t.count).allSatisfy { t.data[$0] == again.data[$0] })
    }

    func testTanhSigmoidAndNormalCDFAbsoluteError() {
        let x = sweep(limit: 30, stride: 1 << 13)
        // Measured over every third float in [−20, 20], [−90, 90], [−14, 14]: 7.9e-8, 8.9e-8, 2.7e-7.
        for (k, bound) in zip(Self.kernels.dropFirst(), [1.5e-7, 1.5e-7, 4e-7]) {
            let worst = maxError(k.run, k.reference, x, relative: false)
            XCTAssertLessThan(worst.error, bound, "\(k.name) at \(worst.at)")
        }
        // Near 0 tanh keeps its relative accuracy: a polynomial replaces 1 − 2/(e^{2x} + 1), which cancels.
        let tanh = Self.kernels[1]
        let small = maxError(tanh.run, tanh.reference, sweep(limit: 1, stride: 1 << 13).filter { $0 != 0 }, relative: true)
        XCTAssertLessThan(small.error, 2e-7, "tanh at \(small.at)")
        // Φ's lower tail is computed directly, so it keeps relative accuracy (2e-6 to −5).
        let phi = Self.kernels[3]
        let tail = maxError(phi.run, phi.reference, sweep(limit: 5, stride: 1 << 13).filter { $0 < 0 }, relative: true)
        XCTAssertLessThan(tail.error, 2e-6, "normalCDF at \(tail.at)")
    }

    func testGeluForwardAndBackwardAgainstDouble() {
        let x = (0...20_000).map { Float(-10 + Double($0) / 1000) }
        let n = x.count
        var y = [Float](repeating: 0, count: n), dx = [Float](repeating: 0, count: n)
        let dy = [Float](repeating: 1, count: n)
        ActivationKind.gelu.forward(x, &y, n)
        ActivationKind.gelu.backward(x: x, y: y, dy: dy, dx: &dx, n, accumulate: false)
        for i in 0..<n {
            let v = Double(x[i]), cdf = 0.5 * erfc(-v / 2.0.squareRoot())
            let pdf = exp(-0.5 * v * v) / (2 * Double.pi).squareRoot()
            XCTAssertEqual(Double(y[i]), v * cdf, accuracy: 1e-6, "gelu(\(v))")
            XCTAssertEqual(Double(dx[i]), cdf + v * pdf, accuracy: 1e-6, "gelu'(\(v))")
        }
    }

    // MARK: Special values and tails

    func testSpecialValues() {
        let tiny = Float.leastNonzeroMagnitude, subnormal = Float.leastNormalMagnitude / 3
        let x: [Float] = [0, -0.0, .infinity, -.infinity, .nan, 100, -100, tiny, -subnormal, 88.72, 88.73, -87.3, -87.4, 1e30, -1e30]
        let e = apply(Self.kernels[0].run, x), t = apply(Self.kernels[1].run, x)
        let s = apply(Self.kernels[2].run, x), f = apply(Self.kernels[3].run, x)
        // exp
        XCTAssertEqual(Array(e[0...3]), [1, 1, .infinity, 0])
        XCTAssert(e[4].isNaN)
        XCTAssertEqual(Array(e[5...8]), [.infinity, 0, 1, 1])
        XCTAssert(e[9].isFinite && e[9] > 3.3e38)
        XCTAssertEqual(e[10], .infinity)
        XCTAssert(e[11].isNormal)
        XCTAssertEqual(Array(e[12...]), [0, .infinity, 0])
        // tanh: odd, exact for tiny inputs, ±1 in the tails
        XCTAssertEqual(t[0], 0)
        XCTAssertEqual(t[1].sign, .minus)
        XCTAssertEqual(Array(t[2...3]), [1, -1])
        XCTAssert(t[4].isNaN)
        XCTAssertEqual(Array(t[5...8]), [1, -1, tiny, -subnormal])
        XCTAssertEqual(Array(t[9...]), [1, 1, -1, -1, 1, -1])
        // sigmoid
        XCTAssertEqual(Array(s[0...3]), [0.5, 0.5, 1, 0])
        XCTAssert(s[4].isNaN)
        XCTAssertEqual(Array(s[5...8]), [1, 0, 0.5, 0.5])
        XCTAssertEqual(Array(s[9...10]), [1, 1])
        XCTAssert(s[11].isNormal && s[11] < 1.3e-38)
        XCTAssertEqual(Array(s[12...]), [0, 1, 0])
        // Φ
        XCTAssertEqual(f[0], 0.5, accuracy: 3e-7)
        XCTAssertEqual(Array(f[2...3]), [1, 0])
        XCTAssert(f[4].isNaN)
        XCTAssertEqual(Array(f[5...6]), [1, 0])
        XCTAssertEqual(Array(f[13...]), [1, 0])
    }

    /// Saturated inputs give 0, never a subnormal (which would slow down whatever reads it).
    func testNoSubnormalResults() {
        // −80 … −120 (exp, sigmoid), −12 … −14 (Φ, gelu)
        let saturated: [Float] = (0...40_000).map { i -> Float in Float(-80 - Double(i) / 1000) }
        let x = saturated + (0...20_000).map { i -> Float in Float(-12 - Double(i) / 10_000) }
        for k in Self.kernels {
            XCTAssertFalse(apply(k.run, x).contains { $0.isSubnormal }, k.name)
        }
        XCTAssertFalse(apply({ ActivationKind.gelu.forward($0, $1, $2) }, x).contains { $0.isSubnormal }, "gelu")
        XCTAssertFalse(apply(Self.kernels[2].run, x.map { -$0 }).contains { $0.isSubnormal })
    }

    func testLengthsThatAreNotAMultipleOfTheWidthAndInPlace() {
        for n in [0, 1, 7, 8, 9, 15, 1000] {
            let x = (0..<n).map { Float(-5 + 10 * Double($0) / Double(max(n, 1))) }
            for k in Self.kernels {
                // Out of place, with a sentinel after the end that must stay untouched.
                var y = [Float](repeating: 42, count: n + 1)
                x.withUnsafeBufferPointer { px in y.withUnsafeMutableBufferPointer { k.run(px.baseAddress!, $0.baseAddress!, n) } }
                XCTAssertEqual(y[n], 42, "\(k.name) wrote past \(n)")
                for i in 0..<n { XCTAssertEqual(Double(y[i]), k.reference(Double(x[i])), accuracy: 1e-6 * max(1, k.reference(Double(x[i]))), "\(k.name)(\(x[i])), n = \(n)") }
                // In place gives the same bits.
                var z = x + [42]
                z.withUnsafeMutableBufferPointer { k.run($0.baseAddress!, $0.baseAddress!, n) }
                XCTAssertEqual(z, y, "\(k.name) in place, n = \(n)")
            }
            var z = x
            z.withUnsafeMutableBufferPointer { VectorMath.exp(inPlace: $0.baseAddress!, count: n) }
            XCTAssertEqual(z, apply(Self.kernels[0].run, x))
        }
    }

    // MARK: Reductions

    func testReductionsOverTails() {
        for n in [0, 1, 7, 8, 9, 1000] {
            let a = (0..<n).map { Float(sin(Double($0) * 1.7) * 3) }
            let b = (0..<n).map { Float(cos(Double($0) * 0.3)) }
            XCTAssertEqual(VectorMath.max(a, count: n), a.max() ?? -.infinity)
            XCTAssertEqual(Double(VectorMath.sum(a, count: n)), a.reduce(0.0) { $0 + Double($1) }, accuracy: 1e-4)
            XCTAssertEqual(Double(VectorMath.dot(a, b, count: n)), zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }, accuracy: 1e-4)
            let shift: Float = 2
            var terms = [Float](repeating: 42, count: n + 1)
            let s = VectorMath.sumOfExp(a, minus: shift, count: n, into: &terms)
            let expected = a.map { exp(Double($0 - shift)) }
            XCTAssertEqual(Double(s), expected.reduce(0, +), accuracy: 1e-5 * max(1, Double(n)))
            XCTAssertEqual(Double(VectorMath.sumOfExp(a, minus: shift, count: n)), Double(s))
            XCTAssertEqual(terms[n], 42)
            XCTAssertEqual(Array(terms.prefix(n)), apply(Self.kernels[0].run, a.map { $0 - shift }))
        }
        XCTAssertEqual(VectorMath.max([1, .nan, 3], count: 3), 3, "NaNs are skipped")
    }

    func testSoftmaxRowsAgainstDoubleAndStableForHugeLogits() {
        for n in [1, 3, 8, 9, 130] {
            let rows = 3
            var x = (0..<(rows * n)).map { Float(sin(Double($0) * 0.9) * 4) }
            x[0] = 1000  // exp(1000) overflows unless the max is subtracted
            if n > 1 { x[n + 1] = -1000 }
            var y = [Float](repeating: 0, count: x.count), logY = y
            Softmax.forward(x, &y, rows: rows, n: n)
            Softmax.logForward(x, &logY, rows: rows, n: n)
            for r in 0..<rows {
                let row = x[(r * n)..<((r + 1) * n)].map(Double.init)
                let m = row.max()!
                let lse = m + log(row.reduce(0) { $0 + exp($1 - m) })
                for j in 0..<n {
                    XCTAssertEqual(Double(y[r * n + j]), exp(row[j] - lse), accuracy: 1e-6, "n \(n) row \(r)")
                    XCTAssertEqual(Double(logY[r * n + j]), row[j] - lse, accuracy: 2e-4 * max(1, abs(row[j] - lse)), "n \(n) row \(r)")
                }
            }
            // In place matches out of place.
            var z = x
            z.withUnsafeMutableBufferPointer { Softmax.forward($0.baseAddress!, $0.baseAddress!, rows: rows, n: n) }
            XCTAssertEqual(z, y)
        }
    }

    func testAllFiniteFindsANaNOrInfinityAnywhereIncludingThePartialTail() {
        for count in [1, 7, 8, 9, 100] {
            var x = (0..<count).map { Float($0 % 61 - 30) * 1e37 }
            XCTAssertTrue(VectorMath.allFinite(x, count: count), "count \(count): finite values, even near overflow")
            for bad: Float in [.nan, .infinity, -.infinity] {
                for i in [0, count / 2, count - 1] {
                    let saved = x[i]
                    x[i] = bad
                    XCTAssertFalse(VectorMath.allFinite(x, count: count), "count \(count): \(bad) at \(i) not found")
                    x[i] = saved
                }
            }
        }
        XCTAssertTrue(VectorMath.allFinite([Float](), count: 0))
    }

    /// Every position of vector lanes, the unrolled pair and the tail; ±bound itself is within.
    func testAllWithinFindsEveryValueOutsideTheBound() {
        let bound: Float = 0x1p100
        for count in [0, 5, 8, 16, 37] {
            let base = (0..<count).map { Float($0 % 2 == 0 ? 1 : -1) * (Float($0) + 0.5) }
            XCTAssertTrue(VectorMath.allWithin(base, count: count, bound: bound), "\(count)")
            for i in 0..<count {
                for bad in [Float.nan, .infinity, -.infinity, bound.nextUp, -bound.nextUp] {
                    var x = base
                    x[i] = bad
                    XCTAssertFalse(VectorMath.allWithin(x, count: count, bound: bound), "\(bad) at \(i) of \(count)")
                }
                var x = base
                x[i] = -bound
                XCTAssertTrue(VectorMath.allWithin(x, count: count, bound: bound), "-bound at \(i) of \(count)")
            }
        }
    }
}
