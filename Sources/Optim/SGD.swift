import Autograd
import TensorCore

/// Keras `SGD`: with momentum μ, m ← μ·m − lr·g and p ← p + m, or with Nesterov
/// p ← p + μ·m − lr·g; without momentum p ← p − lr·g. Weight decay is decoupled as in Keras 3
/// (p ← p − p·wd·lr, applied before the gradient step).
public final class SGD: Optimizer {
    public let parameters: FlatParameters
    public var learningRate: LearningRateSchedule
    public var stepCount = 0
    public var globalClipNorm: Float?
    public let momentum: Float
    public let nesterov: Bool
    public let weightDecay: Float
    /// The velocity m, allocated only when momentum is used.
    private let velocity: OptimizerStateBuffer?

    public init(_ parameters: FlatParameters, learningRate: LearningRateSchedule = 0.01, momentum: Float = 0,
                nesterov: Bool = false, weightDecay: Float = 0, globalClipNorm: Float? = nil) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        self.globalClipNorm = globalClipNorm
        velocity = momentum != 0 ? OptimizerStateBuffer(name: "momentum", parallelTo: parameters) : nil
    }

    public var stateBuffers: [OptimizerStateBuffer] { velocity.map { [$0] } ?? [] }

    public func applyUpdate(_ range: Range<Int>, learningRate lr: Float, step t: Int) {
        let p = parameters.values.base, g = parameters.grads.base
        let wd = weightDecay, mu = momentum
        // With wd = 0 the decay term is exactly zero, so one loop serves both cases.
        guard let m = velocity?.storage.base else {
            for i in range { let w = p[i] - p[i] * wd * lr; p[i] = w - g[i] * lr }
            return
        }
        if nesterov {
            for i in range {
                let mi = m[i] * mu - g[i] * lr
                m[i] = mi
                let w = p[i] - p[i] * wd * lr
                p[i] = w + (mi * mu - g[i] * lr)
            }
        } else {
            for i in range {
                let mi = m[i] * mu - g[i] * lr
                m[i] = mi
                let w = p[i] - p[i] * wd * lr
                p[i] = w + mi
            }
        }
    }
}
