/// Softmax and log-softmax along the last axis, numerically stable (max subtracted), with their
/// backward passes side by side. Rows go through `VectorMath`: the exponentials, and the row
/// reductions, which as plain loops would stay scalar (LLVM does not reorder float sums).
public enum Softmax {
    /// y = softmax(x) row by row, rows of length `n`. x and y may alias.
    public static func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, n: Int) {
        for r in 0..<rows {
            let xr = x + r * n, yr = y + r * n
            let m = VectorMath.max(xr, count: n)
            let inv = 1 / VectorMath.sumOfExp(xr, minus: m, count: n, into: yr)
            VectorMath.map(yr, yr, count: n) { $0 * inv }
        }
    }

    /// dx (+)= y ⊙ (dy − Σ dy·y) row by row. dx may alias dy.
    public static func backward(y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
                                rows: Int, n: Int, accumulate: Bool) {
        for r in 0..<rows {
            let yr = y + r * n, gr = dy + r * n
            let dot = VectorMath.dot(gr, yr, count: n)
            VectorMath.update(dx + r * n, count: n, accumulate: accumulate) { i, lanes in
                VectorMath.load(yr + i, lanes) * (VectorMath.load(gr + i, lanes) - dot)
            }
        }
    }

    /// y = log softmax(x) row by row. x and y may alias.
    public static func logForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, n: Int) {
        for r in 0..<rows {
            let xr = x + r * n
            let m = VectorMath.max(xr, count: n)
            let lse = m + flog(VectorMath.sumOfExp(xr, minus: m, count: n))
            VectorMath.map(xr, y + r * n, count: n) { $0 - lse }
        }
    }

    /// dx (+)= dy − softmax(x) · Σ dy, from the saved log-softmax output y.
    public static func logBackward(y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
                                   rows: Int, n: Int, accumulate: Bool) {
        for r in 0..<rows {
            let yr = y + r * n, gr = dy + r * n
            let s = VectorMath.sum(gr, count: n)
            VectorMath.update(dx + r * n, count: n, accumulate: accumulate) { i, lanes in
                VectorMath.load(gr + i, lanes) - VectorMath.exp(VectorMath.load(yr + i, lanes)) * s
            }
        }
    }
}
