import TensorCore

/// A parameter whose gradient holds NaNs or infinities.
public struct NonFiniteGradient: Sendable, CustomStringConvertible {
    /// The parameter's name ("dense_1/kernel").
    public var parameter: String
    /// Non-finite values among its `total` gradient values, and the first of them.
    public var count: Int
    public var total: Int
    public var example: Float

    public var description: String {
        "non-finite gradient in \(parameter) (\(count) of \(total) values, e.g. \(example))"
    }
}

extension FlatParameters {
    /// The first parameter in arena order (last layer first, the end of backward's chain)
    /// whose gradient is not finite, or nil. One vectorised pass over the gradient arena when
    /// all is well; the per-parameter search runs only when it is not. `prefix` goes before the
    /// name ("generator/").
    public func nonFiniteGradient(prefix: String = "") -> NonFiniteGradient? {
        guard !VectorMath.allFinite(grads.base, count: count) else { return nil }
        for (i, p) in parameters.enumerated() {
            let r = range(of: i)
            guard !VectorMath.allFinite(grads.base + r.lowerBound, count: r.count) else { continue }
            let bad = UnsafeBufferPointer(start: grads.base + r.lowerBound, count: r.count).filter { !$0.isFinite }
            return NonFiniteGradient(parameter: prefix + p.name, count: bad.count, total: r.count, example: bad[0])
        }
        return nil
    }

    /// Whether the gradients of `parameters[indices]` (all by default) are all within
    /// ±`BLAS.checkedBound`, so finite, and finite when averaged over up to 2²⁷ ranks. Reads
    /// only those whose kernel did not check them as it stored them (`Variable.gradIsChecked`):
    /// a large weight gradient written past the caches is not read back from memory.
    public func gradientsWithinCheckedBound(_ indices: Range<Int>? = nil) -> Bool {
        for i in indices ?? parameters.indices where !parameters[i].gradIsChecked {
            let r = range(of: i)
            if !VectorMath.allWithin(grads.base + r.lowerBound, count: r.count, bound: BLAS.checkedBound) { return false }
        }
        return true
    }
}
