import TensorCore

extension Variable {
    /// relu(self + shortcut), fused: the closing step of a residual block. Both operands have
    /// the same shape; backward passes dy where the output is positive to both.
    public func addingReLU(_ shortcut: Variable) -> Variable {
        let a = self, b = shortcut
        _ = checkShape { try ShapeRules.residualAdd(a.shape, b.shape) }
        let y = Tensor(uninitialized: shape)
        Residual.addReLU(a.value.data, b.value.data, y.data, count: count)
        return Variable.record(y, inputs: [a, b]) { g in
            func pass(to v: Variable) {
                guard v.requiresGrad else { return }
                let (d, accumulate) = v.gradSlot()
                Residual.addReLUBackward(y: y.data, dy: g.data, d.data, count: y.count, accumulate: accumulate)
            }
            pass(to: a)
            pass(to: b)
        }
    }

    /// The parameter-free "option A" shortcut: NHWC subsampled by `stride`, channels zero-padded
    /// to `channels` (`ShapeRules.paddedShortcut`).
    public func paddedShortcut(stride: Int, channels: Int) -> Variable {
        let x = self
        let outShape = checkShape { try ShapeRules.paddedShortcut(x.shape, stride: stride, channels: channels) }
        let s = x.shape
        let y = Tensor(uninitialized: outShape)
        Residual.paddedShortcut(x.value.data, batch: s[0], height: s[1], width: s[2], channels: s[3], stride: stride, y.data, channels: channels)
        return Variable.record(y, inputs: [x]) { g in
            let (dx, accumulate) = x.gradSlot()
            Residual.paddedShortcutBackward(dy: g.data, batch: s[0], height: s[1], width: s[2], channels: s[3], stride: stride,
                                            channels: channels, dx: dx.data, accumulate: accumulate)
        }
    }
}
