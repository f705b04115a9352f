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
            var s: Float = 0
            for j in 0..<n { s += xr[j] }
            let m = s * invN
            var v: Float = 0
            for j in 0..<n { let d = xr[j] - m; v += d * d }
            let rs = 1 / (v * invN + epsilon).squareRoot()
            mean[r] = m
            rstd[r] = rs
            for j in 0..<n { yr[j] = (xr[j] - m) * rs * gamma[j] + beta[j] }
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
            if let dGamma { for j in 0..<n { dGamma[j] += gr[j] * (xr[j] - m) * rs } }
            if let dBeta { for j in 0..<n { dBeta[j] += gr[j] } }
            guard let dx else { continue }
            var sumG: Float = 0, sumGX: Float = 0
            for j in 0..<n {
                let gh = gr[j] * gamma[j]
                sumG += gh
                sumGX += gh * (xr[j] - m) * rs
            }
            let a = sumG * invN, b = sumGX * invN
            let dr = dx + r * n
            if accumulateX {
                for j in 0..<n { dr[j] += rs * (gr[j] * gamma[j] - a - (xr[j] - m) * rs * b) }
            } else {
                for j in 0..<n { dr[j] = rs * (gr[j] * gamma[j] - a - (xr[j] - m) * rs * b) }
            }
        }
    }
}
