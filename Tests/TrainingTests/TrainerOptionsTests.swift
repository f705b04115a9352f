import Autograd
import Comm
import NN
import Optim
import TensorCore
import Training
import XCTest

final class TrainerOptionsTests: XCTestCase {
    func testLearningRateScalingIsOffByDefault() {
        XCTAssertEqual(ParallelOptions().learningRateFactor(step: 0, worldSize: 4), 1)
    }

    func testLinearScalingWithGradualWarmup() {
        var o = ParallelOptions()
        o.scaleLearningRate = true
        XCTAssertEqual(o.learningRateFactor(step: 0, worldSize: 4), 4)
        o.warmupSteps = 10
        XCTAssertEqual(o.learningRateFactor(step: 0, worldSize: 4), 1)
        XCTAssertEqual(o.learningRateFactor(step: 5, worldSize: 4), 2.5)
        XCTAssertEqual(o.learningRateFactor(step: 10, worldSize: 4), 4)
        XCTAssertEqual(o.learningRateFactor(step: 99, worldSize: 4), 4)
        XCTAssertEqual(o.learningRateFactor(step: 3, worldSize: 1), 1)
    }

    func testTrainerAppliesTheScaledLearningRate() throws {
        let group = InProcessGroup(size: 2)
        let rates = Collected<Float>(count: 2)
        try group.run { rank, comm in
            let model = Sequential([Dense(2)])
            try model.build(inputShape: [3], seed: 1)
            var o = ParallelOptions()
            o.scaleLearningRate = true
            let trainer = DataParallelTrainer(model: model, loss: .meanSquaredError, metric: nil, comm: comm, options: o) {
                SGD($0, learningRate: 0.1)
            }
            let r = trainer.step([(Tensor(repeating: 1, shape: [1, 3]), Tensor(repeating: 0, shape: [1, 2]))])
            rates.set(rank, r.learningRate)
        }
        XCTAssertEqual(rates.get(0), 0.2, accuracy: 1e-7)
        XCTAssertEqual(rates.get(1), 0.2, accuracy: 1e-7)
    }

    /// Rank 0 evaluates 1 sample, rank 1 evaluates 3: averages must weight by sample count.
    func testEvaluationMetricsAreWeightedBySampleCounts() throws {
        let group = InProcessGroup(size: 2)
        let results = Collected<(Double, MetricCount?, Int)>(count: 2)
        try group.run { rank, comm in
            let model = Sequential([Dense(2, useBias: false)])
            try model.build(inputShape: [2], seed: 1)
            let trainer = DataParallelTrainer(model: model, loss: .sparseCategoricalCrossentropy(fromLogits: true),
                                              metric: .sparseCategoricalAccuracy, comm: comm) { SGD($0) }
            // Zero kernel: logits 0, loss ln 2 for every sample; accuracy decided by argmax ties → class 0.
            trainer.parameters.valueBuffer.update(repeating: 0)
            let n = rank == 0 ? 1 : 3
            let labels = Tensor((0..<n).map { i in rank == 0 ? 0 : Float(i == 0 ? 0 : 1) }, shape: [n])
            let r = trainer.evaluate([(Tensor(repeating: 1, shape: [n, 2]), labels)])
            results.set(rank, r)
        }
        for rank in 0..<2 {
            let (loss, metric, samples) = results.get(rank)
            XCTAssertEqual(samples, 4)
            XCTAssertEqual(loss, log(2.0), accuracy: 1e-6)
            XCTAssertEqual(metric, MetricCount(correct: 2, total: 4))
        }
    }
}
