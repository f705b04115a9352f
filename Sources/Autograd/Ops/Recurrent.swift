import TensorCore

/// An LSTM run over a whole sequence.
public struct LSTMOutput {
    /// Every step's hidden state [batch, time, units] (`returnSequences`) or the last one
    /// [batch, units]; differentiable.
    public let output: Variable
    /// The final hidden and cell states [batch, units], as constants: feed them back as the
    /// initial state of the next chunk of a long sequence (truncated backpropagation through
    /// time: the gradient stops at the chunk boundary).
    public let finalHidden: Tensor
    public let finalCell: Tensor
}

extension Variable {
    /// An LSTM (Keras gate order i, f, c, o) over `self` of shape [batch, time, features], as one
    /// coarse op. Forward: one GEMM projects every time step's input (x·W + b), then per step
    /// one recurrent GEMM (+= h_{t−1}·U) and one fused gate pass. Backward runs through time in
    /// reverse with one GEMM per step for ∂L/∂h_{t−1}, then one GEMM each for ∂L/∂U (over
    /// all steps at once), ∂L/∂W and ∂L/∂x. The initial state defaults to zeros; gradients
    /// reach it when it requires them.
    public func lstm(kernel: Variable, recurrentKernel: Variable, bias: Variable?,
                     initialState: (hidden: Variable, cell: Variable)? = nil, returnSequences: Bool) -> LSTMOutput {
        let x = self
        let u = checkShape {
            try ShapeRules.lstm(input: shape, kernel: kernel.shape, recurrentKernel: recurrentKernel.shape, bias: bias?.shape,
                                initialStates: initialState.map { [$0.hidden.shape, $0.cell.shape] } ?? [])
        }
        let batch = shape[0], steps = shape[1], features = shape[2], width = 4 * u, rows = batch * steps
        let gStride = steps * width, sStride = steps * u  // between batch rows of one time step
        let w = kernel.value, rk = recurrentKernel.value

        // Activated gates, cell states, tanh(cell states) and hidden states, batch-major [B, T, ·].
        let gates = Tensor(uninitialized: [batch, steps, width])
        if let bias {
            let pb = bias.value.data, pg = gates.data
            for r in 0..<rows { (pg + r * width).update(from: pb, count: width) }
        }
        BLAS.gemm(m: rows, n: width, k: features, a: x.value.data, lda: features, b: w.data, ldb: width,
                  beta: bias == nil ? 0 : 1, c: gates.data, ldc: width)
        let hs = Tensor(uninitialized: [batch, steps, u])
        let cs = Tensor(uninitialized: [batch, steps, u])
        let tanhCs = Tensor(uninitialized: [batch, steps, u])
        let zeros = initialState == nil ? Tensor(zeros: [batch, u]) : nil
        let h0 = initialState?.hidden.value ?? zeros!, c0 = initialState?.cell.value ?? zeros!

        for t in 0..<steps {
            if t > 0 || initialState != nil {
                let (hPrev, ld) = t == 0 ? (h0.data, u) : (hs.data + (t - 1) * u, sStride)
                BLAS.gemm(m: batch, n: width, k: u, a: hPrev, lda: ld, b: rk.data, ldb: width,
                          beta: 1, c: gates.data + t * width, ldc: gStride)
            }
            let (cPrev, cld) = t == 0 ? (UnsafePointer(c0.data), u) : (UnsafePointer(cs.data + (t - 1) * u), sStride)
            LSTMKernels.cellForward(batch: batch, units: u, gates: gates.data + t * width, gatesStride: gStride,
                                    cPrev: cPrev, cPrevStride: cld, c: cs.data + t * u, tanhC: tanhCs.data + t * u,
                                    h: hs.data + t * u, stateStride: sStride)
        }

        let finalHidden = Variable.lastStep(hs, units: u)
        let finalCell = Variable.lastStep(cs, units: u)
        var inputs = [x, kernel, recurrentKernel]
        if let bias { inputs.append(bias) }
        if let s = initialState { inputs += [s.hidden, s.cell] }

        let output = Variable.record(returnSequences ? hs : finalHidden, inputs: inputs) { g in
            let dz = Tensor(uninitialized: [batch, steps, width])
            let dh = returnSequences ? Tensor(zeros: [batch, u]) : g.copy()
            let dc = Tensor(zeros: [batch, u])
            let needInitialGrad = initialState.map { $0.hidden.requiresGrad || $0.cell.requiresGrad } ?? false
            for t in stride(from: steps - 1, through: 0, by: -1) {
                if returnSequences {
                    let pg = g.data + t * u, pd = dh.data
                    for b in 0..<batch { for j in 0..<u { pd[b * u + j] += pg[b * sStride + j] } }
                }
                let (cPrev, cld) = t == 0 ? (UnsafePointer(c0.data), u) : (UnsafePointer(cs.data + (t - 1) * u), sStride)
                LSTMKernels.cellBackward(batch: batch, units: u, gates: gates.data + t * width, gatesStride: gStride,
                                         cPrev: cPrev, cPrevStride: cld, tanhC: tanhCs.data + t * u, stateStride: sStride,
                                         dh: dh.data, dc: dc.data, dz: dz.data + t * width, dzStride: gStride)
                if t > 0 || needInitialGrad {
                    BLAS.gemm(transB: true, m: batch, n: u, k: width, a: dz.data + t * width, lda: gStride,
                              b: rk.data, ldb: width, beta: 0, c: dh.data, ldc: u)
                }
            }
            if recurrentKernel.requiresGrad {
                // ∂L/∂U = Σ_t h_{t−1}ᵀ·∂z_t as one GEMM over the hidden states shifted by one step.
                let hPrev = Tensor(uninitialized: [batch, steps, u])
                for b in 0..<batch {
                    let dst = hPrev.data + b * sStride
                    dst.update(from: h0.data + b * u, count: u)
                    (dst + u).update(from: hs.data + b * sStride, count: (steps - 1) * u)
                }
                let (gu, acc) = recurrentKernel.gradSlot()
                BLAS.gemm(transA: true, m: u, n: width, k: rows, a: hPrev.data, lda: u, b: dz.data, ldb: width,
                          beta: acc ? 1 : 0, c: gu.data, ldc: width)
            }
            if kernel.requiresGrad {
                let (gw, acc) = kernel.gradSlot()
                BLAS.gemm(transA: true, m: features, n: width, k: rows, a: x.value.data, lda: features,
                          b: dz.data, ldb: width, beta: acc ? 1 : 0, c: gw.data, ldc: width)
            }
            if let bias, bias.requiresGrad {
                let (gb, acc) = bias.gradSlot()
                if !acc { gb.zero() }
                let pb = gb.data, pz = dz.data
                for r in 0..<rows { let row = pz + r * width; for j in 0..<width { pb[j] += row[j] } }
            }
            if x.requiresGrad {
                let (gx, acc) = x.gradSlot()
                BLAS.gemm(transB: true, m: rows, n: features, k: width, a: dz.data, lda: width,
                          b: w.data, ldb: width, beta: acc ? 1 : 0, c: gx.data, ldc: features)
            }
            if let s = initialState {
                if s.hidden.requiresGrad { s.hidden.accumulateGrad(dh) }
                if s.cell.requiresGrad { s.cell.accumulateGrad(dc) }
            }
        }
        return LSTMOutput(output: output, finalHidden: finalHidden, finalCell: finalCell)
    }

    /// The last time step [B, u] of a batch-major [B, T, u] buffer.
    private static func lastStep(_ s: Tensor, units u: Int) -> Tensor {
        let batch = s.shape[0], steps = s.shape[1]
        let out = Tensor(uninitialized: [batch, u])
        for b in 0..<batch { (out.data + b * u).update(from: s.data + (b * steps + steps - 1) * u, count: u) }
        return out
    }
}
