import TensorCore

/// A tensor that takes part in reverse-mode differentiation (micrograd's `Value`, at tensor
/// granularity). Each differentiable operation returns a `Variable` that remembers its inputs
/// and a closure computing their gradients; `backward()` runs those closures in reverse
/// topological order. Operations are coarse (a whole matmul, a whole convolution), so this
/// bookkeeping is negligible next to the math.
public final class Variable {
    /// The forward value. For parameters this is a view into a flat parameter arena.
    public internal(set) var value: Tensor
    /// The accumulated gradient, same shape as `value`. For parameters, a view into the flat
    /// gradient arena (kept across steps and accumulating until zeroed); for intermediate
    /// results, a pooled buffer released as soon as backward has consumed it.
    public internal(set) var grad: Tensor?
    /// Whether gradients flow into this variable. Parameters set it to `false` to be frozen
    /// for a step (e.g. the discriminator while the GAN's generator trains).
    public var requiresGrad: Bool
    public var name: String
    var node: Node?
    /// Set by `discardGrad()`: the bound gradient buffer counts as zero without having been
    /// zeroed, and the next contribution overwrites it.
    public private(set) var gradIsDiscarded = false
    /// Whether every value of the gradient is known to be within ±`BLAS.checkedBound` without
    /// reading it again: the kernel that last wrote it checked its values while storing them
    /// (`markGradChecked`). Any other write clears it, since all go through `gradSlot` or
    /// `zeroedGrad`.
    public private(set) var gradIsChecked = false

    public init(_ value: Tensor, requiresGrad: Bool = false, name: String = "") {
        self.value = value
        self.requiresGrad = requiresGrad
        self.name = name
    }

    init(_ value: Tensor, node: Node) {
        self.value = value
        self.requiresGrad = true
        self.name = ""
        self.node = node
    }

    public var shape: [Int] { value.shape }
    public var count: Int { value.count }
    /// True for parameters and inputs (not produced by an operation that records a gradient).
    public var isLeaf: Bool { node == nil }

    /// The gradient buffer to write this variable's gradient contribution into, and whether to
    /// add to it (`true`) or overwrite it (`false`, the first contribution to a fresh buffer,
    /// which then need not be zeroed: kernels write it with BLAS beta = 0).
    public func gradSlot() -> (grad: Tensor, accumulate: Bool) {
        gradIsChecked = false
        if let g = grad {
            if gradIsDiscarded {
                gradIsDiscarded = false
                return (g, false)
            }
            return (g, true)
        }
        let g = Tensor(uninitialized: value.shape)
        grad = g
        return (g, false)
    }

    /// The gradient buffer, zero-filled on first use (for scatter-style kernels).
    public func zeroedGrad() -> Tensor {
        gradIsChecked = false
        if let g = grad {
            settleGrad()
            return g
        }
        let g = Tensor(zeros: value.shape)
        grad = g
        return g
    }

    /// Adds `g` (same shape) to this variable's gradient.
    public func accumulateGrad(_ g: Tensor) {
        let (dst, acc) = gradSlot()
        if acc { BLAS.axpy(g.count, 1, g.data, dst.data) } else { dst.copy(from: g) }
    }

    /// Sets the gradient storage (used to place parameter gradients inside the flat arena).
    public func bindGrad(_ g: Tensor?) {
        grad = g
        gradIsDiscarded = false
        gradIsChecked = false
    }

    /// Records that the write just made through `gradSlot` left every value of the gradient
    /// within ±`BLAS.checkedBound`, as the kernel that made it checked (`BLAS.gemm`'s result).
    public func markGradChecked() { gradIsChecked = true }

    /// Makes the bound gradient count as zero without writing it: the first contribution of
    /// the next backward then overwrites it (BLAS beta 0) instead of adding to a zeroed buffer,
    /// which saves a pass over the gradient arena per step. `settleGrad()` zeroes it for real
    /// when no contribution came.
    public func discardGrad() {
        if grad != nil { gradIsDiscarded = true }
        gradIsChecked = false
    }

    /// Zeroes a discarded gradient that received no contribution, so it reads as zero.
    public func settleGrad() {
        guard gradIsDiscarded, let g = grad else { return }
        g.zero()
        gradIsDiscarded = false
    }

    /// Points this variable's value at new storage with the same shape (used to move
    /// parameters into the flat arena) after copying the current values there.
    public func rebind(value newValue: Tensor, keepingValue: Bool = true) {
        precondition(newValue.shape == value.shape,
                     "rebind \(name): \(shapeString(newValue.shape)) vs \(shapeString(value.shape))")
        if keepingValue { newValue.copy(from: value) }
        value = newValue
    }

    /// Drops the gradient of a non-parameter variable.
    public func clearGrad() { grad = nil }
}

/// How an operation's output was computed: its inputs and the closure that, given the output's
/// gradient, adds each input's gradient contribution.
final class Node {
    let inputs: [Variable]
    let backward: (Tensor) -> Void
    init(inputs: [Variable], backward: @escaping (Tensor) -> Void) {
        self.inputs = inputs
        self.backward = backward
    }
}

extension Variable: CustomStringConvertible {
    public var description: String {
        "Variable(\(name.isEmpty ? "" : name + " ")\(shapeString(shape)), requiresGrad: \(requiresGrad))"
    }
}
