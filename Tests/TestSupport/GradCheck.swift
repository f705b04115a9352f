import Autograd
import TensorCore
import XCTest

/// Finite-difference gradient checking for tests.
///
/// The scalar objective is L = Σ f(inputs) ⊙ R for a fixed random R (so every output element
/// matters, with different weights). Analytic gradients come from `backward(seed: R)`;
/// numerical ones from central differences, evaluated and summed in Double.
public enum GradCheck {
    /// Checks d L / d input for every input (up to `maxElements` sampled elements each).
    /// `f` must be deterministic: the same inputs give the same outputs.
    public static func check(_ inputs: [Tensor], eps: Float = 1e-2, tolerance: Double = 2e-2,
                             maxElements: Int = 60, seed: UInt64 = 7,
                             file: StaticString = #filePath, line: UInt = #line,
                             _ f: ([Variable]) -> Variable) {
        let vars = inputs.map { Variable($0.copy(), requiresGrad: true) }
        let out = f(vars)
        var rng = RandomGenerator(seed: seed, stream: [99])
        let r = Tensor(uninitialized: out.shape)
        rng.fillUniform(r, low: -1, high: 1)
        out.backward(seed: r)

        func objective() -> Double {
            let o = withoutGradient { f(inputs.map { Variable($0) }) }
            var s = 0.0
            for i in 0..<o.count { s += Double(o.value.data[i]) * Double(r.data[i]) }
            return s
        }

        for (k, x) in inputs.enumerated() {
            compare(x, gradient: vars[k].grad, label: "input \(k) \(shapeString(x.shape))", eps: eps, tolerance: tolerance,
                    maxElements: maxElements, seed: seed &+ UInt64(k), file: file, line: line, objective: objective)
        }
    }

    /// Compares `gradient` with central differences of `objective` in the elements of `x` (all
    /// of them, or `maxElements` sampled ones), perturbing `x` in place and restoring it.
    public static func compare(_ x: Tensor, gradient: Tensor?, label: String, eps: Float, tolerance: Double,
                               maxElements: Int, seed: UInt64, file: StaticString, line: UInt, objective: () -> Double) {
        guard let g = gradient else {
            XCTFail("\(label) received no gradient", file: file, line: line)
            return
        }
        var pick = RandomGenerator(seed: seed, stream: [UInt64(x.count)])
        let indices = x.count <= maxElements ? Array(0..<x.count) : (0..<maxElements).map { _ in Int(pick.next() % UInt64(x.count)) }
        var worst = 0.0, worstIndex = -1, worstPair = (0.0, 0.0)
        for i in indices {
            let saved = x.data[i]
            x.data[i] = saved + eps
            let plus = objective()
            x.data[i] = saved - eps
            let minus = objective()
            x.data[i] = saved
            let numeric = (plus - minus) / (2 * Double(eps))
            let analytic = Double(g.data[i])
            let err = abs(numeric - analytic) / max(1, abs(numeric) + abs(analytic))
            if err > worst { worst = err; worstIndex = i; worstPair = (analytic, numeric) }
        }
        XCTAssertLessThan(worst, tolerance, "\(label) element \(worstIndex): analytic \(worstPair.0) vs numeric \(worstPair.1)",
                          file: file, line: line)
    }

    /// Finite-difference check of a model's gradients with respect to its inputs and to
    /// `parameters` (a layer's own, which `check` cannot reach). The objective is
    /// Σ forward(inputs) ⊙ R for a fixed random R; tensors are perturbed in place.
    public static func checkWithParameters(_ parameters: [Variable], inputs: [Tensor], eps: Float = 1e-3, tolerance: Double = 2e-2,
                                           maxElements: Int = 40, file: StaticString = #filePath, line: UInt = #line,
                                           _ forward: ([Variable]) -> Variable) {
        let vars = inputs.map { Variable($0, requiresGrad: true) }
        let out = forward(vars)
        var rng = RandomGenerator(seed: 5, stream: [99])
        let r = Tensor(uninitialized: out.shape)
        rng.fillUniform(r, low: -1, high: 1)
        out.backward(seed: r)
        func objective() -> Double {
            let o = withoutGradient { forward(inputs.map { Variable($0) }) }
            return (0..<o.count).reduce(0.0) { $0 + Double(o.value.data[$1]) * Double(r.data[$1]) }
        }
        let targets = zip(inputs, vars).map { ("input \(shapeString($0.shape))", $0, $1.grad) }
            + parameters.map { ($0.name, $0.value, $0.grad) }
        for (label, x, grad) in targets {
            compare(x, gradient: grad, label: label, eps: eps, tolerance: tolerance, maxElements: maxElements,
                    seed: 3, file: file, line: line, objective: objective)
        }
    }

    /// A tensor of uniform values in [low, high) from a named stream.
    public static func random(_ shape: [Int], low: Float = -1, high: Float = 1, seed: UInt64 = 1) -> Tensor {
        var rng = RandomGenerator(seed: seed, stream: [UInt64(shape.reduce(1, *))])
        let t = Tensor(uninitialized: shape)
        rng.fillUniform(t, low: low, high: high)
        return t
    }

    /// Values bounded away from zero (|v| ≥ margin), so kinks of relu/max do not sit within eps.
    public static func awayFromZero(_ shape: [Int], margin: Float = 0.1, seed: UInt64 = 1) -> Tensor {
        let t = random(shape, seed: seed)
        for i in 0..<t.count { let v = t.data[i]; t.data[i] = v >= 0 ? v + margin : v - margin }
        return t
    }
}

/// Largest |a − b| / max(1, |b|) over two equally shaped tensors.
public func maxRelativeDifference(_ a: Tensor, _ b: Tensor) -> Float {
    precondition(a.count == b.count)
    var m: Float = 0
    for i in 0..<a.count { m = max(m, abs(a.data[i] - b.data[i]) / max(1, abs(b.data[i]))) }
    return m
}
