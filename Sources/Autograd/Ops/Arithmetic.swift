import TensorCore

// Broadcasting arithmetic. Each backward folds the output gradient back onto the operand's
// shape (summing over broadcast axes).

extension Variable {
    static func binary(_ op: BinaryOp, _ a: Variable, _ b: Variable) -> Variable {
        let shape = checkShape { try ShapeRules.broadcast(a.shape, b.shape, op: "\(op)") }
        let out = Tensor(uninitialized: shape)
        Elementwise.binary(op, a.value, b.value, into: out)
        return record(out, inputs: [a, b]) { g in
            switch op {
            case .add:
                if a.requiresGrad { a.addReduced(g) }
                if b.requiresGrad { b.addReduced(g) }
            case .sub:
                if a.requiresGrad { a.addReduced(g) }
                if b.requiresGrad { b.addReduced(g, scale: -1) }
            case .mul:
                if a.requiresGrad { a.addReduced(product(g, b.value)) }
                if b.requiresGrad { b.addReduced(product(g, a.value)) }
            case .div:
                if a.requiresGrad {
                    let t = Tensor(uninitialized: shape)
                    Elementwise.binary(.div, g, b.value, into: t)
                    a.addReduced(t)
                }
                if b.requiresGrad {
                    // d(a/b)/db = -(a/b)/b = -out/b
                    let t = Tensor(uninitialized: shape)
                    Elementwise.binary(.div, out, b.value, into: t)
                    Elementwise.binary(.mul, t, g, into: t)
                    b.addReduced(t, scale: -1)
                }
            }
        }
    }

    private static func product(_ g: Tensor, _ other: Tensor) -> Tensor {
        let t = Tensor(uninitialized: g.shape)
        Elementwise.binary(.mul, g, other, into: t)
        return t
    }

    /// Adds `scale · g`, summed over the axes along which this variable was broadcast.
    func addReduced(_ g: Tensor, scale: Float = 1) {
        if g.shape == shape && scale == 1 { accumulateGrad(g); return }
        let (dst, acc) = gradSlot()
        if scale == 1 {
            Elementwise.reduceSum(g, into: dst, beta: acc ? 1 : 0)
        } else {
            let t = Tensor(uninitialized: shape)
            Elementwise.reduceSum(g, into: t, beta: 0)
            if acc { BLAS.axpy(t.count, scale, t.data, dst.data) } else { Elementwise.scale(t, by: scale, into: dst) }
        }
    }

    public static func + (a: Variable, b: Variable) -> Variable { binary(.add, a, b) }
    public static func - (a: Variable, b: Variable) -> Variable { binary(.sub, a, b) }
    public static func * (a: Variable, b: Variable) -> Variable { binary(.mul, a, b) }
    public static func / (a: Variable, b: Variable) -> Variable { binary(.div, a, b) }

    public static func * (a: Variable, s: Float) -> Variable { a.scaled(by: s) }
    public static func * (s: Float, a: Variable) -> Variable { a.scaled(by: s) }
    public static prefix func - (a: Variable) -> Variable { a.scaled(by: -1) }

    public func scaled(by s: Float) -> Variable {
        let out = Tensor(uninitialized: shape)
        Elementwise.scale(value, by: s, into: out)
        return Variable.record(out, inputs: [self]) { [self] g in
            let (dst, acc) = gradSlot()
            if acc { BLAS.axpy(g.count, s, g.data, dst.data) } else { Elementwise.scale(g, by: s, into: dst) }
        }
    }
}
