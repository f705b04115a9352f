/// Elementwise kernels: broadcasting binary arithmetic, activations and their derivatives, and
/// the reduction that folds a broadcast gradient back onto its operand's shape.

public enum BinaryOp: Sendable { case add, sub, mul, div }

public enum Elementwise {
    /// Visits the output of a broadcast in rows of its last dimension. For each row the body
    /// gets the output offset, each operand's offset and each operand's stride along the row
    /// (0 where that operand is broadcast along the last axis, else 1).
    @inline(__always)
    static func forEachRow(_ out: [Int], _ sa: [Int], _ sb: [Int],
                           _ body: (_ o: Int, _ a: Int, _ b: Int, _ n: Int, _ ia: Int, _ ib: Int) -> Void) {
        let r = out.count
        if r == 0 { body(0, 0, 0, 1, 0, 0); return }
        let n = out[r - 1]
        let rows = out.count > 1 ? out[0..<(r - 1)].reduce(1, *) : 1
        var idx = [Int](repeating: 0, count: max(r - 1, 0))
        var oa = 0, ob = 0
        for row in 0..<rows {
            body(row * n, oa, ob, n, sa[r - 1], sb[r - 1])
            var d = r - 2
            while d >= 0 {
                idx[d] += 1
                oa += sa[d]; ob += sb[d]
                if idx[d] < out[d] { break }
                oa -= sa[d] * idx[d]; ob -= sb[d] * idx[d]
                idx[d] = 0
                d -= 1
            }
        }
    }

    /// Strides of `shape` viewed as broadcast to `out` (0 along broadcast axes).
    static func broadcastStrides(_ shape: [Int], to out: [Int]) -> [Int] {
        let pad = out.count - shape.count
        let s = strides(of: shape)
        return (0..<out.count).map { i in i < pad || shape[i - pad] == 1 ? 0 : s[i - pad] }
    }

    /// out = a ⊙ b with NumPy broadcasting; `out` must have the broadcast shape.
    public static func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, into out: Tensor) {
        let shape = checkShape { try ShapeRules.broadcast(a.shape, b.shape, op: "\(op)") }
        precondition(out.count == shape.reduce(1, *), "\(op): output \(shapeString(out.shape)) should be \(shapeString(shape))")
        let pa = a.data, pb = b.data, po = out.data
        if a.count == b.count && a.count == out.count {
            apply(op, pa, 1, pb, 1, po, out.count)
            return
        }
        forEachRow(shape, broadcastStrides(a.shape, to: shape), broadcastStrides(b.shape, to: shape)) { o, ia, ib, n, sa, sb in
            apply(op, pa + ia, sa, pb + ib, sb, po + o, n)
        }
    }

    @inline(__always)
    static func apply(_ op: BinaryOp, _ a: UnsafePointer<Float>, _ sa: Int, _ b: UnsafePointer<Float>, _ sb: Int,
                      _ o: UnsafeMutablePointer<Float>, _ n: Int) {
        switch (op, sa, sb) {
        case (.add, 1, 1): for i in 0..<n { o[i] = a[i] + b[i] }
        case (.sub, 1, 1): for i in 0..<n { o[i] = a[i] - b[i] }
        case (.mul, 1, 1): for i in 0..<n { o[i] = a[i] * b[i] }
        case (.div, 1, 1): for i in 0..<n { o[i] = a[i] / b[i] }
        case (.add, 1, 0): let s = b[0]; for i in 0..<n { o[i] = a[i] + s }
        case (.sub, 1, 0): let s = b[0]; for i in 0..<n { o[i] = a[i] - s }
        case (.mul, 1, 0): let s = b[0]; for i in 0..<n { o[i] = a[i] * s }
        case (.div, 1, 0): let s = b[0]; for i in 0..<n { o[i] = a[i] / s }
        case (.add, 0, _): let s = a[0]; for i in 0..<n { o[i] = s + b[i * sb] }
        case (.sub, 0, _): let s = a[0]; for i in 0..<n { o[i] = s - b[i * sb] }
        case (.mul, 0, _): let s = a[0]; for i in 0..<n { o[i] = s * b[i * sb] }
        case (.div, 0, _): let s = a[0]; for i in 0..<n { o[i] = s / b[i * sb] }
        default: fatalError("unreachable stride pattern")
        }
    }

    /// dst (shape `dst.shape`, broadcastable to `src.shape`) = beta·dst + sum of `src` over the
    /// broadcast axes. This is the backward of broadcasting.
    public static func reduceSum(_ src: Tensor, into dst: Tensor, beta: Float) {
        let out = src.shape
        precondition((try? ShapeRules.broadcast(dst.shape, out)) == out,
                      "reduceSum: \(shapeString(dst.shape)) does not broadcast to \(shapeString(out))")
        let pd = dst.data, ps = src.data
        if beta == 0 { dst.zero() } else if beta != 1 { for i in 0..<dst.count { pd[i] *= beta } }
        if dst.count == src.count {
            BLAS.axpy(src.count, 1, ps, pd)
            return
        }
        let sd = broadcastStrides(dst.shape, to: out)
        forEachRow(out, sd, strides(of: out)) { _, id, isrc, n, s, _ in
            let p = ps + isrc
            if s == 1 {
                for i in 0..<n { pd[id + i] += p[i] }
            } else {
                var acc: Float = 0
                for i in 0..<n { acc += p[i] }
                pd[id] += acc
            }
        }
    }

    public static func scale(_ x: Tensor, by s: Float, into out: Tensor) {
        let px = x.data, po = out.data
        for i in 0..<x.count { po[i] = px[i] * s }
    }

    /// out (beta = 0) or out += (beta = 1) the elementwise product a·b of equal-sized tensors.
    public static func multiply(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into o: UnsafeMutablePointer<Float>, count n: Int, accumulate: Bool) {
        if accumulate { for i in 0..<n { o[i] += a[i] * b[i] } } else { for i in 0..<n { o[i] = a[i] * b[i] } }
    }
}

/// Pointwise activation functions, forward and derivative side by side.
public enum ActivationKind: Equatable, Sendable, CustomStringConvertible {
    case linear, relu, sigmoid, tanh, gelu
    case leakyRelu(alpha: Float)

    public var description: String {
        switch self {
        case .linear: return "linear"
        case .relu: return "relu"
        case .sigmoid: return "sigmoid"
        case .tanh: return "tanh"
        case .gelu: return "gelu"
        case .leakyRelu(let a): return "leaky_relu(\(a))"
        }
    }

    /// y = f(x) over `n` elements (x and y may alias).
    public func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        // In place (x == y) a two-pointer loop fails LLVM's overlap check and runs scalar, so
        // that case gets a one-pointer loop.
        @inline(__always) func map(_ f: (Float) -> Float) {
            if UnsafePointer(y) == x { for i in 0..<n { y[i] = f(y[i]) } } else { for i in 0..<n { y[i] = f(x[i]) } }
        }
        switch self {
        case .linear: if UnsafePointer(y) != x { y.update(from: x, count: n) }
        case .relu: map { max($0, 0) }
        case .leakyRelu(let a): map { $0 > 0 ? $0 : a * $0 }
        case .sigmoid: VectorMath.sigmoid(x, y, count: n)
        case .tanh: VectorMath.tanh(x, y, count: n)
        case .gelu: VectorMath.map(x, y, count: n) { $0 * VectorMath.normalCDF($0) }
        }
    }

    /// dx (+)= dy · f'(x), using the saved input x and output y (whichever the derivative needs).
    public func backward(x: UnsafePointer<Float>, y: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                         dx: UnsafeMutablePointer<Float>, _ n: Int, accumulate: Bool) {
        // The accumulate branch is hoisted out of the loops so that each loop vectorises.
        @inline(__always) func each(_ f: (Int) -> Float) {
            if accumulate { for i in 0..<n { dx[i] += f(i) } } else { for i in 0..<n { dx[i] = f(i) } }
        }
        switch self {
        case .linear: each { dy[$0] }
        case .relu: each { let g = dy[$0]; return y[$0] > 0 ? g : 0 }  // unconditional load: a select, not a branch
        case .leakyRelu(let a): each { x[$0] > 0 ? dy[$0] : a * dy[$0] }
        case .sigmoid: each { let s = y[$0]; return dy[$0] * s * (1 - s) }
        case .tanh: each { let t = y[$0]; return dy[$0] * (1 - t * t) }
        case .gelu:
            VectorMath.update(dx, count: n, accumulate: accumulate) { i, lanes in
                let v = VectorMath.load(x + i, lanes)
                let pdf = VectorMath.exp(-0.5 * v * v) * 0.39894228040143268
                return VectorMath.load(dy + i, lanes) * (VectorMath.normalCDF(v) + v * pdf)
            }
        }
    }

    /// Whether the derivative can be computed from the output alone, so the activation can be
    /// applied in place (leaky relu with a positive slope keeps the sign of its input).
    public var derivativeFromOutput: Bool {
        switch self {
        case .gelu: return false
        case .leakyRelu(let a): return a > 0
        default: return true
        }
    }
}
