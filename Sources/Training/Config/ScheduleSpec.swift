import Optim

public enum ScheduleName: String, CaseIterable, Sendable, ConfigChoice {
    case constant, cosine, exponential

    static let kind = "schedule"
}

/// The `schedule` section: the optimizer's learning rate over its steps. All schedules take
/// `warmup_steps` (a linear ramp from 0); `cosine` takes `decay_steps` and `alpha` (the final
/// fraction of the rate), `exponential` takes `decay_steps`, `decay_rate` and `staircase`.
/// Decay steps count from the end of the warmup.
public struct ScheduleSpec: Sendable, Equatable {
    public var name: ScheduleName = .constant
    public var warmupSteps = 0
    /// Cosine and exponential only.
    public var decaySteps: Int?
    /// Cosine only.
    public var alpha = 0.0
    /// Exponential only.
    public var decayRate: Double?
    public var staircase = false

    public init() {}

    init(reading r: ObjectReader) throws {
        name = try r.optional("name", default: .constant)
        r.scope = "for schedule \"\(name.rawValue)\""
        warmupSteps = try r.optional("warmup_steps", default: 0, .atLeast(0))
        switch name {
        case .constant: break
        case .cosine:
            decaySteps = try r.required("decay_steps", .atLeast(1))
            alpha = try r.optional("alpha", default: 0, .closed(0, 1))
        case .exponential:
            decaySteps = try r.required("decay_steps", .atLeast(1))
            decayRate = try r.required("decay_rate", .greaterThan(0))
            staircase = try r.optional("staircase", default: false)
        }
    }
}

/// The learning rate of `spec` starting from (or, with warmup, ramping up to) `learningRate`.
public func makeSchedule(_ spec: ScheduleSpec, learningRate: Double) -> LearningRateSchedule {
    let rate = Float(learningRate)
    let decay: LearningRateSchedule
    switch (spec.name, spec.decaySteps, spec.decayRate) {
    case (.constant, _, _):
        decay = .constant(rate)
    case (.cosine, let steps?, _):
        decay = .cosineDecay(initial: rate, decaySteps: steps, alpha: Float(spec.alpha))
    case (.exponential, let steps?, let decayRate?):
        decay = .exponentialDecay(initial: rate, decaySteps: steps, decayRate: Float(decayRate), staircase: spec.staircase)
    default:
        preconditionFailure("schedule \"\(spec.name.rawValue)\" needs decaySteps (and, if exponential, decayRate)")
    }
    return spec.warmupSteps > 0 ? .warmup(steps: spec.warmupSteps, then: decay) : decay
}
