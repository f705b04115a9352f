import TensorCore

extension Variable {
    /// The fused 2-D convolution layer: `activation(conv2d(x, kernel) + bias)` for NHWC input
    /// `x` [batch, height, width, cin], `kernel` [kh, kw, cin, cout] and `bias` [cout], with
    /// Keras' strides and padding. Forward is im2col, one GEMM onto the broadcast bias and one
    /// activation pass; backward is one activation-derivative pass fused with the bias sum and
    /// one GEMM per operand that needs a gradient.
    public func conv2d(kernel: Variable, bias: Variable? = nil, strides: (Int, Int) = (1, 1), padding: Padding = .valid,
                       activation kind: ActivationKind = .linear) -> Variable {
        let g = checkShape {
            try ShapeRules.conv2d(input: Array(shape.dropFirst()), kernel: kernel.shape, strides: [strides.0, strides.1], padding: padding)
        }
        return convolution(kernel: kernel, bias: bias, geometry: g, activation: kind)
    }

    /// 1-D convolution of NWC input [batch, steps, cin] with a kernel [k, cin, cout]: the same
    /// op as `conv2d` on images of height 1 (the kernel's memory is already [1, k, cin, cout]).
    public func conv1d(kernel: Variable, bias: Variable? = nil, stride: Int = 1, padding: Padding = .valid,
                       activation kind: ActivationKind = .linear) -> Variable {
        let g = checkShape {
            try ShapeRules.conv1d(input: Array(shape.dropFirst()), kernel: kernel.shape, stride: stride, padding: padding)
        }
        return convolution(kernel: kernel, bias: bias, geometry: g, activation: kind)
    }

    private func convolution(kernel: Variable, bias: Variable?, geometry g: WindowGeometry, activation kind: ActivationKind) -> Variable {
        let x = self, filters = kernel.shape.last!
        if let bias { precondition(bias.shape == [filters], "conv: bias \(shapeString(bias.shape)) should be [\(filters)]") }
        let y = Tensor(uninitialized: [shape[0]] + g.outputShape(channels: filters))
        let columns = Convolution.forward(x.value, kernel: kernel.value, bias: bias?.value, g, into: y)
        // Activations whose derivative is a function of their output are applied in place;
        // gelu keeps the pre-activation for its backward.
        let z = kind.derivativeFromOutput ? y : y.copy()
        kind.forward(z.data, y.data, y.count)
        // The column matrix is only needed for the kernel gradient: a frozen kernel frees it now.
        let savedColumns = kernel.requiresGrad ? columns : nil
        let inputs = bias.map { [x, kernel, $0] } ?? [x, kernel]
        return Variable.record(y, inputs: inputs) { dy in
            let rows = dy.count / filters
            var dz = dy
            if kind != .linear || bias?.requiresGrad == true {
                dz = kind == .linear ? dy : Tensor(uninitialized: dy.shape)
                let biasSlot = bias.flatMap { $0.requiresGrad ? $0.gradSlot() : nil }
                Variable.activationAndBiasBackward(kind, z: z, y: y, dy: dy, into: dz, rows: rows, filters: filters, bias: biasSlot)
            }
            if kernel.requiresGrad, let savedColumns {
                let (dk, acc) = kernel.gradSlot()
                Convolution.kernelGradient(columns: savedColumns, dz, into: dk, accumulate: acc)
            }
            if x.requiresGrad {
                let (dx, acc) = x.gradSlot()
                Convolution.inputGradient(dz, kernel: kernel.value, g, into: dx, accumulate: acc)
            }
        }
    }

    /// dz = dy ⊙ f′ and the bias gradient (column sums of dz), computed block by block so each
    /// block of dz is summed while it is still in L1 cache instead of in a second pass.
    private static func activationAndBiasBackward(_ kind: ActivationKind, z: Tensor, y: Tensor, dy: Tensor, into dz: Tensor,
                                                  rows: Int, filters: Int, bias: (grad: Tensor, accumulate: Bool)?) {
        if let bias, !bias.accumulate { bias.grad.zero() }
        let block = max(1, 2048 / filters)
        var r = 0
        while r < rows {
            let n = min(block, rows - r), o = r * filters
            if kind != .linear {
                kind.backward(x: z.data + o, y: y.data + o, dy: dy.data + o, dx: dz.data + o, n * filters, accumulate: false)
            }
            if let bias { Convolution.biasGradient(dz.data + o, rows: n, filters: filters, into: bias.grad.data, accumulate: true) }
            r += n
        }
    }
}
