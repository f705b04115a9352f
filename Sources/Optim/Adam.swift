import AdamKernel
import Autograd
import TensorCore

/// Keras `Adam`, with Keras' update at step t (1-based):
/// m ← m + (g − m)(1 − β₁), v ← v + (g² − v)(1 − β₂), lr_t = lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ),
/// p ← p − lr_t·m/(√v + ε). A nonzero `weightDecay` decouples it as in Keras 3
/// (p ← p − p·wd·lr before the Adam step), which is AdamW.
public class Adam: GradientAveragingOptimizer {
    public let parameters: FlatParameters
    public var learningRate: LearningRateSchedule
    public var stepCount = 0
    public var globalClipNorm: Float?
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    public let weightDecay: Float
    private let m: OptimizerStateBuffer
    private let v: OptimizerStateBuffer

    public init(_ parameters: FlatParameters, learningRate: LearningRateSchedule = 1e-3, beta1: Float = 0.9,
                beta2: Float = 0.999, epsilon: Float = 1e-7, weightDecay: Float = 0, globalClipNorm: Float? = nil) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.globalClipNorm = globalClipNorm
        m = OptimizerStateBuffer(name: "m", parallelTo: parameters)
        v = OptimizerStateBuffer(name: "v", parallelTo: parameters)
    }

    public var stateBuffers: [OptimizerStateBuffer] { [m, v] }

    public func applyUpdate(_ range: Range<Int>, learningRate lr: Float, step t: Int) {
        withUnsafePointer(to: Optional(UnsafePointer(parameters.grads.base + range.lowerBound))) {
            update(range, gradients: $0, sources: 1, learningRate: lr, step: t)
        }
    }

    public func applyUpdate(_ range: Range<Int>, learningRate lr: Float, step t: Int, averaging arenas: [UnsafePointer<Float>]) {
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>?.self, capacity: arenas.count) { sources in
            for (i, arena) in arenas.enumerated() { sources[i] = arena + range.lowerBound }
            update(range, gradients: sources.baseAddress!, sources: arenas.count, learningRate: lr, step: t)
        }
    }

    /// The kernel over `range`, its gradient the mean of `sources` arenas already offset to the range's start.
    private func update(_ range: Range<Int>, gradients: UnsafePointer<UnsafePointer<Float>?>, sources: Int,
                        learningRate lr: Float, step t: Int) {
        let p = parameters.values.base, pm = m.storage.base, pv = v.storage.base
        let alpha = Float(Double(lr) * (1 - Adam.power(Double(beta2), t)).squareRoot() / (1 - Adam.power(Double(beta1), t)))
        let c1 = 1 - beta1, c2 = 1 - beta2, eps = epsilon, wd = weightDecay
        let o = range.lowerBound
        ddp_adam_update(p + o, gradients, Int32(sources), sources == 1 ? 1 : 1 / Float(sources), pm + o, pv + o, range.count,
                        alpha, c1, c2, eps, wd, lr)
    }

    /// bᵗ by repeated squaring (exact for the small integer powers of early steps).
    static func power(_ b: Double, _ t: Int) -> Double {
        var result = 1.0, base = b, e = t
        while e > 0 {
            if e & 1 == 1 { result *= base }
            base *= base
            e >>= 1
        }
        return result
    }
}

/// Keras `AdamW`: Adam with decoupled weight decay, default 0.004.
public final class AdamW: Adam {
    public init(_ parameters: FlatParameters, learningRate: LearningRateSchedule = 1e-3, weightDecay: Float = 0.004,
                beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-7, globalClipNorm: Float? = nil) {
        super.init(parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
                   weightDecay: weightDecay, globalClipNorm: globalClipNorm)
    }
}
