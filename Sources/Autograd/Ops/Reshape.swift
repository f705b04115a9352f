import TensorCore

extension Variable {
    /// The same elements under another shape (a free view; the gradient is reshaped back).
    public func reshaped(_ newShape: [Int]) -> Variable {
        let out = value.reshaped(newShape)
        return Variable.record(out, inputs: [self]) { [self] g in
            accumulateGrad(g.reshaped(shape))
        }
    }

    /// Keeps the first (batch) axis and flattens the rest.
    public func flattened() -> Variable { reshaped([shape[0], count / max(shape[0], 1)]) }
}
