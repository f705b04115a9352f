import Autograd
import Optim

public enum OptimizerName: String, CaseIterable, Sendable, ConfigChoice {
    case adam, adamw, sgd

    static let kind = "optimizer"
}

/// The `optimizer` section, with Keras' defaults. Adam and AdamW take `beta1`, `beta2`,
/// `epsilon`; SGD takes `momentum` and `nesterov`; all take `learning_rate`, `weight_decay`
/// (decoupled) and `clip_norm` (global norm). A key of another optimizer is an unknown key.
public struct OptimizerSpec: Sendable, Equatable {
    public var name: OptimizerName
    public var learningRate: Double
    public var beta1 = 0.9
    public var beta2 = 0.999
    public var epsilon = 1e-7
    public var weightDecay: Double
    public var momentum = 0.0
    public var nesterov = false
    public var clipNorm: Double?

    /// Keras' defaults for `name`.
    public init(name: OptimizerName) {
        self.name = name
        learningRate = name == .sgd ? 0.01 : 0.001
        weightDecay = name == .adamw ? 0.004 : 0
    }

    init(reading r: ObjectReader) throws {
        self.init(name: try r.required("name"))
        r.scope = "for optimizer \"\(name.rawValue)\""
        learningRate = try r.optional("learning_rate", default: learningRate, .greaterThan(0))
        switch name {
        case .adam, .adamw:
            beta1 = try r.optional("beta1", default: beta1, .halfOpen(0, 1))
            beta2 = try r.optional("beta2", default: beta2, .halfOpen(0, 1))
            epsilon = try r.optional("epsilon", default: epsilon, .greaterThan(0))
        case .sgd:
            momentum = try r.optional("momentum", default: momentum, .halfOpen(0, 1))
            nesterov = try r.optional("nesterov", default: nesterov)
        }
        weightDecay = try r.optional("weight_decay", default: weightDecay, .atLeast(0))
        clipNorm = try r.nullable("clip_norm", .greaterThan(0))
    }
}

/// The optimizer factory the trainers take, with the learning rate following `schedule`.
public func makeOptimizer(_ spec: OptimizerSpec, schedule: ScheduleSpec = ScheduleSpec()) -> (FlatParameters) -> Optimizer {
    let rate = makeSchedule(schedule, learningRate: spec.learningRate)
    let clip = spec.clipNorm.map { Float($0) }
    switch spec.name {
    case .adam:
        return { Adam($0, learningRate: rate, beta1: Float(spec.beta1), beta2: Float(spec.beta2), epsilon: Float(spec.epsilon),
                      weightDecay: Float(spec.weightDecay), globalClipNorm: clip) }
    case .adamw:
        return { AdamW($0, learningRate: rate, weightDecay: Float(spec.weightDecay), beta1: Float(spec.beta1), beta2: Float(spec.beta2),
                       epsilon: Float(spec.epsilon), globalClipNorm: clip) }
    case .sgd:
        return { SGD($0, learningRate: rate, momentum: Float(spec.momentum), nesterov: spec.nesterov,
                     weightDecay: Float(spec.weightDecay), globalClipNorm: clip) }
    }
}
