import TensorCore

extension Variable {
    /// 2-D max pooling of NHWC input; strides default to the pool size (Keras).
    public func maxPool2d(poolSize: (Int, Int), strides: (Int, Int)? = nil, padding: Padding = .valid) -> Variable {
        pool(.max, "max_pool2d", [poolSize.0, poolSize.1], strides.map { [$0.0, $0.1] }, padding)
    }

    /// 2-D average pooling of NHWC input; padded positions are not counted in the average.
    public func avgPool2d(poolSize: (Int, Int), strides: (Int, Int)? = nil, padding: Padding = .valid) -> Variable {
        pool(.average, "avg_pool2d", [poolSize.0, poolSize.1], strides.map { [$0.0, $0.1] }, padding)
    }

    /// 1-D max pooling of NWC input [batch, steps, channels].
    public func maxPool1d(poolSize: Int, stride: Int? = nil, padding: Padding = .valid) -> Variable {
        pool(.max, "max_pool1d", [poolSize], stride.map { [$0] }, padding)
    }

    /// 1-D average pooling of NWC input [batch, steps, channels].
    public func avgPool1d(poolSize: Int, stride: Int? = nil, padding: Padding = .valid) -> Variable {
        pool(.average, "avg_pool1d", [poolSize], stride.map { [$0] }, padding)
    }

    /// One implementation for every rank and kind: forward saves the winners' offsets (max) so
    /// backward is a scatter of the output gradient.
    private func pool(_ kind: PoolingKind, _ op: String, _ window: [Int], _ strides: [Int]?, _ padding: Padding) -> Variable {
        let g = checkShape {
            try ShapeRules.pooling(op, input: Array(shape.dropFirst()), poolSize: window, strides: strides ?? window, padding: padding)
        }
        let x = self
        let y = Tensor(uninitialized: [shape[0]] + g.outputShape(channels: g.channels))
        let argmax = kind == .max ? Tensor(uninitialized: y.shape) : nil
        Pooling.forward(kind, x.value, g, into: y, argmax: argmax)
        return Variable.record(y, inputs: [x]) { dy in
            let (dx, acc) = x.gradSlot()
            Pooling.backward(kind, dy, argmax: argmax, g, into: dx, accumulate: acc)
        }
    }
}
