import Autograd
import NN
import TensorCore
import TestSupport
import XCTest

final class RecurrentAndGraphTests: XCTestCase {
    // MARK: LSTM

    let (batch, steps, features, units) = (2, 3, 4, 3)

    func lstmInputs(seed: UInt64 = 1) -> (x: Tensor, w: Tensor, u: Tensor, b: Tensor) {
        (GradCheck.random([batch, steps, features], seed: seed), GradCheck.random([features, 4 * units], seed: seed + 1),
         GradCheck.random([units, 4 * units], seed: seed + 2), GradCheck.random([4 * units], seed: seed + 3))
    }

    /// A direct Double implementation of Keras' LSTM cell, step by step: every hidden state
    /// [b][t][j] and the final cell state [b][j].
    func referenceLSTM(x: Tensor, w: Tensor, u: Tensor, b: Tensor?, h0: Tensor?, c0: Tensor?) -> ([[[Double]]], [[Double]]) {
        let (batch, steps, features) = (x.shape[0], x.shape[1], x.shape[2]), n = u.shape[0]
        func sigmoid(_ v: Double) -> Double { 1 / (1 + exp(-v)) }
        var hs = [[[Double]]](repeating: [], count: batch), cs = [[Double]](repeating: [], count: batch)
        for bi in 0..<batch {
            var h = (0..<n).map { j in h0.map { Double($0[bi, j]) } ?? 0 }
            var c = (0..<n).map { j in c0.map { Double($0[bi, j]) } ?? 0 }
            for t in 0..<steps {
                var z = (0..<(4 * n)).map { k in Double(b?[k] ?? 0) }
                for k in 0..<(4 * n) {
                    for f in 0..<features { z[k] += Double(x[bi, t, f]) * Double(w[f, k]) }
                    for j in 0..<n { z[k] += h[j] * Double(u[j, k]) }
                }
                for j in 0..<n {
                    let i = sigmoid(z[j]), f = sigmoid(z[n + j]), g = tanh(z[2 * n + j]), o = sigmoid(z[3 * n + j])
                    c[j] = f * c[j] + i * g
                    h[j] = o * tanh(c[j])
                }
                hs[bi].append(h)
            }
            cs[bi] = c
        }
        return (hs, cs)
    }

    func testLSTMForwardMatchesReference() {
        let (x, w, u, b) = lstmInputs()
        let h0 = GradCheck.random([batch, units], seed: 20), c0 = GradCheck.random([batch, units], seed: 21)
        for initial in [false, true] {
            let state = initial ? (hidden: Variable(h0), cell: Variable(c0)) : nil
            let run = Variable(x).lstm(kernel: Variable(w), recurrentKernel: Variable(u), bias: Variable(b),
                                       initialState: state, returnSequences: true)
            let (hs, cs) = referenceLSTM(x: x, w: w, u: u, b: b, h0: initial ? h0 : nil, c0: initial ? c0 : nil)
            XCTAssertEqual(run.output.shape, [batch, steps, units])
            for bi in 0..<batch {
                for j in 0..<units {
                    for t in 0..<steps { XCTAssertEqual(Double(run.output.value[bi, t, j]), hs[bi][t][j], accuracy: 1e-5) }
                    XCTAssertEqual(Double(run.finalHidden[bi, j]), hs[bi][steps - 1][j], accuracy: 1e-5)
                    XCTAssertEqual(Double(run.finalCell[bi, j]), cs[bi][j], accuracy: 1e-5)
                }
            }
        }
        let last = Variable(x).lstm(kernel: Variable(w), recurrentKernel: Variable(u), bias: nil, returnSequences: false)
        let (hs, _) = referenceLSTM(x: x, w: w, u: u, b: nil, h0: nil, c0: nil)
        XCTAssertEqual(last.output.shape, [batch, units])
        XCTAssertEqual(Double(last.output.value[1, 2]), hs[1][steps - 1][2], accuracy: 1e-5)
    }

    func testLSTMGradientsReturningSequences() {
        let (x, w, u, b) = lstmInputs()
        GradCheck.check([x, w, u, b], eps: 1e-3) { v in
            v[0].lstm(kernel: v[1], recurrentKernel: v[2], bias: v[3], returnSequences: true).output
        }
    }

    func testLSTMGradientsLastStateWithInitialState() {
        let (x, w, u, _) = lstmInputs(seed: 5)
        let h0 = GradCheck.random([batch, units], seed: 30), c0 = GradCheck.random([batch, units], seed: 31)
        GradCheck.check([x, w, u, h0, c0], eps: 1e-3) { v in
            v[0].lstm(kernel: v[1], recurrentKernel: v[2], bias: nil, initialState: (v[3], v[4]), returnSequences: false).output
        }
        // A single time step, and the output used twice (gradients accumulate).
        let x1 = GradCheck.random([3, 1, features], seed: 40)
        GradCheck.check([x1, w, u], eps: 1e-3) { v in
            let y = v[0].lstm(kernel: v[1], recurrentKernel: v[2], bias: nil, returnSequences: false).output
            return y * y + y
        }
    }

    func testLSTMLayerUsesKerasInitialisersAndShapes() throws {
        let lstm = LSTM(units), seq = LSTM(units, returnSequences: true)
        var rng = RandomGenerator(seed: 3)
        XCTAssertEqual(try lstm.build(inputShape: [steps, features], rng: &rng), [units])
        XCTAssertEqual(try seq.build(inputShape: [steps, features], rng: &rng), [steps, units])
        XCTAssertEqual(lstm.parameterCount, 4 * units * (features + units + 1))
        XCTAssertEqual(lstm.parameters.map(\.shape), [[features, 4 * units], [units, 4 * units], [4 * units]])
        XCTAssertEqual(lstm.bias!.value.scalars, [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])
        assertOrthonormalRows(lstm.recurrentKernel.value)
        XCTAssertThrowsError(try LSTM(4).build(inputShape: [features], rng: &rng))
        XCTAssertEqual(lstm(Variable(lstmInputs().x)).shape, [batch, units])
        XCTAssertEqual(seq(Variable(lstmInputs().x)).shape, [batch, steps, units])
    }

    /// Time steps `range` of a [batch, time, features] tensor.
    func timeSlice(_ x: Tensor, _ range: Range<Int>) -> Tensor {
        let c = Tensor(uninitialized: [batch, range.count, features])
        for b in 0..<batch { for (k, t) in range.enumerated() { for f in 0..<features { c[b, k, f] = x[b, t, f] } } }
        return c
    }

    func testChunkedSequenceWithCarriedStateMatchesWholeSequence() throws {
        let lstm = LSTM(units, returnSequences: true)
        var rng = RandomGenerator(seed: 9)
        _ = try lstm.build(inputShape: [6, features], rng: &rng)
        let x = GradCheck.random([batch, 6, features], seed: 11)
        func chunk(_ range: Range<Int>) -> Tensor { timeSlice(x, range) }
        let whole = lstm.forward(Variable(x), initialState: nil)
        let first = lstm.forward(Variable(chunk(0..<4)), initialState: nil)
        let second = lstm.forward(Variable(chunk(4..<6)),
                                  initialState: (Variable(first.finalHidden), Variable(first.finalCell)))
        for b in 0..<batch {
            for j in 0..<units {
                XCTAssertEqual(second.output.value[b, 1, j], whole.output.value[b, 5, j], accuracy: 1e-6)
                XCTAssertEqual(second.finalCell[b, j], whole.finalCell[b, j], accuracy: 1e-6)
            }
        }
    }

    /// A stateful layer carries the state between calls (the chunked run above, implicitly),
    /// starts from zeros after resetStates(), and rejects a batch of another size.
    func testStatefulLSTMCarriesStateBetweenCalls() throws {
        let plain = LSTM(units, returnSequences: true), stateful = LSTM(units, returnSequences: true, stateful: true)
        var rng1 = RandomGenerator(seed: 9), rng2 = RandomGenerator(seed: 9)
        _ = try plain.build(inputShape: [6, features], rng: &rng1)
        _ = try stateful.build(inputShape: [6, features], rng: &rng2)
        let x = GradCheck.random([batch, 6, features], seed: 11)
        func chunk(_ range: Range<Int>) -> Tensor { timeSlice(x, range) }
        let whole = plain(Variable(x)).value
        _ = stateful(Variable(chunk(0..<4)))
        let second = stateful(Variable(chunk(4..<6))).value
        for b in 0..<batch { for j in 0..<units { XCTAssertEqual(second[b, 1, j], whole[b, 5, j], accuracy: 1e-6) } }
        XCTAssertEqual(stateful.states?.hidden.shape, [batch, units])
        stateful.resetStates()
        XCTAssertNil(stateful.states)
        let fresh = stateful(Variable(chunk(0..<4))).value
        XCTAssertEqual(fresh.scalars, plain(Variable(chunk(0..<4))).value.scalars)
    }

    func assertOrthonormalRows(_ t: Tensor, file: StaticString = #filePath, line: UInt = #line) {
        let rows = t.shape[0], cols = t.shape[1]
        for i in 0..<rows {
            for j in 0..<rows {
                var dot = 0.0
                for k in 0..<cols { dot += Double(t[i, k]) * Double(t[j, k]) }
                XCTAssertEqual(dot, i == j ? 1 : 0, accuracy: 1e-5, "rows \(i), \(j)", file: file, line: line)
            }
        }
    }

    func testOrthogonalInitialiser() {
        var rng = RandomGenerator(seed: 1)
        let wide = Tensor(uninitialized: [4, 10]), tall = Tensor(uninitialized: [10, 4])
        Initializer.fillOrthogonal(wide, rng: &rng)
        Initializer.fillOrthogonal(tall, gain: 2, rng: &rng)
        assertOrthonormalRows(wide)
        let transposed = Tensor(uninitialized: [4, 10])
        for i in 0..<10 { for j in 0..<4 { transposed[j, i] = tall[i, j] / 2 } }
        assertOrthonormalRows(transposed)
        var again = RandomGenerator(seed: 1)
        let same = Tensor(uninitialized: [4, 10])
        Initializer.fillOrthogonal(same, rng: &again)
        XCTAssertEqual(same.scalars, wide.scalars)
    }

    // MARK: GraphConv

    func testNormalizedAdjacency() throws {
        // Path 0 – 1 – 2, with a repeated edge and an explicit self-loop that merge.
        let a = try GraphConv.normalizedAdjacency(nodeCount: 3, edges: [(0, 1), (1, 2), (1, 0), (2, 2)])
        let s6 = 1 / 6.0.squareRoot()
        let expected: [Double] = [0.5, s6, 0, s6, 1.0 / 3, s6, 0, s6, 0.5]
        for (v, e) in zip(a.scalars, expected) { XCTAssertEqual(Double(v), e, accuracy: 1e-6) }
        let directed = try GraphConv.normalizedAdjacency(nodeCount: 2, edges: [(0, 1)], directed: true)
        XCTAssertEqual(directed[1, 0], 0)
        XCTAssertEqual(Double(directed[0, 1]), 1 / 2.0.squareRoot(), accuracy: 1e-6)
        XCTAssertThrowsError(try GraphConv.normalizedAdjacency(nodeCount: 3, edges: [(0, 3)])) { error in
            XCTAssertTrue("\(error)".contains("(0, 3)"), "\(error)")
        }
    }

    func testPropagateGradient() {
        let a = GradCheck.random([4, 4], seed: 50)  // not symmetric: the backward must use Âᵀ
        GradCheck.check([GradCheck.random([4, 3], seed: 51)]) { v in v[0].propagate(adjacency: a) }
        GradCheck.check([GradCheck.random([2, 4, 3], seed: 52)]) { v in v[0].propagate(adjacency: a) }
    }

    /// activation(Â · X · W + b) computed directly, for one sample [nodes, features].
    func referenceGraphConv(_ a: Tensor, _ x: Tensor, sample: Int, _ layer: GraphConv) -> [Double] {
        let n = a.shape[0], f = x.shape.last!, units = layer.units
        var out = [Double](repeating: 0, count: n * units)
        for i in 0..<n {
            for u in 0..<units {
                var s = Double(layer.bias?.value[u] ?? 0)
                for j in 0..<n {
                    for k in 0..<f { s += Double(a[i, j]) * Double(x.data[(sample * n + j) * f + k]) * Double(layer.kernel.value[k, u]) }
                }
                out[i * units + u] = tanh(s)
            }
        }
        return out
    }

    func testGraphConvInBothProductOrdersMatchesReference() throws {
        let a = try GraphConv.normalizedAdjacency(nodeCount: 5, edges: [(0, 1), (1, 2), (2, 3), (3, 4), (4, 0), (0, 2)])
        for (features, units) in [(3, 4), (6, 2)] {  // (Â·X)·W, then Â·(X·W)
            let layer = GraphConv(units, activation: .tanh, adjacency: a)
            var rng = RandomGenerator(seed: 4)
            XCTAssertEqual(try layer.build(inputShape: [5, features], rng: &rng), [5, units])
            layer.bias!.value.fill(0.1)
            let single = GradCheck.random([5, features], seed: 60)
            let batched = GradCheck.random([2, 5, features], seed: 61)
            let y1 = layer(Variable(single)), y2 = layer(Variable(batched))
            XCTAssertEqual(y2.shape, [2, 5, units])
            for (v, e) in zip(y1.value.scalars, referenceGraphConv(a, single, sample: 0, layer)) { XCTAssertEqual(Double(v), e, accuracy: 1e-5) }
            for s in 0..<2 {
                let got = Array(y2.value.scalars[(s * 5 * units)..<((s + 1) * 5 * units)])
                for (v, e) in zip(got, referenceGraphConv(a, batched, sample: s, layer)) { XCTAssertEqual(Double(v), e, accuracy: 1e-5) }
            }
            GradCheck.check([batched], eps: 1e-3) { v in layer(v[0]) }
        }
    }

    func testGraphConvParameterGradientsInBothOrders() {
        let a = GradCheck.random([4, 4], seed: 70)
        let x = GradCheck.random([2, 4, 3], seed: 71), b = GradCheck.random([5], seed: 72)
        GradCheck.check([x, GradCheck.random([3, 5], seed: 73), b], eps: 1e-3) { v in
            v[0].propagate(adjacency: a).dense(weight: v[1], bias: v[2], activation: .tanh)
        }
        GradCheck.check([x, GradCheck.random([3, 2], seed: 74), GradCheck.random([2], seed: 75)], eps: 1e-3) { v in
            (v[0].dense(weight: v[1], bias: nil).propagate(adjacency: a) + v[2]).tanh()
        }
    }

    func testGraphConvRejectsMismatchedAdjacency() {
        var rng = RandomGenerator(seed: 1)
        let layer = GraphConv(4, adjacency: Tensor(zeros: [3, 3]))
        XCTAssertThrowsError(try layer.build(inputShape: [5, 2], rng: &rng)) { error in
            XCTAssertTrue("\(error)".contains("adjacency [3, 3] should be [5, 5]"), "\(error)")
        }
    }
}
