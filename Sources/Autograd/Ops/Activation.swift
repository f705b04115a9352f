import TensorCore

extension Variable {
    /// A pointwise activation. The derivative uses the saved output (relu, sigmoid, tanh) or
    /// the saved input (gelu, leaky relu).
    public func activation(_ kind: ActivationKind) -> Variable {
        if kind == .linear { return self }
        let x = value
        let y = Tensor(uninitialized: shape)
        kind.forward(x.data, y.data, count)
        return Variable.record(y, inputs: [self]) { [self] g in
            let (dst, acc) = gradSlot()
            kind.backward(x: x.data, y: y.data, dy: g.data, dx: dst.data, count, accumulate: acc)
        }
    }

    public func relu() -> Variable { activation(.relu) }
    public func sigmoid() -> Variable { activation(.sigmoid) }
    public func tanh() -> Variable { activation(.tanh) }
    public func gelu() -> Variable { activation(.gelu) }
    public func leakyRelu(alpha: Float = 0.3) -> Variable { activation(.leakyRelu(alpha: alpha)) }
}
