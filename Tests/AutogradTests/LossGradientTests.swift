import Autograd
import TensorCore
import TestSupport
import XCTest

final class LossGradientTests: XCTestCase {
    let labels = Tensor([0, 3, 4, 1], shape: [4])
    let oneHot = Tensor([1, 0, 0, 0, 0,
                         0, 0, 0, 1, 0,
                         0, 0, 0, 0, 1,
                         0, 1, 0, 0, 0], shape: [4, 5])
    let smoothed = Tensor([0.6, 0.1, 0.1, 0.1, 0.1,
                           0.1, 0.1, 0.1, 0.6, 0.1,
                           0.2, 0.2, 0.2, 0.2, 0.2,
                           0.0, 0.9, 0.1, 0.0, 0.0], shape: [4, 5])
    let weights = Tensor([0.5, 2, 0, 1], shape: [4])

    func testSparseCategoricalCrossentropyGradients() {
        let logits = GradCheck.random([4, 5], low: -3, high: 3, seed: 1)
        let probabilities = GradCheck.random([4, 5], low: 0.1, high: 1, seed: 2)  // renormalised by the loss
        for w in [nil, weights] {
            GradCheck.check([logits], eps: 1e-3) { v in v[0].sparseCategoricalCrossentropy(labels: labels, fromLogits: true, sampleWeights: w) }
            GradCheck.check([probabilities], eps: 1e-3) { v in v[0].sparseCategoricalCrossentropy(labels: labels, fromLogits: false, sampleWeights: w) }
        }
    }

    func testCategoricalCrossentropyGradients() {
        let logits = GradCheck.random([4, 5], low: -3, high: 3, seed: 3)
        let probabilities = GradCheck.random([4, 5], low: 0.1, high: 1, seed: 4)
        for targets in [oneHot, smoothed] {
            for w in [nil, weights] {
                GradCheck.check([logits], eps: 1e-3) { v in v[0].categoricalCrossentropy(targets: targets, fromLogits: true, sampleWeights: w) }
                GradCheck.check([probabilities], eps: 1e-3) { v in v[0].categoricalCrossentropy(targets: targets, fromLogits: false, sampleWeights: w) }
            }
        }
    }

    func testBinaryCrossentropyAndMeanSquaredErrorGradients() {
        let logits = GradCheck.random([4, 3], low: -4, high: 4, seed: 5)
        let probabilities = GradCheck.random([4, 3], low: 0.05, high: 0.95, seed: 6)
        let targets = GradCheck.random([4, 3], low: 0, high: 1, seed: 7)
        for w in [nil, weights] {
            GradCheck.check([logits], eps: 1e-3) { v in v[0].binaryCrossentropy(targets: targets, fromLogits: true, sampleWeights: w) }
            GradCheck.check([probabilities], eps: 1e-3) { v in v[0].binaryCrossentropy(targets: targets, fromLogits: false, sampleWeights: w) }
            GradCheck.check([logits], eps: 1e-3) { v in v[0].meanSquaredError(targets: targets, sampleWeights: w) }
        }
    }

    func testSequenceLabelsWithPerSampleWeights() {
        // [batch 2, time 3, classes 4] with one weight per sample, covering its 3 time steps.
        let logits = GradCheck.random([2, 3, 4], low: -2, high: 2, seed: 8)
        let seqLabels = Tensor([0, 1, 2, 3, 3, 0], shape: [2, 3])
        GradCheck.check([logits], eps: 1e-3) { v in
            v[0].sparseCategoricalCrossentropy(labels: seqLabels, fromLogits: true, sampleWeights: Tensor([1, 3], shape: [2]))
        }
    }

    func testExtremeLogitsStayFiniteAndExact() {
        let logits = Tensor([50, -50, 49, 0,
                             -50, 50, -50, -50,
                             0, 0, -50, 50], shape: [3, 4])
        let sparse = Tensor([0, 2, 3], shape: [3])
        let x = Variable(logits.copy(), requiresGrad: true)
        let loss = x.sparseCategoricalCrossentropy(labels: sparse, fromLogits: true)
        loss.backward()
        // Row 0: log(1 + e^-1) (logits 50 and 49 dominate); row 1: 100; row 2: ≈ 0.
        let expected = (log(1 + exp(-1.0)) + 100 + 0) / 3
        XCTAssertEqual(Double(loss.value.scalar), expected, accuracy: 1e-4)
        XCTAssertTrue(x.grad!.scalars.allSatisfy { $0.isFinite })
        XCTAssertEqual(x.grad![1, 1], 1.0 / 3, accuracy: 1e-6)
        XCTAssertEqual(x.grad![1, 2], -1.0 / 3, accuracy: 1e-6)

        let b = Variable(Tensor([50, -50, 50, -50], shape: [4]), requiresGrad: true)
        let bce = b.binaryCrossentropy(targets: Tensor([1, 0, 0, 1], shape: [4]), fromLogits: true)
        bce.backward()
        XCTAssertEqual(bce.value.scalar, 25, accuracy: 1e-4)  // (0 + 0 + 50 + 50) / 4
        for (g, e) in zip(b.grad!.scalars, [Float(0), 0, 0.25, -0.25]) { XCTAssertEqual(g, e, accuracy: 1e-7) }

        let p = Variable(Tensor([0, 1, 1, 0], shape: [4]), requiresGrad: true)
        let clipped = p.binaryCrossentropy(targets: Tensor([1, 0, 1, 0], shape: [4]), fromLogits: false)
        clipped.backward()
        XCTAssertTrue(clipped.value.scalar.isFinite)
        XCTAssertTrue(p.grad!.scalars.allSatisfy { $0.isFinite })

        for fromLogits in [true, false] {
            let t = fromLogits ? logits : Tensor([1, 0, 0, 0, 0, 1, 0, 0, 0.5, 0.5, 0, 0], shape: [3, 4])
            let v = Variable(t.copy(), requiresGrad: true)
            let l = v.categoricalCrossentropy(targets: Tensor([0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1], shape: [3, 4]), fromLogits: fromLogits)
            l.backward()
            XCTAssertTrue(l.value.scalar.isFinite && v.grad!.scalars.allSatisfy { $0.isFinite })
        }
    }

    func testExtremeLogitGradientsMatchFiniteDifferences() {
        let logits = Tensor([50, -50, 49, 0, -50, 50, -50, -48], shape: [2, 4])
        GradCheck.check([logits], eps: 0.1) { v in v[0].sparseCategoricalCrossentropy(labels: Tensor([2, 3], shape: [2]), fromLogits: true) }
        GradCheck.check([logits], eps: 0.1) { v in v[0].categoricalCrossentropy(targets: Tensor([0.6, 0.1, 0.1, 0.2, 0, 0, 0.5, 0.5], shape: [2, 4]), fromLogits: true) }
        GradCheck.check([logits], eps: 0.1) { v in v[0].binaryCrossentropy(targets: GradCheck.random([2, 4], low: 0, high: 1), fromLogits: true) }
    }

    func testGradientAccumulatesIntoExistingGradient() {
        let x = Variable(GradCheck.random([4, 5], seed: 9), requiresGrad: true)
        x.sparseCategoricalCrossentropy(labels: labels, fromLogits: true).backward()
        let once = x.grad!.copy()
        x.sparseCategoricalCrossentropy(labels: labels, fromLogits: true).backward()
        for i in 0..<once.count { XCTAssertEqual(x.grad!.data[i], 2 * once.data[i], accuracy: 1e-7) }
    }
}
