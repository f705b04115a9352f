import TensorCore

extension Variable {
    /// Matrix product of two 2-D variables, optionally transposed; one `cblas_sgemm` forward
    /// and one per operand that needs a gradient backward.
    public func matmul(_ other: Variable, transposeSelf: Bool = false, transposeOther: Bool = false) -> Variable {
        let a = self, b = other
        let outShape = checkShape { try ShapeRules.matmul(a.shape, b.shape, transposeA: transposeSelf, transposeB: transposeOther) }
        let out = Tensor(uninitialized: outShape)
        BLAS.matmul(a.value, b.value, transA: transposeSelf, transB: transposeOther, into: out)
        return Variable.record(out, inputs: [a, b]) { g in
            if a.requiresGrad {
                let (ga, acc) = a.gradSlot()
                // a = op(A): dA = g·op(B)ᵀ, or (g·op(B)ᵀ)ᵀ = op(B)·gᵀ when A was transposed.
                if transposeSelf {
                    BLAS.matmul(b.value, g, transA: transposeOther, transB: true, beta: acc ? 1 : 0, into: ga)
                } else {
                    BLAS.matmul(g, b.value, transA: false, transB: !transposeOther, beta: acc ? 1 : 0, into: ga)
                }
            }
            if b.requiresGrad {
                let (gb, acc) = b.gradSlot()
                if transposeOther {
                    BLAS.matmul(g, a.value, transA: true, transB: transposeSelf, beta: acc ? 1 : 0, into: gb)
                } else {
                    BLAS.matmul(a.value, g, transA: !transposeSelf, transB: false, beta: acc ? 1 : 0, into: gb)
                }
            }
        }
    }

    /// The fused dense layer: `activation(x · W + b)` for `x` of shape `[..., in]`, `W` of
    /// shape `[in, out]` and `b` of shape `[out]`. Forward is one GEMM plus one pass for bias
    /// and activation; backward is one pass for the activation derivative and two GEMMs, with
    /// the bias gradient as a column sum.
    public func dense(weight: Variable, bias: Variable?, activation kind: ActivationKind = .linear) -> Variable {
        let x = self
        guard let inFeatures = shape.last else { fatalError("dense: input is a scalar") }
        let rows = count / max(inFeatures, 1)
        _ = checkShape { try ShapeRules.matmul([rows, inFeatures], weight.shape) }
        let units = weight.shape[1]
        if let bias { precondition(bias.shape == [units], "dense: bias \(shapeString(bias.shape)) should be [\(units)]") }
        let outShape = Array(shape.dropLast()) + [units]
        let y = Tensor(uninitialized: outShape)
        if let bias {
            let pb = bias.value.data, py = y.data
            for r in 0..<rows { (py + r * units).update(from: pb, count: units) }
        }
        BLAS.gemm(m: rows, n: units, k: inFeatures, a: x.value.data, lda: inFeatures,
                  b: weight.value.data, ldb: units, beta: bias == nil ? 0 : 1, c: y.data, ldc: units)
        // Activations whose derivative is a function of their output are applied in place;
        // gelu keeps the pre-activation for its backward.
        let z = kind.derivativeFromOutput ? y : y.copy()
        kind.forward(z.data, y.data, y.count)
        let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
        return Variable.record(y, inputs: inputs) { g in
            var gz = g
            if kind != .linear {
                gz = Tensor(uninitialized: g.shape)
                kind.backward(x: z.data, y: y.data, dy: g.data, dx: gz.data, g.count, accumulate: false)
            }
            if weight.requiresGrad {
                let (gw, acc) = weight.gradSlot()
                if BLAS.gemm(transA: true, m: inFeatures, n: units, k: rows, a: x.value.data, lda: inFeatures,
                             b: gz.data, ldb: units, beta: acc ? 1 : 0, c: gw.data, ldc: units) {
                    weight.markGradChecked()
                }
            }
            if let bias, bias.requiresGrad {
                let (gb, acc) = bias.gradSlot()
                let pg = gz.data, pb = gb.data
                if !acc { gb.zero() }
                for r in 0..<rows { let row = pg + r * units; for j in 0..<units { pb[j] += row[j] } }
            }
            if x.requiresGrad {
                let (gx, acc) = x.gradSlot()
                BLAS.gemm(transB: true, m: rows, n: inFeatures, k: units, a: gz.data, lda: units,
                          b: weight.value.data, ldb: units, beta: acc ? 1 : 0, c: gx.data, ldc: inFeatures)
            }
        }
    }
}
