import Autograd
import TensorCore

/// Gradient clipping by global norm (`tf.clip_by_global_norm`, Keras' `global_clipnorm`), over
/// the trainable part of a gradient arena.
public enum GradientClipping {
    /// √(Σ g²) over the gradients of trainable parameters, summed in Double in a fixed order
    /// (identical on every rank after an allreduce).
    public static func globalNorm(_ parameters: FlatParameters) -> Float {
        let g = parameters.grads.base
        var total = 0.0
        parameters.forEachTrainableRange { total += sumOfSquares(g + $0.lowerBound, $0.count) }
        return Float(total.squareRoot())
    }

    /// Scales the gradients by maxNorm / norm when their global norm exceeds `maxNorm`;
    /// returns the norm before clipping.
    @discardableResult
    public static func clipByGlobalNorm(_ parameters: FlatParameters, maxNorm: Float) -> Float {
        let norm = globalNorm(parameters)
        guard norm > maxNorm, norm.isFinite else { return norm }
        let s = maxNorm / norm, g = parameters.grads.base
        parameters.forEachTrainableRange { r in for i in r { g[i] *= s } }
        return norm
    }

    /// Σ x² with eight Double lanes (fast, and the same order on every call).
    static func sumOfSquares(_ x: UnsafePointer<Float>, _ n: Int) -> Double {
        var lanes = SIMD8<Double>()
        var i = 0
        while i + 8 <= n {
            let v = SIMD8<Double>(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self))
            lanes += v * v
            i += 8
        }
        var total = lanes.sum()
        while i < n { let v = Double(x[i]); total += v * v; i += 1 }
        return total
    }
}
