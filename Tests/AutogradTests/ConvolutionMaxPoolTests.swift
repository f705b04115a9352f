import Autograd
import TensorCore
import TestSupport
import XCTest

/// The fused convolution + max pooling must give what the two ops give one after the other
/// (output and every gradient), and pass a finite-difference check of its own.
final class ConvolutionMaxPoolTests: XCTestCase {
    struct Case {
        var input: [Int], kernel: [Int], strides: [Int], padding: Padding, pool: [Int], activation: ActivationKind
    }

    /// Even and odd conv outputs (floor pooling leaves a row and column out), several chunks
    /// per image (30×30 outputs with 27-float patches), a 3×3 pool (taps 0…8), a pointwise
    /// kernel, channel counts below, at and off a multiple of the 8-wide SIMD, 1-D.
    static let cases: [Case] = [
        Case(input: [2, 8, 8, 3], kernel: [3, 3, 3, 16], strides: [1, 1], padding: .valid, pool: [2, 2], activation: .relu),
        Case(input: [2, 9, 9, 3], kernel: [3, 3, 3, 5], strides: [1, 1], padding: .valid, pool: [2, 2], activation: .relu),
        Case(input: [3, 32, 32, 3], kernel: [3, 3, 3, 8], strides: [1, 1], padding: .valid, pool: [2, 2], activation: .relu),
        Case(input: [2, 10, 11, 4], kernel: [3, 3, 4, 12], strides: [1, 1], padding: .same, pool: [3, 3], activation: .tanh),
        Case(input: [2, 9, 7, 2], kernel: [3, 2, 2, 9], strides: [2, 1], padding: .same, pool: [2, 3], activation: .sigmoid),
        Case(input: [2, 6, 6, 5], kernel: [1, 1, 5, 4], strides: [1, 1], padding: .valid, pool: [2, 2], activation: .linear),
        Case(input: [2, 13, 6], kernel: [3, 6, 10], strides: [1], padding: .valid, pool: [2], activation: .leakyRelu(alpha: 0.1)),
        // Winograd: the seed CNN's second layer (odd 13×13 output), and same padding
        Case(input: [2, 15, 15, 32], kernel: [3, 3, 32, 64], strides: [1, 1], padding: .valid, pool: [2, 2], activation: .relu),
        Case(input: [2, 9, 8, 16], kernel: [3, 3, 16, 16], strides: [1, 1], padding: .same, pool: [3, 2], activation: .tanh),
    ]

    private func unfused(_ c: Case, _ v: [Variable]) -> Variable {
        if c.pool.count == 2 {
            return v[0].conv2d(kernel: v[1], bias: v[2], strides: (c.strides[0], c.strides[1]), padding: c.padding, activation: c.activation)
                .maxPool2d(poolSize: (c.pool[0], c.pool[1]))
        }
        return v[0].conv1d(kernel: v[1], bias: v[2], stride: c.strides[0], padding: c.padding, activation: c.activation)
            .maxPool1d(poolSize: c.pool[0])
    }

    private func fused(_ c: Case, _ v: [Variable]) -> Variable {
        v[0].convolutionMaxPooled(kernel: v[1], bias: v[2], strides: c.strides, padding: c.padding, activation: c.activation,
                                  poolSize: c.pool)!
    }

    /// Output and gradients (input, kernel, bias) of `f` for fixed inputs and output seed.
    private func run(_ c: Case, seed: UInt64, integerValued: Bool, _ f: (Case, [Variable]) -> Variable) -> [Tensor] {
        var inputs = [GradCheck.random(c.input, seed: seed), GradCheck.random(c.kernel, seed: seed + 1),
                      GradCheck.random([c.kernel.last!], seed: seed + 2)]
        if integerValued {
            // Small integers make exact ties between taps common, so the first-wins rule is tested.
            for t in inputs { for i in 0..<t.count { t.data[i] = (t.data[i] * 2).rounded() } }
        }
        let vars = inputs.map { Variable($0, requiresGrad: true) }
        let y = f(c, vars)
        let dy = GradCheck.random(y.shape, seed: seed + 3)
        y.backward(seed: dy)
        inputs = [y.value] + vars.map { $0.grad! }
        return inputs
    }

    func testFusedEqualsConvolutionThenPooling() {
        for (i, c) in Self.cases.enumerated() {
            for integerValued in [false, true] {
                let a = run(c, seed: UInt64(10 * i + 1), integerValued: integerValued, unfused)
                let b = run(c, seed: UInt64(10 * i + 1), integerValued: integerValued, fused)
                for (name, (u, f)) in zip(["output", "input gradient", "kernel gradient", "bias gradient"], zip(a, b)) {
                    XCTAssertEqual(u.shape, f.shape, "case \(i) \(name)")
                    XCTAssertLessThanOrEqual(maxRelativeDifference(f, u), 1e-5, "case \(i) \(name), integer inputs \(integerValued)")
                }
            }
        }
    }

    /// Smooth activations only: central differences straddle relu's kink too often at random
    /// points (the relu cases are covered by the equality with the unfused ops above).
    func testFusedGradientsByFiniteDifferences() {
        for (i, c) in Self.cases.enumerated() where c.input.reduce(1, *) < 1000 && [.tanh, .sigmoid, .linear].contains(c.activation) {
            let inputs = [GradCheck.random(c.input, seed: UInt64(i) + 40), GradCheck.random(c.kernel, seed: UInt64(i) + 41),
                          GradCheck.random([c.kernel.last!], seed: UInt64(i) + 42)]
            GradCheck.check(inputs, eps: 1e-3) { v in fused(c, v) }
        }
    }

    func testPairsThatCannotFuseAreRefused() {
        let x = Variable(GradCheck.random([1, 6, 6, 2], seed: 1)), k = Variable(GradCheck.random([3, 3, 2, 4], seed: 2))
        // gelu's derivative needs the pre-activation; a 1-D pool does not fit a 2-D convolution.
        XCTAssertNil(x.convolutionMaxPooled(kernel: k, bias: nil, strides: [1, 1], padding: .valid, activation: .gelu, poolSize: [2, 2]))
        XCTAssertNil(x.convolutionMaxPooled(kernel: k, bias: nil, strides: [1, 1], padding: .valid, activation: .relu, poolSize: [2]))
        XCTAssertNotNil(x.convolutionMaxPooled(kernel: k, bias: nil, strides: [1, 1], padding: .valid, activation: .relu, poolSize: [3, 3]))
    }
}
