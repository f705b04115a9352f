import TensorCore

extension Variable {
    /// Sum of all elements, a scalar of shape [].
    public func sum() -> Variable {
        var acc: Double = 0
        let p = value.data
        for i in 0..<count { acc += Double(p[i]) }
        let out = Tensor([Float(acc)], shape: [])
        return Variable.record(out, inputs: [self]) { [self] g in
            let (dst, acc) = gradSlot()
            let s = g.data[0], pd = dst.data
            if acc { for i in 0..<count { pd[i] += s } } else { dst.fill(s) }
        }
    }

    /// Mean of all elements, a scalar of shape [].
    public func mean() -> Variable { sum().scaled(by: 1 / Float(max(count, 1))) }

    /// Sum along one axis, which is removed (or kept with size 1).
    public func sum(axis: Int, keepDims: Bool = false) -> Variable {
        let ax = checkShape { try ShapeRules.axis(axis, rank: shape.count, op: "sum") }
        let outer = shape[..<ax].reduce(1, *), n = shape[ax], inner = shape[(ax + 1)...].reduce(1, *)
        var outShape = shape
        if keepDims { outShape[ax] = 1 } else { outShape.remove(at: ax) }
        let out = Tensor(zeros: outShape)
        let px = value.data, po = out.data
        for o in 0..<outer {
            for k in 0..<n {
                let src = px + (o * n + k) * inner, dst = po + o * inner
                for i in 0..<inner { dst[i] += src[i] }
            }
        }
        return Variable.record(out, inputs: [self]) { [self] g in
            let (dst, acc) = gradSlot()
            let pg = g.data, pd = dst.data
            for o in 0..<outer {
                for k in 0..<n {
                    let d = pd + (o * n + k) * inner, src = pg + o * inner
                    if acc { for i in 0..<inner { d[i] += src[i] } } else { d.update(from: src, count: inner) }
                }
            }
        }
    }

    /// Mean along one axis (e.g. GlobalAveragePooling1D over the sequence axis).
    public func mean(axis: Int, keepDims: Bool = false) -> Variable {
        let ax = checkShape { try ShapeRules.axis(axis, rank: shape.count, op: "mean") }
        return sum(axis: ax, keepDims: keepDims).scaled(by: 1 / Float(max(shape[ax], 1)))
    }
}
