#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A learning rate as a function of the optimizer's step count (0 for the first step), with
/// Keras' formulas. A number literal is a constant rate, so `learningRate: 0.1` reads as in Keras.
/// Rates are computed in Double and rounded once.
public indirect enum LearningRateSchedule: Equatable, Sendable, ExpressibleByFloatLiteral,
                                         ExpressibleByIntegerLiteral, CustomStringConvertible {
    case constant(Float)
    /// Keras `ExponentialDecay`: initial · rate^(step / decaySteps), the exponent floored when
    /// `staircase` (a step decay: multiply by `rate` every `decaySteps` steps).
    case exponentialDecay(initial: Float, decaySteps: Int, decayRate: Float, staircase: Bool = false)
    /// Keras `CosineDecay` without its warmup (compose with `warmup` for that):
    /// initial · ((1 − α)·½(1 + cos(π·min(step, decaySteps)/decaySteps)) + α).
    case cosineDecay(initial: Float, decaySteps: Int, alpha: Float = 0)
    /// Keras `PiecewiseConstantDecay`: values[0] while step ≤ boundaries[0], values[i] while
    /// boundaries[i−1] < step ≤ boundaries[i], values.last after the last boundary.
    case piecewiseConstant(boundaries: [Int], values: [Float])
    /// Linear from `start` to `then(0)` over the first `steps` steps, then `then(step − steps)`
    /// (Keras `CosineDecay`'s warmup when `then` is a cosine decay).
    case warmup(steps: Int, start: Float = 0, then: LearningRateSchedule)

    public init(floatLiteral value: Float) { self = .constant(value) }
    public init(integerLiteral value: Int) { self = .constant(Float(value)) }

    /// Linear warmup from `start` to a constant `rate`.
    public static func linearWarmup(steps: Int, to rate: Float, start: Float = 0) -> LearningRateSchedule {
        .warmup(steps: steps, start: start, then: .constant(rate))
    }

    public func callAsFunction(_ step: Int) -> Float { Float(rate(at: step)) }

    private func rate(at step: Int) -> Double {
        switch self {
        case .constant(let lr):
            return Double(lr)
        case .exponentialDecay(let initial, let decaySteps, let decayRate, let staircase):
            var p = Double(step) / Double(decaySteps)
            if staircase { p = p.rounded(.down) }
            return Double(initial) * pow(Double(decayRate), p)
        case .cosineDecay(let initial, let decaySteps, let alpha):
            let s = Double(min(step, decaySteps)) / Double(decaySteps)
            let cosine = 0.5 * (1 + cos(Double.pi * s))
            return Double(initial) * ((1 - Double(alpha)) * cosine + Double(alpha))
        case .piecewiseConstant(let boundaries, let values):
            let i = boundaries.firstIndex { step <= $0 } ?? boundaries.count
            return Double(values[i])
        case .warmup(let steps, let start, let then):
            guard step < steps else { return then.rate(at: step - steps) }
            let target = then.rate(at: 0)
            return Double(start) + (target - Double(start)) * Double(step) / Double(steps)
        }
    }

    /// Checks the parameters (positive step counts, one more value than boundaries), for
    /// schedules read from a configuration.
    public func validate() throws {
        switch self {
        case .constant: return
        case .exponentialDecay(_, let decaySteps, _, _), .cosineDecay(_, let decaySteps, _):
            if decaySteps <= 0 { throw ScheduleError("\(self): decay steps must be positive, got \(decaySteps)") }
        case .piecewiseConstant(let boundaries, let values):
            if values.count != boundaries.count + 1 {
                throw ScheduleError("\(self): needs one more value than boundaries (\(boundaries.count) boundaries, \(values.count) values)")
            }
            if zip(boundaries, boundaries.dropFirst()).contains(where: { $0 >= $1 }) {
                throw ScheduleError("\(self): boundaries must increase")
            }
        case .warmup(let steps, _, let then):
            if steps < 0 { throw ScheduleError("\(self): warmup steps must not be negative, got \(steps)") }
            try then.validate()
        }
    }

    public var description: String {
        switch self {
        case .constant(let lr): return "\(lr)"
        case .exponentialDecay(let i, let s, let r, let st): return "exponential_decay(\(i), steps: \(s), rate: \(r)\(st ? ", staircase" : ""))"
        case .cosineDecay(let i, let s, let a): return "cosine_decay(\(i), steps: \(s), alpha: \(a))"
        case .piecewiseConstant(let b, let v): return "piecewise_constant(boundaries: \(b), values: \(v))"
        case .warmup(let s, let st, let then): return "warmup(\(s) steps from \(st)) then \(then)"
        }
    }
}

/// A learning-rate schedule with parameters that cannot work.
public struct ScheduleError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "learning rate schedule \(message)" }
}
