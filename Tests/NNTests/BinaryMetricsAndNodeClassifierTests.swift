import Autograd
import NN
import TensorCore
import TestSupport
import XCTest

/// Confusion counts and ROC AUC of binary classifiers, and the node-sampling wrapper of graph
/// networks.
final class BinaryMetricsAndNodeClassifierTests: XCTestCase {
    // Positives score 0.35, 0.8, 0.4; negatives 0.1, 0.4, 0.8 (one tie with a positive at 0.4 and
    // one at 0.8). Of the 9 positive–negative pairs, the positive scores higher in 4 and ties in 2:
    // AUC = (4 + 2 · ½) / 9 = 5/9.
    let scores: [Float] = [0.1, 0.4, 0.35, 0.8, 0.4, 0.8]
    let labels: [Float] = [0, 0, 1, 1, 1, 0]

    func testROCAUCAgainstAHandComputedExampleWithTies() throws {
        XCTAssertEqual(try XCTUnwrap(rocAUC(scores: scores, labels: labels)), 5.0 / 9, accuracy: 1e-12)
        // Order of the samples does not matter.
        let order = [5, 2, 0, 4, 1, 3]
        XCTAssertEqual(try XCTUnwrap(rocAUC(scores: order.map { scores[$0] }, labels: order.map { labels[$0] })), 5.0 / 9, accuracy: 1e-12)
        XCTAssertEqual(rocAUC(scores: [0.2, 0.9, 0.1, 0.7], labels: [0, 1, 0, 1]), 1)
        XCTAssertEqual(rocAUC(scores: [0.2, 0.9, 0.1, 0.7], labels: [1, 0, 1, 0]), 0)
        XCTAssertEqual(rocAUC(scores: [0.5, 0.5, 0.5], labels: [1, 0, 0]), 0.5)
        XCTAssertNil(rocAUC(scores: [0.5, 0.2], labels: [1, 1]))
    }

    func testConfusionCountsAndRatios() {
        let c = BinaryConfusion(scores: scores, labels: labels, threshold: 0.5)
        XCTAssertEqual(c, BinaryConfusion(truePositives: 1, falsePositives: 1, trueNegatives: 2, falseNegatives: 2))
        XCTAssertEqual(c.accuracy, 0.5)
        XCTAssertEqual(c.precision, 0.5)
        XCTAssertEqual(c.recall, 1.0 / 3)
        XCTAssertEqual(BinaryConfusion(summed: (c.summable + c.summable)[...]).truePositives, 1)
        XCTAssertEqual(BinaryConfusion(summed: c.summable[...]), c)
        // Scores at the threshold predict negative, as Keras' metrics do; nothing predicted positive: precision 0.
        let none = BinaryConfusion(scores: [0.5, 0.5], labels: [1, 0], threshold: 0.5)
        XCTAssertEqual(none.falseNegatives, 1)
        XCTAssertEqual(none.precision, 0)
    }

    func testNodeClassifierReturnsTheNodesRowsAndItsGradientFlowsThroughTheGraph() throws {
        let a = try GraphConv.normalizedAdjacency(nodeCount: 5, edges: [(0, 1), (1, 2), (2, 3), (3, 4)])
        let features = Tensor(zeros: [5, 5])
        for i in 0..<5 { features.data[i * 5 + i] = 1 }
        let network = Sequential([GraphConv(4, activation: .tanh, adjacency: a), GraphConv(2, adjacency: a)])
        try network.build(inputShape: [5, 5], seed: 3)
        let model = NodeClassifier(network: network, features: features)
        var rng = RandomGenerator(seed: 1)
        XCTAssertEqual(try model.build(inputShape: [], rng: &rng), [2])
        let nodes = Tensor([3, 3, 0], shape: [3]), targets = Tensor([1, 1, 0], shape: [3])
        let all = withoutGradient { network(Variable(features)) }.value
        let rows = withoutGradient { model(Variable(nodes)) }.value
        XCTAssertEqual(rows.shape, [3, 2])
        XCTAssertEqual(rows.scalars, [3, 3, 0].flatMap { [all[$0, 0], all[$0, 1]] })
        // Node 3 twice: its rows' gradients add up. Node 0's loss reaches node 1's
        // neighbourhood through the first layer, so every kernel entry gets a gradient.
        let loss = { model(Variable(nodes)).sparseCategoricalCrossentropy(labels: targets, fromLogits: true) }
        loss().backward()
        for p in network.parameters {
            GradCheck.compare(p.value, gradient: p.grad, label: p.name, eps: 1e-2, tolerance: 2e-2, maxElements: 40, seed: 5,
                              file: #filePath, line: #line) { Double(withoutGradient(loss).value.scalar) }
        }
    }
}
