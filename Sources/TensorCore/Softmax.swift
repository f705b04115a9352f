/// Softmax and log-softmax along the last axis, numerically stable (max subtracted), with their
/// backward passes side by side.
public enum Softmax {
    /// y = softmax(x) row by row, rows of length `n`. x and y may alias.
    public static func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, n: Int) {
        for r in 0..<rows {
            let xr = x + r * n, yr = y + r * n
            var m = -Float.infinity
            for j in 0..<n { m = max(m, xr[j]) }
            var s: Float = 0
            for j in 0..<n { let e = fexp(xr[j] - m); yr[j] = e; s += e }
            let inv = 1 / s
            for j in 0..<n { yr[j] *= inv }
        }
    }

    /// dx (+)= y ⊙ (dy − Σ dy·y) row by row.
    public static func backward(y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
                                rows: Int, n: Int, accumulate: Bool) {
        for r in 0..<rows {
            let yr = y + r * n, gr = dy + r * n, dr = dx + r * n
            var dot: Float = 0
            for j in 0..<n { dot += gr[j] * yr[j] }
            if accumulate { for j in 0..<n { dr[j] += yr[j] * (gr[j] - dot) } }
            else { for j in 0..<n { dr[j] = yr[j] * (gr[j] - dot) } }
        }
    }

    /// y = log softmax(x) row by row. x and y may alias.
    public static func logForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, n: Int) {
        for r in 0..<rows {
            let xr = x + r * n, yr = y + r * n
            var m = -Float.infinity
            for j in 0..<n { m = max(m, xr[j]) }
            var s: Float = 0
            for j in 0..<n { s += fexp(xr[j] - m) }
            let lse = m + flog(s)
            for j in 0..<n { yr[j] = xr[j] - lse }
        }
    }

    /// dx (+)= dy − softmax(x) · Σ dy, from the saved log-softmax output y.
    public static func logBackward(y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
                                   rows: Int, n: Int, accumulate: Bool) {
        for r in 0..<rows {
            let yr = y + r * n, gr = dy + r * n, dr = dx + r * n
            var s: Float = 0
            for j in 0..<n { s += gr[j] }
            if accumulate { for j in 0..<n { dr[j] += gr[j] - fexp(yr[j]) * s } }
            else { for j in 0..<n { dr[j] = gr[j] - fexp(yr[j]) * s } }
        }
    }
}
