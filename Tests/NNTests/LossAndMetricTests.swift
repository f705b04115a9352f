import Autograd
import NN
import TensorCore
import XCTest

/// Loss values against Keras' documented examples and hand-computed numbers; metrics counts.
final class LossAndMetricTests: XCTestCase {
    private func value(_ loss: Loss, _ predictions: [Float], _ shape: [Int], _ targets: Tensor, weights: [Float]? = nil) -> Double {
        let w = weights.map { Tensor($0, shape: [$0.count]) }
        return Double(loss(Variable(Tensor(predictions, shape: shape)), targets, sampleWeights: w).value.scalar)
    }

    func testCategoricalLossesMatchKerasExamples() {
        // Keras docs: y_true = [1, 2], y_pred = [[0.05, 0.95, 0], [0.1, 0.8, 0.1]] → 1.177; weights [0.3, 0.7] → 0.814.
        let p: [Float] = [0.05, 0.95, 0, 0.1, 0.8, 0.1]
        let sparse = Tensor([1, 2], shape: [2])
        let oneHot = Tensor([0, 1, 0, 0, 0, 1], shape: [2, 3])
        let expected = (-log(0.95) - log(0.1)) / 2
        let weighted = (-0.3 * log(0.95) - 0.7 * log(0.1)) / 2
        XCTAssertEqual(value(.sparseCategoricalCrossentropy(fromLogits: false), p, [2, 3], sparse), expected, accuracy: 1e-6)
        XCTAssertEqual(value(.categoricalCrossentropy(fromLogits: false), p, [2, 3], oneHot), expected, accuracy: 1e-6)
        XCTAssertEqual(value(.sparseCategoricalCrossentropy(fromLogits: false), p, [2, 3], sparse, weights: [0.3, 0.7]), 0.814, accuracy: 1e-3)
        XCTAssertEqual(value(.categoricalCrossentropy(fromLogits: false), p, [2, 3], oneHot, weights: [0.3, 0.7]), weighted, accuracy: 1e-6)
        XCTAssertEqual(expected, 1.177, accuracy: 1e-3)
    }

    func testCrossentropyFromLogitsIsLogSumExpMinusTarget() {
        let logits: [Float] = [1, 2, 3, -1, 0, 4]
        let lse0 = log(exp(1.0) + exp(2.0) + exp(3.0)), lse1 = log(exp(-1.0) + exp(0.0) + exp(4.0))
        let expected = ((lse0 - 2) + (lse1 - 4)) / 2
        XCTAssertEqual(value(.sparseCategoricalCrossentropy(fromLogits: true), logits, [2, 3], Tensor([1, 2], shape: [2])), expected, accuracy: 1e-6)
        // Smoothed targets: −Σ t·log softmax.
        let t: [Float] = [0.1, 0.8, 0.1, 0.5, 0, 0.5]
        let soft = -(0.1 * (1 - lse0) + 0.8 * (2 - lse0) + 0.1 * (3 - lse0) + 0.5 * (-1 - lse1) + 0.5 * (4 - lse1)) / 2
        XCTAssertEqual(value(.categoricalCrossentropy(fromLogits: true), logits, [2, 3], Tensor(t, shape: [2, 3])), soft, accuracy: 1e-6)
    }

    func testProbabilitiesAreRenormalisedAndClippedLikeKeras() {
        // Rows not summing to one are renormalised; a zero probability is clipped to 1e-7.
        let sparse = Tensor([0, 1], shape: [2])
        let expected = (-log(0.25) - log(1e-7)) / 2
        XCTAssertEqual(value(.sparseCategoricalCrossentropy(fromLogits: false), [1, 3, 2, 0], [2, 2], sparse), expected, accuracy: 1e-4)
    }

    func testBinaryLossesMatchKerasExamples() {
        let targets = Tensor([0, 1, 0, 0], shape: [2, 2])
        // BinaryCrossentropy(from_logits=True): 0.865, sample_weight [0.8, 0.2] → 0.243.
        let logits: [Float] = [-18.6, 0.51, 2.94, -12.8]
        func bce(_ x: Double, _ y: Double) -> Double { max(x, 0) - x * y + log(1 + exp(-abs(x))) }
        let s0 = (bce(-18.6, 0) + bce(0.51, 1)) / 2, s1 = (bce(2.94, 0) + bce(-12.8, 0)) / 2
        XCTAssertEqual(value(.binaryCrossentropy(fromLogits: true), logits, [2, 2], targets), (s0 + s1) / 2, accuracy: 1e-6)
        XCTAssertEqual(value(.binaryCrossentropy(fromLogits: true), logits, [2, 2], targets), 0.865, accuracy: 1e-3)
        XCTAssertEqual(value(.binaryCrossentropy(fromLogits: true), logits, [2, 2], targets, weights: [0.8, 0.2]), (0.8 * s0 + 0.2 * s1) / 2, accuracy: 1e-6)
        // BinaryCrossentropy on probabilities: 0.815, sample_weight [1, 0] → 0.458.
        let p: [Float] = [0.6, 0.4, 0.4, 0.6]
        XCTAssertEqual(value(.binaryCrossentropy(fromLogits: false), p, [2, 2], targets), 0.815, accuracy: 1e-3)
        XCTAssertEqual(value(.binaryCrossentropy(fromLogits: false), p, [2, 2], targets, weights: [1, 0]), -log(0.4) / 2, accuracy: 1e-6)
    }

    func testMeanSquaredErrorMatchesKerasExample() {
        let targets = Tensor([0, 1, 0, 0], shape: [2, 2])
        XCTAssertEqual(value(.meanSquaredError, [1, 1, 1, 0], [2, 2], targets), 0.5, accuracy: 1e-7)
        XCTAssertEqual(value(.meanSquaredError, [1, 1, 1, 0], [2, 2], targets, weights: [0.7, 0.3]), 0.25, accuracy: 1e-7)
        // A trailing axis of 1 may be missing on the targets.
        XCTAssertEqual(value(.meanSquaredError, [1, 2, 3], [3, 1], Tensor([1, 1, 1], shape: [3])), 5.0 / 3, accuracy: 1e-6)
    }

    func testLossNamesAndAccuracyMetrics() {
        XCTAssertEqual(Loss(name: "sparse_categorical_crossentropy", fromLogits: true), .sparseCategoricalCrossentropy(fromLogits: true))
        XCTAssertEqual(Loss(name: "mse"), .meanSquaredError)
        XCTAssertNil(Loss(name: "hinge"))
        for name in Loss.names { XCTAssertNotNil(Loss(name: name)) }
        XCTAssertEqual(Loss.binaryCrossentropy(fromLogits: true).accuracyMetric, .binaryAccuracy(threshold: 0))
        XCTAssertEqual(Loss.categoricalCrossentropy(fromLogits: false).accuracyMetric, .categoricalAccuracy)
        XCTAssertNil(Loss.meanSquaredError.accuracyMetric)
        XCTAssertEqual(Metric(name: "sparse_categorical_accuracy"), .sparseCategoricalAccuracy)
    }

    func testAccuracyCounts() {
        // Keras docs: sparse_categorical_accuracy([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]]) = 0.5.
        let p = Tensor([0.1, 0.6, 0.3, 0.05, 0.95, 0], shape: [2, 3])
        let sparse = Metric.sparseCategoricalAccuracy.count(p, Tensor([2, 1], shape: [2, 1]))
        XCTAssertEqual(sparse, MetricCount(correct: 1, total: 2))
        XCTAssertEqual(sparse.value, 0.5)
        let oneHot = Metric.categoricalAccuracy.count(p, Tensor([0, 0, 1, 0, 1, 0], shape: [2, 3]))
        XCTAssertEqual(oneHot, MetricCount(correct: 1, total: 2))
        // Ties pick the first maximum, as argmax does.
        XCTAssertEqual(Metrics.sparseCategoricalAccuracy(Tensor([1, 1], shape: [1, 2]), labels: Tensor([0], shape: [1])).correct, 1)
        // Sums across batches (and ranks).
        var total = MetricCount()
        total += sparse
        total += oneHot
        XCTAssertEqual(total, MetricCount(correct: 2, total: 4))
        XCTAssertEqual(MetricCount().value, 0)
    }

    func testBinaryAccuracyForProbabilitiesAndLogits() {
        // Keras docs: binary_accuracy([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]]) = 0.75.
        let targets = Tensor([1, 1, 0, 0], shape: [4, 1])
        XCTAssertEqual(Metric.binaryAccuracy(threshold: 0.5).count(Tensor([0.98, 1, 0, 0.6], shape: [4, 1]), targets),
                       MetricCount(correct: 3, total: 4))
        XCTAssertEqual(Metrics.binaryAccuracy(Tensor([2.5, -0.1, -3, 0.4], shape: [4]), targets: targets, threshold: 0),
                       MetricCount(correct: 2, total: 4))
    }
}
