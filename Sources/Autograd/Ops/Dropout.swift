import TensorCore

extension Variable {
    /// Inverted dropout with a mask drawn from `rng`: elements are zeroed with probability `rate`
    /// and the rest scaled by 1/(1 − rate). A rate of 0 returns this variable unchanged.
    public func dropout(rate: Float, rng: inout RandomGenerator) -> Variable {
        if rate == 0 { return self }
        let y = Tensor(uninitialized: shape), mask = Tensor(uninitialized: shape)
        DropoutKernel.forward(value.data, y.data, mask: mask.data, count: count, rate: rate, rng: &rng)
        return Variable.record(y, inputs: [self]) { [self] g in
            let (dst, acc) = gradSlot()
            DropoutKernel.backward(dy: g.data, mask: mask.data, dx: dst.data, count: count, accumulate: acc)
        }
    }
}
