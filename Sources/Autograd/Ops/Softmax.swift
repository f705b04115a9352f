import TensorCore

extension Variable {
    /// Softmax along the last axis.
    public func softmax() -> Variable {
        let n = shape.last ?? 1, rows = count / max(n, 1)
        let y = Tensor(uninitialized: shape)
        Softmax.forward(value.data, y.data, rows: rows, n: n)
        return Variable.record(y, inputs: [self]) { [self] g in
            let (dst, acc) = gradSlot()
            Softmax.backward(y: y.data, dy: g.data, dx: dst.data, rows: rows, n: n, accumulate: acc)
        }
    }

    /// Log-softmax along the last axis.
    public func logSoftmax() -> Variable {
        let n = shape.last ?? 1, rows = count / max(n, 1)
        let y = Tensor(uninitialized: shape)
        Softmax.logForward(value.data, y.data, rows: rows, n: n)
        return Variable.record(y, inputs: [self]) { [self] g in
            let (dst, acc) = gradSlot()
            Softmax.logBackward(y: y.data, dy: g.data, dx: dst.data, rows: rows, n: n, accumulate: acc)
        }
    }
}
