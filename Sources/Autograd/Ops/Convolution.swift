import TensorCore

extension Variable {
    /// The fused 2-D convolution layer: `activation(conv2d(x, kernel) + bias)` for NHWC input
    /// `x` [batch, height, width, cin], `kernel` [kh, kw, cin, cout] and `bias` [cout], with
    /// Keras' strides and padding. Forward is im2col, a GEMM onto the broadcast bias and the
    /// activation; backward is the activation derivative, the bias sum and one GEMM per operand
    /// that needs a gradient — all done chunk by chunk in cache (see `Convolution`).
    public func conv2d(kernel: Variable, bias: Variable? = nil, strides: (Int, Int) = (1, 1), padding: Padding = .valid,
                       activation kind: ActivationKind = .linear) -> Variable {
        convolution(kernel: kernel, bias: bias, geometry: geometry(kernel: kernel, strides: [strides.0, strides.1], padding: padding),
                    activation: kind)
    }

    /// 1-D convolution of NWC input [batch, steps, cin] with a kernel [k, cin, cout]: the same
    /// op as `conv2d` on images of height 1 (the kernel's memory is already [1, k, cin, cout]).
    public func conv1d(kernel: Variable, bias: Variable? = nil, stride: Int = 1, padding: Padding = .valid,
                       activation kind: ActivationKind = .linear) -> Variable {
        convolution(kernel: kernel, bias: bias, geometry: geometry(kernel: kernel, strides: [stride], padding: padding), activation: kind)
    }

    /// A 2-D (two window sizes) or 1-D (one) convolution followed by max pooling of `poolSize`
    /// with stride = pool size and valid padding, as one fused op (`Convolution.forwardMaxPooled`:
    /// the convolution's output never reaches memory); the same result as `conv2d(…)` then
    /// `maxPool2d(…)`. Nil when the pair does not qualify (`Convolution.fusesWithMaxPool`).
    public func convolutionMaxPooled(kernel: Variable, bias: Variable?, strides: [Int], padding: Padding,
                                     activation kind: ActivationKind, poolSize: [Int]) -> Variable? {
        guard poolSize.count == strides.count else { return nil }
        let g = geometry(kernel: kernel, strides: strides, padding: padding)
        let filters = kernel.shape.last!
        guard let p = try? ShapeRules.pooling("max_pool", input: g.outputShape(channels: filters), poolSize: poolSize,
                                              strides: poolSize, padding: .valid),
              Convolution.fusesWithMaxPool(activation: kind, pool: p) else { return nil }
        if let bias { precondition(bias.shape == [filters], "conv: bias \(shapeString(bias.shape)) should be [\(filters)]") }
        let x = self
        let y = Tensor(uninitialized: [shape[0]] + p.outputShape(channels: filters))
        let taps = Tensor(uninitialized: [Convolution.maxPoolTapFloats(y.count)])
        Convolution.forwardMaxPooled(x.value, kernel: kernel.value, bias: bias?.value, activation: kind, g, pool: p, into: y, taps: taps)
        let inputs = bias.map { [x, kernel, $0] } ?? [x, kernel]
        return Variable.record(y, inputs: inputs) { dy in
            Convolution.backwardMaxPooled(dy, x: x.value, kernel: kernel.value, y: y, taps: taps, activation: kind, g, pool: p,
                                          inputGradient: x.requiresGrad ? x.gradSlot() : nil,
                                          kernelGradient: kernel.requiresGrad ? kernel.gradSlot() : nil,
                                          biasGradient: bias.flatMap { $0.requiresGrad ? $0.gradSlot() : nil })
        }
    }

    /// Geometry of a convolution of this [batch, …] input: 2-D for two strides, 1-D for one.
    private func geometry(kernel: Variable, strides: [Int], padding: Padding) -> WindowGeometry {
        checkShape {
            strides.count == 2
                ? try ShapeRules.conv2d(input: Array(shape.dropFirst()), kernel: kernel.shape, strides: strides, padding: padding)
                : try ShapeRules.conv1d(input: Array(shape.dropFirst()), kernel: kernel.shape, stride: strides[0], padding: padding)
        }
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
