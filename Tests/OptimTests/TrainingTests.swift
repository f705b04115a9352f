import Autograd
import NN
import Optim
import TensorCore
import XCTest

/// Small end-to-end runs: a model, a loss, backward into the flat gradient arena, an optimizer.
final class TrainingTests: XCTestCase {
    /// Points in [−1, 1]² away from the axes, labelled by whether x·y > 0 (XOR: not linearly
    /// separable, so the hidden layer must do the work).
    func xorProblem(count: Int, seed: UInt64) -> (x: Tensor, y: Tensor) {
        var rng = RandomGenerator(seed: seed, stream: [1])
        let x = Tensor(uninitialized: [count, 2]), y = Tensor(uninitialized: [count])
        for i in 0..<count {
            for j in 0..<2 {
                let v = rng.nextUniform() * 0.9 + 0.1
                x.data[2 * i + j] = rng.nextUniform() < 0.5 ? -v : v
            }
            y.data[i] = x.data[2 * i] * x.data[2 * i + 1] > 0 ? 1 : 0
        }
        return (x, y)
    }

    func train(seed: UInt64, steps: Int, makeOptimizer: (FlatParameters) -> Optimizer) throws -> (Sequential, FlatParameters, Float) {
        let model = Sequential([Dense(16, activation: .relu), Dense(2)])
        try model.build(inputShape: [2], seed: seed)
        let flat = model.flattenParameters()
        let optimizer = makeOptimizer(flat)
        let (x, y) = xorProblem(count: 256, seed: 3)
        let loss = Loss.sparseCategoricalCrossentropy(fromLogits: true)
        var last: Float = 0
        for _ in 0..<steps {
            flat.zeroGrad()
            let l = loss(model(Variable(x)), y)
            l.backward()
            optimizer.step()
            last = l.value.scalar
        }
        return (model, flat, last)
    }

    func testSameSeedGivesSameBits() throws {
        let run = { (seed: UInt64) in
            let flat = try self.train(seed: seed, steps: 15) { Adam($0, learningRate: 0.01) }.1
            return withExtendedLifetime(flat) { flat.valueBuffer.map(\.bitPattern) }
        }
        let a = try run(7), b = try run(7), c = try run(8)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
    }

    func testMLPWithAdamLearnsXOR() throws {
        let (model, _, finalLoss) = try train(seed: 1, steps: 300) { Adam($0, learningRate: 0.02) }
        let (x, y) = xorProblem(count: 512, seed: 4)  // fresh points from the same distribution
        let logits = withoutGradient { model(Variable(x)) }
        let accuracy = Metric.sparseCategoricalAccuracy.count(logits.value, y)
        XCTAssertGreaterThan(accuracy.value, 0.95, "accuracy \(accuracy), final loss \(finalLoss)")
        XCTAssertLessThan(finalLoss, 0.15)
    }

    func testSGDWithMomentumAndCosineScheduleAlsoLearns() throws {
        let (_, _, finalLoss) = try train(seed: 2, steps: 300) {
            SGD($0, learningRate: .warmup(steps: 20, then: .cosineDecay(initial: 0.2, decaySteps: 280, alpha: 0.05)), momentum: 0.9)
        }
        XCTAssertLessThan(finalLoss, 0.2)
    }
}
