import Autograd
import Optim
import TensorCore
import XCTest

final class ScheduleAndClippingTests: XCTestCase {
    func assertRate(_ s: LearningRateSchedule, _ step: Int, _ expected: Double, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(Double(s(step)), expected, accuracy: 1e-7 * max(1, abs(expected)), "\(s) at step \(step)", file: file, line: line)
    }

    func testConstantAndLiteral() {
        let s: LearningRateSchedule = 0.25
        XCTAssertEqual(s, .constant(0.25))
        assertRate(s, 0, 0.25)
        assertRate(s, 1_000_000, 0.25)
    }

    func testExponentialDecayWithAndWithoutStaircase() {
        let smooth = LearningRateSchedule.exponentialDecay(initial: 0.1, decaySteps: 10, decayRate: 0.5)
        assertRate(smooth, 0, 0.1)
        assertRate(smooth, 5, 0.1 * pow(0.5, 0.5))
        assertRate(smooth, 20, 0.025)
        let stairs = LearningRateSchedule.exponentialDecay(initial: 0.1, decaySteps: 10, decayRate: 0.5, staircase: true)
        assertRate(stairs, 9, 0.1)
        assertRate(stairs, 10, 0.05)
        assertRate(stairs, 25, 0.025)
    }

    func testCosineDecay() {
        let s = LearningRateSchedule.cosineDecay(initial: 1, decaySteps: 100, alpha: 0.1)
        assertRate(s, 0, 1)
        assertRate(s, 25, 0.9 * 0.5 * (1 + cos(Double.pi / 4)) + 0.1)
        assertRate(s, 50, 0.55)
        assertRate(s, 100, 0.1)
        assertRate(s, 150, 0.1)
        assertRate(.cosineDecay(initial: 2, decaySteps: 10), 10, 0)
    }

    func testWarmupThenConstantOrCosine() {
        let constant = LearningRateSchedule.linearWarmup(steps: 4, to: 0.2)
        assertRate(constant, 0, 0)
        assertRate(constant, 1, 0.05)
        assertRate(constant, 4, 0.2)
        assertRate(constant, 100, 0.2)
        // Keras CosineDecay(initial 0.1, decay 100, warmup_target 1, warmup_steps 10).
        let cosine = LearningRateSchedule.warmup(steps: 10, start: 0.1, then: .cosineDecay(initial: 1, decaySteps: 100))
        assertRate(cosine, 5, 0.55)
        assertRate(cosine, 10, 1)
        assertRate(cosine, 60, 0.5)
        assertRate(cosine, 110, 0)
    }

    func testPiecewiseConstant() {
        let s = LearningRateSchedule.piecewiseConstant(boundaries: [10, 20], values: [1, 0.5, 0.1])
        assertRate(s, 10, 1)
        assertRate(s, 11, 0.5)
        assertRate(s, 20, 0.5)
        assertRate(s, 21, 0.1)
    }

    func testValidation() throws {
        try LearningRateSchedule.warmup(steps: 3, then: .cosineDecay(initial: 1, decaySteps: 5)).validate()
        XCTAssertThrowsError(try LearningRateSchedule.cosineDecay(initial: 1, decaySteps: 0).validate())
        XCTAssertThrowsError(try LearningRateSchedule.warmup(steps: 2, then: .exponentialDecay(initial: 1, decaySteps: -1, decayRate: 0.5)).validate())
        XCTAssertThrowsError(try LearningRateSchedule.piecewiseConstant(boundaries: [1, 2], values: [1, 2]).validate())
        XCTAssertThrowsError(try LearningRateSchedule.piecewiseConstant(boundaries: [2, 1], values: [1, 2, 3]).validate())
    }

    func makeParameters() -> FlatParameters {
        // 3 + 4 + 12 elements: gradient norm √(9 + 16 + 144) = 13.
        let a = Variable(Tensor([0, 0, 0], shape: [3]), requiresGrad: true)
        let b = Variable(Tensor([0, 0, 0, 0], shape: [4]), requiresGrad: true)
        let c = Variable(Tensor(zeros: [12]), requiresGrad: true)
        let flat = FlatParameters([a, b, c])
        flat.gradBuffer[0] = 3
        flat.gradBuffer[3] = 4
        flat.gradBuffer[18] = 12
        return flat
    }

    func testGlobalNormClipping() {
        let flat = makeParameters()
        XCTAssertEqual(GradientClipping.globalNorm(flat), 13)
        XCTAssertEqual(GradientClipping.clipByGlobalNorm(flat, maxNorm: 20), 13)
        XCTAssertEqual(flat.gradBuffer[0], 3, "below the threshold nothing changes")
        XCTAssertEqual(GradientClipping.clipByGlobalNorm(flat, maxNorm: 1.3), 13)
        XCTAssertEqual(flat.gradBuffer[0], 0.3, accuracy: 1e-7)
        XCTAssertEqual(flat.gradBuffer[3], 0.4, accuracy: 1e-7)
        XCTAssertEqual(flat.gradBuffer[18], 1.2, accuracy: 1e-6)
        XCTAssertEqual(GradientClipping.globalNorm(flat), 1.3, accuracy: 1e-6)
    }

    func testClippingSkipsFrozenParametersAndRunsInsideStep() {
        let flat = makeParameters()
        flat.parameters[2].requiresGrad = false
        XCTAssertEqual(GradientClipping.globalNorm(flat), 5)
        let opt = SGD(flat, learningRate: 1, globalClipNorm: 1)
        opt.step()
        XCTAssertEqual(flat.valueBuffer[0], -0.6, accuracy: 1e-7)
        XCTAssertEqual(flat.valueBuffer[3], -0.8, accuracy: 1e-7)
        XCTAssertEqual(flat.gradBuffer[18], 12, "frozen gradients are not scaled")
        XCTAssertEqual(flat.valueBuffer[18], 0, "frozen parameters are not updated")
    }
}
