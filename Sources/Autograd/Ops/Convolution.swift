import TensorCore

extension Variable {
    /// The fused 2-D convolution layer: `activation(conv2d(x, kernel) + bias)` for NHWC input
    /// `x` [batch, height, width, cin], `kernel` [kh, kw, cin, cout] and `bias` [cout], with
    /// Keras' strides and padding. Forward is im2col, a GEMM onto the broadcast bias and the
    /// activation; backward is the activation derivative, the bias sum and one GEMM per operand
    /// that needs a gradient — all done chunk by chunk in cache (see `Convolution`).
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
        // Activations whose derivative is a function of their output are applied in place;
        // gelu keeps the pre-activation for its backward.
        let z = kind.derivativeFromOutput ? nil : Tensor(uninitialized: y.shape)
        Convolution.forward(x.value, kernel: kernel.value, bias: bias?.value, activation: kind, g, into: y, preActivation: z)
        let inputs = bias.map { [x, kernel, $0] } ?? [x, kernel]
        return Variable.record(y, inputs: inputs) { dy in
            // Gradients are only computed for operands that need them: the first layer's input
            // gets no input-gradient GEMM or col2im, a frozen kernel no kernel GEMM.
            Convolution.backward(dy, x: x.value, kernel: kernel.value, y: y, preActivation: z, activation: kind, g,
                                 inputGradient: x.requiresGrad ? x.gradSlot() : nil,
                                 kernelGradient: kernel.requiresGrad ? kernel.gradSlot() : nil,
                                 biasGradient: bias.flatMap { $0.requiresGrad ? $0.gradSlot() : nil })
        }
    }
}
