import Autograd
import Optim
import TensorCore
import XCTest

/// Each optimizer's steps against the Keras formulas evaluated independently in Double.
final class OptimizerTests: XCTestCase {
    let initial: [Double] = [1, -2, 0.5, 3]
    let gradients: [[Double]] = [[0.1, -0.2, 0.3, 0], [0.4, 0.1, -0.5, 1], [-0.3, 0.2, 0.1, -2]]

    /// One parameter per value of `initial`, so parameters can be frozen individually.
    func makeParameters() -> FlatParameters {
        FlatParameters(initial.map { Variable(Tensor([Float($0)], shape: [1]), requiresGrad: true) })
    }

    func run(_ optimizer: Optimizer, steps: Int) -> [Float] {
        for s in 0..<steps {
            for (i, g) in gradients[s].enumerated() { optimizer.parameters.gradBuffer[i] = Float(g) }
            optimizer.step()
        }
        return Array(optimizer.parameters.valueBuffer)
    }

    func assertClose(_ a: [Float], _ b: [Double], tolerance: Double = 2e-6, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, file: file, line: line)
        for (x, y) in zip(a, b) {
            XCTAssertEqual(Double(x), y, accuracy: tolerance * max(1, abs(y)), "\(a) vs \(b)", file: file, line: line)
        }
    }

    func sgdReference(lr: Double, momentum: Double, nesterov: Bool, weightDecay: Double, steps: Int) -> [Double] {
        var p = initial, m = [Double](repeating: 0, count: p.count)
        for s in 0..<steps {
            for i in p.indices {
                let g = gradients[s][i]
                p[i] -= p[i] * weightDecay * lr
                if momentum == 0 {
                    p[i] -= lr * g
                } else {
                    m[i] = momentum * m[i] - lr * g
                    p[i] += nesterov ? momentum * m[i] - lr * g : m[i]
                }
            }
        }
        return p
    }

    func adamReference(lr: Double, b1: Double = 0.9, b2: Double = 0.999, eps: Double = 1e-7, weightDecay: Double, steps: Int) -> [Double] {
        var p = initial, m = [Double](repeating: 0, count: p.count), v = m
        for s in 0..<steps {
            let t = Double(s + 1)
            let lrT = lr * (1 - pow(b2, t)).squareRoot() / (1 - pow(b1, t))
            for i in p.indices {
                let g = gradients[s][i]
                p[i] -= p[i] * weightDecay * lr
                m[i] = b1 * m[i] + (1 - b1) * g
                v[i] = b2 * v[i] + (1 - b2) * g * g
                p[i] -= lrT * m[i] / (v[i].squareRoot() + eps)
            }
        }
        return p
    }

    func testSGDWithoutMomentum() {
        assertClose(run(SGD(makeParameters(), learningRate: 0.1), steps: 3),
                    sgdReference(lr: 0.1, momentum: 0, nesterov: false, weightDecay: 0, steps: 3))
        XCTAssertTrue(SGD(makeParameters()).stateBuffers.isEmpty)
        XCTAssertEqual(SGD(makeParameters()).currentLearningRate, 0.01)
    }

    func testSGDMomentumAndNesterov() {
        for nesterov in [false, true] {
            let opt = SGD(makeParameters(), learningRate: 0.1, momentum: 0.9, nesterov: nesterov)
            assertClose(run(opt, steps: 3), sgdReference(lr: 0.1, momentum: 0.9, nesterov: nesterov, weightDecay: 0, steps: 3))
            XCTAssertEqual(opt.stateBuffers.map(\.name), ["momentum"])
            XCTAssertEqual(opt.stepCount, 3)
        }
    }

    func testSGDDecoupledWeightDecay() {
        let opt = SGD(makeParameters(), learningRate: 0.1, momentum: 0.5, weightDecay: 0.2)
        assertClose(run(opt, steps: 3), sgdReference(lr: 0.1, momentum: 0.5, nesterov: false, weightDecay: 0.2, steps: 3))
    }

    func testAdamMatchesKerasUpdate() {
        let opt = Adam(makeParameters(), learningRate: 0.01)
        assertClose(run(opt, steps: 3), adamReference(lr: 0.01, weightDecay: 0, steps: 3))
        XCTAssertEqual(opt.stateBuffers.map(\.name), ["m", "v"])
        // m after three steps: Σ (1 − β₁) β₁^(3−s) g_s.
        let m0 = 0.1 * 0.1 * 0.81 + 0.1 * 0.4 * 0.9 + 0.1 * -0.3
        XCTAssertEqual(Double(opt.stateBuffer(named: "m")!.buffer[0]), m0, accuracy: 1e-7)
        let custom = Adam(makeParameters(), learningRate: 0.05, beta1: 0.8, beta2: 0.99, epsilon: 1e-3)
        assertClose(run(custom, steps: 3), adamReference(lr: 0.05, b1: 0.8, b2: 0.99, eps: 1e-3, weightDecay: 0, steps: 3))
    }

    func testAdamWDecouplesWeightDecayWithKerasDefault() {
        let opt = AdamW(makeParameters(), learningRate: 0.01)
        XCTAssertEqual(opt.weightDecay, 0.004)
        assertClose(run(opt, steps: 3), adamReference(lr: 0.01, weightDecay: 0.004, steps: 3))
        let strong = AdamW(makeParameters(), learningRate: 0.1, weightDecay: 0.5)
        assertClose(run(strong, steps: 3), adamReference(lr: 0.1, weightDecay: 0.5, steps: 3))
    }

    func testFrozenParametersAreLeftUntouched() {
        let flat = makeParameters()
        flat.parameters[1].requiresGrad = false
        flat.parameters[2].requiresGrad = false
        let opt = Adam(flat, learningRate: 0.01, weightDecay: 0.1)
        let after = run(opt, steps: 3)
        let reference = adamReference(lr: 0.01, weightDecay: 0.1, steps: 3)
        assertClose([after[0], after[3]], [reference[0], reference[3]])
        XCTAssertEqual(Array(after[1...2]), [-2, 0.5])
        XCTAssertEqual(Array(opt.stateBuffer(named: "m")!.buffer[1...2]), [0, 0])
    }

    func testLearningRateOverrideAndSchedule() {
        let opt = SGD(makeParameters(), learningRate: .piecewiseConstant(boundaries: [0], values: [0.1, 0.01]))
        XCTAssertEqual(opt.currentLearningRate, 0.1)
        opt.parameters.gradBuffer.update(repeating: 1)
        opt.step()  // step 0: lr 0.1
        XCTAssertEqual(opt.currentLearningRate, 0.01)
        opt.step()  // step 1: lr 0.01
        opt.step(learningRate: 1)
        XCTAssertEqual(Double(opt.parameters.valueBuffer[0]), 1 - 0.1 - 0.01 - 1, accuracy: 1e-6)
        XCTAssertEqual(opt.stepCount, 3)
    }

    func testStateRestoreContinuesBitForBit() throws {
        let a = Adam(makeParameters(), learningRate: 0.01)
        _ = run(a, steps: 2)
        let saved = Dictionary(uniqueKeysWithValues: a.stateBuffers.map { ($0.name, Array($0.buffer)) })
        let values = Array(a.parameters.valueBuffer)

        let b = Adam(makeParameters(), learningRate: 0.01)
        try b.restoreState(stepCount: a.stepCount, buffers: saved)
        _ = b.parameters.valueBuffer.update(fromContentsOf: values)
        for opt in [a, b] {
            for (i, g) in gradients[2].enumerated() { opt.parameters.gradBuffer[i] = Float(g) }
            opt.step()
        }
        XCTAssertEqual(Array(a.parameters.valueBuffer).map(\.bitPattern), Array(b.parameters.valueBuffer).map(\.bitPattern))

        XCTAssertThrowsError(try b.restoreState(stepCount: 1, buffers: ["m": saved["m"]!])) { error in
            XCTAssertTrue("\(error)".contains("\"v\" missing"), "\(error)")
        }
        XCTAssertThrowsError(try b.restoreState(stepCount: 1, buffers: ["m": [1], "v": saved["v"]!])) { error in
            XCTAssertTrue("\(error)".contains("has 1 values, expected 4"), "\(error)")
        }
        XCTAssertEqual(b.stepCount, 3, "a failed restore changes nothing")
    }
}
