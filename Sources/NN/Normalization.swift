import Autograd
import TensorCore

/// Keras `LayerNormalization` over the last axis: gamma (ones) and beta (zeros), one per feature.
/// Keras' default epsilon is 1e-3; Transformer code usually passes 1e-6 (PyTorch uses 1e-5).
public final class LayerNormalization: Layer {
    public var name: String
    public let epsilon: Float
    public private(set) var gamma: Variable!
    public private(set) var beta: Variable!

    public init(epsilon: Float = 1e-3, name: String = "") {
        self.epsilon = epsilon
        self.name = name
    }

    public func build(inputShape: [Int], rng: inout RandomGenerator) throws -> [Int] {
        guard let n = inputShape.last, n > 0 else {
            throw shapeError("input \(shapeString(inputShape)) has no feature axis to normalise")
        }
        gamma = try Initializer.ones.makeParameter([n], name: "\(name)/gamma", rng: &rng)
        beta = try Initializer.zeros.makeParameter([n], name: "\(name)/beta", rng: &rng)
        return inputShape
    }

    public var parameters: [Variable] { [gamma, beta].compactMap { $0 } }

    public func forward(_ x: Variable) -> Variable { x.layerNorm(gamma: gamma, beta: beta, epsilon: epsilon) }
}

/// Sums per-channel batch statistics in place across the replicas of a data-parallel job
/// (SyncBatchNorm). NN sits below Comm, so the trainer supplies one over its communicator.
public protocol StatisticsReducer: AnyObject {
    func sum(_ values: UnsafeMutableBufferPointer<Float>)
}

/// Keras `BatchNormalization(axis=-1, momentum=0.99, epsilon=1e-3)`, channels last, on
/// [batch, features], [batch, steps, channels] or NHWC inputs. Weights, in Keras' order: gamma
/// (ones) and beta (zeros), trainable; moving_mean (zeros) and moving_variance (ones),
/// non-trainable parameters that training mode updates as
/// moving ← moving · momentum + batch · (1 − momentum), with the biased batch variance (Keras';
/// PyTorch's momentum 0.1 is Keras' 0.9, and PyTorch's running variance is unbiased).
/// Inference mode normalises with the moving statistics.
///
/// As non-trainable parameters the moving statistics live in the flat arena: checkpoints,
/// broadcasts and `summary()` (non-trainable params) include them; optimizers leave them alone.
/// With a `reducer` the batch statistics are those of every replica's batch (SyncBatchNorm).
public final class BatchNormalization: Layer {
    public var name: String
    public let momentum: Float
    public let epsilon: Float
    public private(set) var isTraining = true
    /// Set by a data-parallel trainer to synchronise the batch statistics; nil: local batch only.
    public var reducer: StatisticsReducer?
    public private(set) var gamma: Variable!
    public private(set) var beta: Variable!
    public private(set) var movingMean: Variable!
    public private(set) var movingVariance: Variable!

    public init(momentum: Float = 0.99, epsilon: Float = 1e-3, name: String = "") {
        self.momentum = momentum
        self.epsilon = epsilon
        self.name = name
    }

    public func build(inputShape: [Int], rng: inout RandomGenerator) throws -> [Int] {
        guard (1...3).contains(inputShape.count), let c = inputShape.last, c > 0 else {
            throw shapeError("input \(shapeString(inputShape)) should be [features], [steps, channels] or [height, width, channels] per sample")
        }
        guard momentum >= 0 && momentum < 1 else { throw shapeError("momentum \(momentum) should be in [0, 1)") }
        gamma = try Initializer.ones.makeParameter([c], name: "\(name)/gamma", rng: &rng)
        beta = try Initializer.zeros.makeParameter([c], name: "\(name)/beta", rng: &rng)
        movingMean = Variable(Tensor(zeros: [c]), name: "\(name)/moving_mean")
        movingVariance = Variable(Tensor(repeating: 1, shape: [c]), name: "\(name)/moving_variance")
        return inputShape
    }

    public var parameters: [Variable] { [gamma, beta, movingMean, movingVariance].compactMap { $0 } }

    /// The moving mean and variance, which replicas must agree on.
    public var movingStatistics: [Variable] { [movingMean, movingVariance].compactMap { $0 } }

    public func setTraining(_ training: Bool) { isTraining = training }

    public func forward(_ x: Variable) -> Variable {
        guard isTraining else {
            return x.batchNormInference(gamma: gamma, beta: beta, movingMean: movingMean.value, movingVariance: movingVariance.value,
                                        epsilon: epsilon)
        }
        return x.batchNorm(gamma: gamma, beta: beta, movingMean: movingMean.value, movingVariance: movingVariance.value,
                           momentum: momentum, epsilon: epsilon, sum: reducer.map { r in { r.sum($0) } })
    }
}
