import Autograd
import TensorCore
import TestSupport
import XCTest

final class ConvolutionGradientTests: XCTestCase {
    func testConv2dGradientsForStridesAndPaddings() {
        let x = GradCheck.random([2, 5, 6, 3], seed: 1)
        let k = GradCheck.random([3, 2, 3, 4], seed: 2)
        let b = GradCheck.random([4], seed: 3)
        for strides in [(1, 1), (2, 2), (2, 1)] {
            for padding in [Padding.valid, .same] {
                GradCheck.check([x, k, b], eps: 1e-3) { v in
                    v[0].conv2d(kernel: v[1], bias: v[2], strides: strides, padding: padding)
                }
            }
        }
    }

    func testConv2dFusedActivations() {
        let x = GradCheck.random([1, 5, 5, 2], seed: 4)
        let k = GradCheck.random([3, 3, 2, 3], seed: 5)
        let b = GradCheck.random([3], seed: 6)
        for kind in [ActivationKind.relu, .sigmoid, .tanh, .gelu, .leakyRelu(alpha: 0.2)] {
            GradCheck.check([x, k, b], eps: 1e-3) { v in
                v[0].conv2d(kernel: v[1], bias: v[2], strides: (2, 2), padding: .same, activation: kind)
            }
        }
        GradCheck.check([x, k], eps: 1e-3) { v in v[0].conv2d(kernel: v[1], activation: .tanh) }
    }

    func testPointwiseConv2dGradients() {
        let x = GradCheck.random([2, 3, 4, 5], seed: 7)
        let k = GradCheck.random([1, 1, 5, 2], seed: 8)
        GradCheck.check([x, k, GradCheck.random([2], seed: 9)], eps: 1e-3) { v in v[0].conv2d(kernel: v[1], bias: v[2]) }
    }

    /// Several column-matrix chunks, so gradients accumulate across chunks (kernel, bias) and
    /// col2im scatters across chunk boundaries; and a layer wide enough to run as Winograd
    /// F(2×2, 3×3), with padding and an odd size.
    func testMultiChunkAndWinogradConv2dGradients() {
        for (i, (input, filters)) in [([3, 20, 21, 8], 4), ([2, 7, 6, 16], 16)].enumerated() {
            let seed = UInt64(24 + 3 * i)
            let x = GradCheck.random(input, seed: seed)
            let k = GradCheck.random([3, 3, input[3], filters], seed: seed + 1)
            let b = GradCheck.random([filters], seed: seed + 2)
            // gelu keeps its pre-activation apart from the output; tanh works in place.
            for kind in [ActivationKind.tanh, .gelu] {
                GradCheck.check([x, k, b], eps: 1e-3, maxElements: 40) { v in
                    v[0].conv2d(kernel: v[1], bias: v[2], padding: .same, activation: kind)
                }
            }
        }
    }

    func testConv1dGradients() {
        let x = GradCheck.random([2, 9, 3], seed: 10)
        let k = GradCheck.random([3, 3, 2], seed: 11)
        let b = GradCheck.random([2], seed: 12)
        for (stride, padding) in [(1, Padding.valid), (2, .same), (3, .valid)] {
            GradCheck.check([x, k, b], eps: 1e-3) { v in
                v[0].conv1d(kernel: v[1], bias: v[2], stride: stride, padding: padding, activation: .tanh)
            }
        }
    }

    /// A convolution used twice accumulates into existing gradients (the accumulate paths).
    func testConvolutionGradientsAccumulate() {
        let x = GradCheck.random([1, 5, 5, 2], seed: 13)
        let k = GradCheck.random([3, 3, 2, 2], seed: 14)
        let b = GradCheck.random([2], seed: 15)
        GradCheck.check([x, k, b], eps: 1e-3) { v in
            v[0].conv2d(kernel: v[1], bias: v[2], padding: .same) + v[0].conv2d(kernel: v[1], bias: v[2], strides: (1, 1), padding: .same, activation: .sigmoid)
        }
    }

    func testFrozenKernelAndConstantInputGetNoGradient() {
        let x = Variable(GradCheck.random([1, 4, 4, 2], seed: 16))
        let k = Variable(GradCheck.random([3, 3, 2, 2], seed: 17), requiresGrad: true)
        x.conv2d(kernel: k).sum().backward()
        XCTAssertNil(x.grad)
        XCTAssertNotNil(k.grad)
        let frozen = Variable(k.value, requiresGrad: false)
        let input = Variable(GradCheck.random([1, 4, 4, 2], seed: 18), requiresGrad: true)
        input.conv2d(kernel: frozen).sum().backward()
        XCTAssertNil(frozen.grad)
        XCTAssertNotNil(input.grad)
    }

    /// Distinct values (a shuffled ramp) keep each window's maximum unique and far from ties.
    private func distinct(_ shape: [Int], seed: UInt64) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        let n = shape.reduce(1, *)
        return Tensor(rng.permutation(n).map { Float($0) / Float(n) * 4 - 2 }, shape: shape)
    }

    func testPooling2dGradients() {
        let x = distinct([2, 5, 7, 3], seed: 19)
        for (pool, strides, padding) in [((2, 2), nil, Padding.valid), ((3, 2), (2, 1), .same), ((3, 3), (1, 1), .valid),
                                         ((2, 3), (2, 2), .same)] {
            GradCheck.check([x], eps: 1e-3) { v in v[0].maxPool2d(poolSize: pool, strides: strides, padding: padding) }
            GradCheck.check([x], eps: 1e-3) { v in v[0].avgPool2d(poolSize: pool, strides: strides, padding: padding) }
        }
    }

    func testPooling1dGradients() {
        let x = distinct([2, 9, 3], seed: 20)
        for (pool, stride, padding) in [(2, nil, Padding.valid), (3, 2, .same), (3, 1, .valid)] {
            GradCheck.check([x], eps: 1e-3) { v in v[0].maxPool1d(poolSize: pool, stride: stride, padding: padding) }
            GradCheck.check([x], eps: 1e-3) { v in v[0].avgPool1d(poolSize: pool, stride: stride, padding: padding) }
        }
    }

    /// conv → relu → max pool → conv, the seed CNN's pattern, end to end.
    func testConvPoolStack() {
        let x = GradCheck.awayFromZero([1, 8, 8, 2], seed: 21)
        let k1 = GradCheck.random([3, 3, 2, 3], seed: 22), k2 = GradCheck.random([2, 2, 3, 2], seed: 23)
        GradCheck.check([x, k1, k2], eps: 1e-3, tolerance: 3e-2) { v in
            v[0].conv2d(kernel: v[1], activation: .relu).maxPool2d(poolSize: (2, 2)).conv2d(kernel: v[2])
        }
    }
}
