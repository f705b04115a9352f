import Autograd
import NN
import TensorCore
import TestSupport
import XCTest

final class BatchNormalizationTests: XCTestCase {
    private func build(_ layer: Layer, _ shape: [Int], seed: UInt64 = 1) throws -> [Int] {
        var rng = RandomGenerator(seed: seed)
        return try layer.build(inputShape: shape, rng: &rng)
    }

    /// Finite differences of Σ layer(x) ⊙ R with respect to x and every trainable parameter.
    private func checkGradients(_ layer: Layer, input: Tensor, eps: Float = 1e-2, tolerance: Double = 2e-2,
                                file: StaticString = #filePath, line: UInt = #line) {
        for p in layer.parameters { p.clearGrad() }
        let x = Variable(input, requiresGrad: true)
        let out = layer(x)
        var rng = RandomGenerator(seed: 5, stream: [99])
        let r = Tensor(uninitialized: out.shape)
        rng.fillUniform(r, low: -1, high: 1)
        out.backward(seed: r)
        func objective() -> Double {
            let o = withoutGradient { layer(Variable(input)) }
            return (0..<o.count).reduce(0.0) { $0 + Double(o.value.data[$1]) * Double(r.data[$1]) }
        }
        let targets = [("input", input, x.grad)] + layer.parameters.filter(\.requiresGrad).map { ($0.name, $0.value, $0.grad) }
        for (label, t, grad) in targets {
            GradCheck.compare(t, gradient: grad, label: label, eps: eps, tolerance: tolerance, maxElements: 40, seed: 3,
                              file: file, line: line, objective: objective)
        }
    }

    /// Per-channel mean and biased variance of a rows × channels view.
    private func moments(_ x: Tensor, channels c: Int) -> (mean: [Double], variance: [Double]) {
        let rows = x.count / c
        var mean = [Double](repeating: 0, count: c), variance = mean
        for r in 0..<rows { for j in 0..<c { mean[j] += Double(x.data[r * c + j]) / Double(rows) } }
        for r in 0..<rows { for j in 0..<c { let d = Double(x.data[r * c + j]) - mean[j]; variance[j] += d * d / Double(rows) } }
        return (mean, variance)
    }

    func testKerasWeightsAndNonTrainableMovingStatistics() throws {
        let bn = BatchNormalization(name: "bn")
        XCTAssertEqual(bn.momentum, 0.99)
        XCTAssertEqual(bn.epsilon, 1e-3)
        let model = Sequential([bn])
        XCTAssertEqual(try model.build(inputShape: [4, 4, 3], seed: 1), [4, 4, 3])
        XCTAssertEqual(bn.parameters.map(\.name), ["bn/gamma", "bn/beta", "bn/moving_mean", "bn/moving_variance"])
        XCTAssertEqual(bn.parameters.map(\.requiresGrad), [true, true, false, false])
        XCTAssertEqual(bn.movingMean.value.scalars, [0, 0, 0])
        XCTAssertEqual(bn.movingVariance.value.scalars, [1, 1, 1])
        let summary = model.summary()
        XCTAssertTrue(summary.contains("Non-trainable params: 6"), summary)
    }

    func testTrainingNormalisesWithBatchStatisticsAndMovesTheAverages() throws {
        let bn = BatchNormalization(momentum: 0.9, epsilon: 1e-3)
        _ = try build(bn, [3, 2, 4])
        bn.gamma.value.copy(from: Tensor([1, 2, 0.5, -1], shape: [4]))
        bn.beta.value.copy(from: Tensor([0, 1, -1, 0.25], shape: [4]))
        let x = GradCheck.random([5, 3, 2, 4], low: -3, high: 5, seed: 8)
        let y = withoutGradient { bn(Variable(x)) }.value
        let (mean, variance) = moments(x, channels: 4)
        for i in 0..<x.count {
            let j = i % 4
            let expected = (Double(x.data[i]) - mean[j]) / (variance[j] + 1e-3).squareRoot() * Double(bn.gamma.value.data[j])
                + Double(bn.beta.value.data[j])
            XCTAssertEqual(Double(y.data[i]), expected, accuracy: 1e-4)
        }
        for j in 0..<4 {
            XCTAssertEqual(Double(bn.movingMean.value.data[j]), 0.1 * mean[j], accuracy: 1e-5)
            XCTAssertEqual(Double(bn.movingVariance.value.data[j]), 0.9 + 0.1 * variance[j], accuracy: 1e-5)
        }
    }

    func testInferenceUsesTheMovingStatistics() throws {
        let bn = BatchNormalization(epsilon: 0.01)
        _ = try build(bn, [2])
        bn.movingMean.value.copy(from: Tensor([1, -2], shape: [2]))
        bn.movingVariance.value.copy(from: Tensor([4, 0.25], shape: [2]))
        bn.gamma.value.copy(from: Tensor([3, 1], shape: [2]))
        bn.setTraining(false)
        let y = bn(Variable(Tensor([3, 0, 1, -2], shape: [2, 2]))).value
        XCTAssertEqual(y.scalars[0], 3 * 2 / Float(4.01).squareRoot(), accuracy: 1e-5)
        XCTAssertEqual(y.scalars[1], 2 / Float(0.26).squareRoot(), accuracy: 1e-5)
        XCTAssertEqual(y.scalars[2], 0, accuracy: 1e-6)
        XCTAssertEqual(y.scalars[3], 0, accuracy: 1e-6)
        XCTAssertEqual(bn.movingMean.value.scalars, [1, -2], "inference must not move the averages")
    }

    func testGradientsInTrainingAndInferenceMode() throws {
        for shape in [[6, 3], [2, 5, 3], [2, 3, 3, 4]] {
            let bn = BatchNormalization(name: "bn")
            _ = try build(bn, Array(shape.dropFirst()))
            let c = shape.last!
            bn.gamma.value.copy(from: GradCheck.random([c], low: 0.5, high: 1.5, seed: 2))
            bn.beta.value.copy(from: GradCheck.random([c], seed: 3))
            checkGradients(bn, input: GradCheck.random(shape, low: -2, high: 3, seed: 4))
            bn.movingVariance.value.copy(from: GradCheck.random([c], low: 0.5, high: 2, seed: 6))
            bn.setTraining(false)
            checkGradients(bn, input: GradCheck.random(shape, low: -2, high: 3, seed: 4))
        }
    }

    func testUnsupportedRanksAreShapeErrors() {
        for shape in [[], [2, 2, 2, 2]] {
            XCTAssertThrowsError(try build(BatchNormalization(name: "bn"), shape)) { e in
                XCTAssertTrue("\(e)".contains("bn (BatchNormalization)") && "\(e)".contains("should be [features], [steps, channels] or [height, width, channels]"), "\(e)")
            }
        }
        XCTAssertThrowsError(try build(ResidualBlock(filters: 4, name: "block"), [8, 3])) { e in
            XCTAssertTrue("\(e)".contains("block (ResidualBlock)") && "\(e)".contains("[height, width, channels]"), "\(e)")
        }
        XCTAssertThrowsError(try build(ResidualBlock(filters: 2, strides: 2, shortcut: .padding, name: "block"), [8, 8, 4])) { e in
            XCTAssertTrue("\(e)".contains("cannot reduce 4 channels to 2"), "\(e)")
        }
    }

    func testResidualBlockShapesAndParameters() throws {
        let identity = ResidualBlock(filters: 4, name: "b")
        XCTAssertEqual(try build(identity, [6, 6, 4]), [6, 6, 4])
        XCTAssertNil(identity.projection)
        XCTAssertEqual(identity.parameterCount, 2 * 3 * 3 * 4 * 4 + 2 * 4 * 4)
        XCTAssertEqual(identity.parameters.map(\.name).prefix(3), ["b/conv_1/kernel", "b/bn_1/gamma", "b/bn_1/beta"])

        let padded = ResidualBlock(filters: 8, strides: 2, shortcut: .padding)
        XCTAssertEqual(try build(padded, [7, 6, 4]), [4, 3, 8])
        XCTAssertEqual(padded.parameterCount, 3 * 3 * 4 * 8 + 3 * 3 * 8 * 8 + 2 * 4 * 8)

        let projected = ResidualBlock(filters: 8, strides: 2)
        XCTAssertEqual(try build(projected, [7, 6, 4]), [4, 3, 8])
        XCTAssertEqual(projected.parameterCount, 3 * 3 * 4 * 8 + 3 * 3 * 8 * 8 + 4 * 8 + 3 * 4 * 8)
    }

    func testPaddedShortcutSubsamplesAndCentresTheChannels() {
        // x[0, i, j, c] = 100·i + 10·j + c on a 3×3×2 image; stride 2, 4 channels out.
        let values: [Float] = (0..<18).map { (k: Int) -> Float in
            let i = k / 6, j = k / 2 % 3, c = k % 2
            return Float(100 * i + 10 * j + c)
        }
        let x = Tensor(values, shape: [1, 3, 3, 2])
        let y = Variable(x).paddedShortcut(stride: 2, channels: 4).value
        XCTAssertEqual(y.shape, [1, 2, 2, 4])
        XCTAssertEqual(y.scalars, [0, 0, 1, 0, 0, 20, 21, 0, 0, 200, 201, 0, 0, 220, 221, 0])
    }

    func testResidualBlockGradients() throws {
        for (block, shape) in [(ResidualBlock(filters: 3), [2, 4, 4, 3]), (ResidualBlock(filters: 4, strides: 2, shortcut: .padding), [2, 5, 5, 2]),
                               (ResidualBlock(filters: 4, strides: 2), [2, 4, 4, 3])] {
            _ = try build(block, Array(shape.dropFirst()), seed: 3)
            for bn in block.allLayers.compactMap({ $0 as? BatchNormalization }) {
                bn.gamma.value.copy(from: GradCheck.random(bn.gamma.shape, low: 0.5, high: 1.5, seed: 2))
                bn.beta.value.copy(from: GradCheck.random(bn.beta.shape, low: 0.2, high: 0.6, seed: 3))
            }
            // Double precision would be needed to check through the kinks of both ReLUs at
            // eps 1e-2; 1e-3 keeps the sampled elements away from them.
            checkGradients(block, input: GradCheck.random(shape, low: -2, high: 2, seed: 7), eps: 1e-3, tolerance: 3e-2)
        }
    }
}
