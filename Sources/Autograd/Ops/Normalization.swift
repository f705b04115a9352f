import TensorCore

extension Variable {
    /// Layer normalisation over the last axis with per-feature `gamma` and `beta` (shape [n]).
    /// Forward saves each row's mean and 1/std; backward is one pass over the rows.
    public func layerNorm(gamma: Variable, beta: Variable, epsilon: Float) -> Variable {
        let x = self
        _ = checkShape { try ShapeRules.layerNorm(x.shape, gamma: gamma.shape, beta: beta.shape) }
        let n = gamma.count, rows = count / n
        let y = Tensor(uninitialized: shape)
        let mean = Tensor(uninitialized: [rows]), rstd = Tensor(uninitialized: [rows])
        LayerNorm.forward(x.value.data, gamma: gamma.value.data, beta: beta.value.data, y.data,
                          mean: mean.data, rstd: rstd.data, rows: rows, n: n, epsilon: epsilon)
        return Variable.record(y, inputs: [x, gamma, beta]) { g in
            var dx: UnsafeMutablePointer<Float>?, accumulateX = false
            if x.requiresGrad { let slot = x.gradSlot(); dx = slot.grad.data; accumulateX = slot.accumulate }
            LayerNorm.backward(x: x.value.data, gamma: gamma.value.data, mean: mean.data, rstd: rstd.data,
                               dy: g.data, rows: rows, n: n, dx: dx, accumulateX: accumulateX,
                               dGamma: gamma.requiresGrad ? gamma.zeroedGrad().data : nil,
                               dBeta: beta.requiresGrad ? beta.zeroedGrad().data : nil)
        }
    }
}
