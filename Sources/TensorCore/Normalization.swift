extension ShapeRules {
    /// Layer normalisation over the last axis: gamma and beta hold one value per feature.
    public static func layerNorm(_ x: [Int], gamma: [Int], beta: [Int]) throws -> [Int] {
        guard let n = x.last, n > 0 else {
            throw ShapeError("layer_norm", "input \(shapeString(x)) has no feature axis to normalise")
        }
        guard gamma == [n], beta == [n] else {
            throw ShapeError("layer_norm", "gamma \(shapeString(gamma)) and beta \(shapeString(beta)) should both be [\(n)] for input \(shapeString(x))")
        }
        return x
    }
}

/// Layer normalisation of rows of length `n`: y = (x − mean) · rstd · gamma + beta, with
/// rstd = 1 / sqrt(var + eps) and the biased variance (as Keras and PyTorch compute it).
/// Forward saves each row's mean and rstd so backward need not recompute them.
public enum LayerNorm {
    public static func forward(_ x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
                               _ y: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
                               rstd: UnsafeMutablePointer<Float>, rows: Int, n: Int, epsilon: Float) {
        let invN = 1 / Float(n)
        for r in 0..<rows {
            let xr = x + r * n, yr = y + r * n
            let m = VectorMath.sum(xr, count: n) * invN
            // Eight partial sums: a single running sum would serialise on the add's latency.
            var squares = VectorMath.Vector()
            VectorMath.forEachVector(n) { i, lanes in
                let d = VectorMath.load(xr + i, lanes, padding: m) - m
                squares += d * d
            }
            let rs = 1 / (squares.sum() * invN + epsilon).squareRoot()
            mean[r] = m
            rstd[r] = rs
            VectorMath.forEachVector(n) { i, lanes in
                let xhat = (VectorMath.load(xr + i, lanes) - m) * rs
                VectorMath.store(xhat * VectorMath.load(gamma + i, lanes) + VectorMath.load(beta + i, lanes), yr + i, lanes)
            }
        }
    }

    /// With x̂ the normalised input and ĝ = dy ⊙ gamma:
    /// dx = rstd · (ĝ − mean(ĝ) − x̂ · mean(ĝ ⊙ x̂)), written or (`accumulateX`) added;
    /// dGamma += Σ_rows dy ⊙ x̂ and dBeta += Σ_rows dy, always added (pass zeroed buffers for a
    /// first contribution). A nil pointer skips that gradient.
    public static func backward(x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, mean: UnsafePointer<Float>,
                                rstd: UnsafePointer<Float>, dy: UnsafePointer<Float>, rows: Int, n: Int,
                                dx: UnsafeMutablePointer<Float>?, accumulateX: Bool,
                                dGamma: UnsafeMutablePointer<Float>?, dBeta: UnsafeMutablePointer<Float>?) {
        let invN = 1 / Float(n)
        for r in 0..<rows {
            let xr = x + r * n, gr = dy + r * n
            let m = mean[r], rs = rstd[r]
            @inline(__always) func normalised(_ i: Int, _ lanes: Int) -> VectorMath.Vector { (VectorMath.load(xr + i, lanes) - m) * rs }
            if let dGamma {
                VectorMath.forEachVector(n) { i, lanes in
                    let g = VectorMath.load(gr + i, lanes) * normalised(i, lanes)
                    VectorMath.store(VectorMath.load(dGamma + i, lanes) + g, dGamma + i, lanes)
                }
            }
            if let dBeta {
                VectorMath.forEachVector(n) { i, lanes in
                    VectorMath.store(VectorMath.load(dBeta + i, lanes) + VectorMath.load(gr + i, lanes), dBeta + i, lanes)
                }
            }
            guard let dx else { continue }
            var sumG = VectorMath.Vector(), sumGX = VectorMath.Vector()
            VectorMath.forEachVector(n) { i, lanes in
                let gh = VectorMath.load(gr + i, lanes) * VectorMath.load(gamma + i, lanes)
                sumG += gh
                sumGX += gh * normalised(i, lanes)
            }
            let a = sumG.sum() * invN, b = sumGX.sum() * invN
            let dr = dx + r * n
            VectorMath.forEachVector(n) { i, lanes in
                let d = rs * (VectorMath.load(gr + i, lanes) * VectorMath.load(gamma + i, lanes) - a - normalised(i, lanes) * b)
                VectorMath.store(accumulateX ? VectorMath.load(dr + i, lanes) + d : d, dr + i, lanes)
            }
        }
    }
}
