import Autograd
import TensorCore
import TestSupport
import XCTest

final class OpGradientTests: XCTestCase {
    func testBroadcastArithmetic() {
        let a = GradCheck.random([2, 3, 4], seed: 1)
        let b = GradCheck.random([3, 1], low: 0.5, high: 1.5, seed: 2)
        GradCheck.check([a, b]) { v in v[0] + v[1] }
        GradCheck.check([a, b]) { v in v[0] - v[1] }
        GradCheck.check([a, b]) { v in v[0] * v[1] }
        GradCheck.check([a, b]) { v in v[0] / v[1] }
        GradCheck.check([b, a]) { v in v[0] - v[1] }
        GradCheck.check([GradCheck.random([4], seed: 3), a]) { v in v[0] * v[1] }
        GradCheck.check([a]) { v in v[0] * 3 - v[0] }
    }

    func testMatmulAllTransposes() {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = GradCheck.random(ta ? [4, 3] : [3, 4], seed: 4)
            let b = GradCheck.random(tb ? [5, 4] : [4, 5], seed: 5)
            GradCheck.check([a, b]) { v in v[0].matmul(v[1], transposeSelf: ta, transposeOther: tb) }
        }
    }

    func testDenseWithEveryActivation() {
        let x = GradCheck.random([2, 3, 5], seed: 6)
        let w = GradCheck.random([5, 4], seed: 7)
        let b = GradCheck.random([4], seed: 8)
        for kind in [ActivationKind.linear, .relu, .sigmoid, .tanh, .gelu, .leakyRelu(alpha: 0.2)] {
            GradCheck.check([x, w, b], eps: 1e-3) { v in v[0].dense(weight: v[1], bias: v[2], activation: kind) }
        }
        GradCheck.check([x, w]) { v in v[0].dense(weight: v[1], bias: nil) }
    }

    func testActivations() {
        let x = GradCheck.awayFromZero([3, 7], seed: 9)
        for kind in [ActivationKind.relu, .sigmoid, .tanh, .gelu, .leakyRelu(alpha: 0.1)] {
            GradCheck.check([x]) { v in v[0].activation(kind) }
        }
    }

    func testSoftmaxAndLogSoftmax() {
        let x = GradCheck.random([4, 6], low: -3, high: 3, seed: 10)
        GradCheck.check([x], eps: 1e-3) { v in v[0].softmax() }
        GradCheck.check([x], eps: 1e-3) { v in v[0].logSoftmax() }
    }

    func testReductionsAndReshape() {
        let x = GradCheck.random([2, 3, 4], seed: 11)
        GradCheck.check([x]) { v in v[0].sum() }
        GradCheck.check([x]) { v in v[0].mean() }
        for axis in [0, 1, 2, -1] {
            GradCheck.check([x]) { v in v[0].sum(axis: axis) }
            GradCheck.check([x]) { v in v[0].mean(axis: axis, keepDims: true) }
        }
        GradCheck.check([x]) { v in v[0].reshaped([6, 4]).matmul(v[0].reshaped([4, 6])) }
        GradCheck.check([x]) { v in v[0].flattened() * v[0].flattened() }
    }

    func testGradientAccumulatesAcrossBackwardCalls() {
        let w = Variable(Tensor([1, 2, 3], shape: [3]), requiresGrad: true)
        let flat = FlatParameters([w])
        (w * w).sum().backward()
        (w * w).sum().backward()
        XCTAssertEqual(w.grad!.scalars, [4, 8, 12])
        flat.zeroGrad()
        XCTAssertEqual(w.grad!.scalars, [0, 0, 0])
    }

    func testFrozenParametersGetNoGradientButInputsDo() {
        let w = Variable(GradCheck.random([3, 2]), requiresGrad: false)
        let x = Variable(GradCheck.random([4, 3]), requiresGrad: true)
        x.matmul(w).sum().backward()
        XCTAssertNil(w.grad)
        XCTAssertNotNil(x.grad)
    }

    func testNoGradModeRecordsNothing() {
        let w = Variable(GradCheck.random([3, 2]), requiresGrad: true)
        let y = withoutGradient { Variable(GradCheck.random([4, 3])).matmul(w) }
        XCTAssertTrue(y.isLeaf)
        XCTAssertFalse(y.requiresGrad)
    }

    func testLeafReadyHookFiresOncePerParameterAfterItsLastUse() {
        let w1 = Variable(GradCheck.random([3, 3], seed: 1), requiresGrad: true, name: "w1")
        let w2 = Variable(GradCheck.random([3, 3], seed: 2), requiresGrad: true, name: "w2")
        let x = Variable(GradCheck.random([2, 3], seed: 3))
        let h = x.matmul(w1).relu().matmul(w2)
        let loss = (h.matmul(w1)).sum()   // w1 used twice: ready only after its first (earliest) use
        var ready: [String] = []
        loss.backward { ready.append($0.name) }
        XCTAssertEqual(ready, ["w2", "w1"])
    }

    func testParametersLiveInOneFlatArena() {
        let a = Variable(Tensor([1, 2], shape: [2]), requiresGrad: true)
        let b = Variable(Tensor([3, 4, 5, 6], shape: [2, 2]), requiresGrad: true)
        let flat = FlatParameters([b, a])
        XCTAssertEqual(flat.count, 6)
        XCTAssertEqual(Array(flat.valueBuffer), [3, 4, 5, 6, 1, 2])
        XCTAssertTrue(a.value.storage === flat.values && a.grad!.storage === flat.grads)
        flat.valueBuffer[4] = 10
        XCTAssertEqual(a.value.scalars, [10, 2])
    }
}
