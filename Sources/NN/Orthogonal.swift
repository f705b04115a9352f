import Autograd
import TensorCore

extension Initializer {
    /// Keras `Orthogonal` (the default recurrent-kernel initialiser): the shape is viewed as a
    /// matrix [∏ leading axes, last axis]; a normal matrix of the taller orientation is
    /// orthonormalised (modified Gram–Schmidt in Double, which gives the QR factor with a
    /// positive diagonal in R, i.e. Keras' q·sign(diag r)) and transposed back if needed, so
    /// the result has orthonormal rows or columns, scaled by `gain`. Seeded through `rng`.
    public static func fillOrthogonal(_ t: Tensor, gain: Float = 1, rng: inout RandomGenerator) {
        let cols = t.shape.last ?? 1, rows = t.count / max(cols, 1)
        let tall = max(rows, cols), narrow = min(rows, cols)
        // Column-major [tall, narrow]: column k is q[k*tall ..< (k+1)*tall].
        var q = [Double](repeating: 0, count: tall * narrow)
        for r in 0..<tall { for k in 0..<narrow { q[k * tall + r] = Double(rng.nextNormal()) } }
        q.withUnsafeMutableBufferPointer { q in
            for k in 0..<narrow {
                let v = q.baseAddress! + k * tall
                for j in 0..<k {
                    let e = q.baseAddress! + j * tall
                    var dot = 0.0
                    for r in 0..<tall { dot += e[r] * v[r] }
                    for r in 0..<tall { v[r] -= dot * e[r] }
                }
                var norm = 0.0
                for r in 0..<tall { norm += v[r] * v[r] }
                let inv = 1 / norm.squareRoot()
                for r in 0..<tall { v[r] *= inv }
            }
        }
        let p = t.data
        for r in 0..<rows {
            for c in 0..<cols {
                // rows ≥ cols: element (r, c) is q[r, c]; otherwise the transpose, q[c, r].
                let v = rows >= cols ? q[c * tall + r] : q[r * tall + c]
                p[r * cols + c] = gain * Float(v)
            }
        }
    }

    /// A new trainable parameter with an orthogonal initial value.
    public static func makeOrthogonalParameter(_ shape: [Int], name: String, gain: Float = 1,
                                               rng: inout RandomGenerator) throws -> Variable {
        try checkFitsInMemory(shape, name: name)
        let t = Tensor(uninitialized: shape)
        fillOrthogonal(t, gain: gain, rng: &rng)
        return Variable(t, requiresGrad: true, name: name)
    }
}
