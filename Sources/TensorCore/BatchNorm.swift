extension ShapeRules {
    /// Batch normalisation, channels last: per-sample [features], [steps, channels] or
    /// [height, width, channels]; gamma and beta hold one value per channel.
    public static func batchNorm(_ x: [Int], channels: Int) throws -> [Int] {
        guard (2...4).contains(x.count), x.last == channels, channels > 0 else {
            throw ShapeError("batch_norm", "input \(shapeString(x)) should be [batch, \(channels)], [batch, steps, \(channels)] or [batch, height, width, \(channels)]")
        }
        return x
    }
}

/// Batch normalisation over a `rows × channels` matrix (NHWC flattened: every axis but the
/// channel is a row): y = (x − mean) · rstd · gamma + beta with per-channel mean, the biased
/// variance and rstd = 1 / sqrt(var + eps), as Keras computes them.
///
/// The statistics are split into per-channel partial sums so that replicas can add theirs
/// (SyncBatchNorm) between the steps: the mean from Σx, then the variance from Σ(x − mean)²
/// (two passes, which does not lose precision the way Σx² − n·mean² does). Every loop runs
/// over the channels innermost, stride 1, so it vectorises.
public enum BatchNorm {
    /// sums[c] = Σ_rows x[r, c].
    public static func channelSums(_ x: UnsafePointer<Float>, rows: Int, channels c: Int, into sums: UnsafeMutablePointer<Float>) {
        sums.update(repeating: 0, count: c)
        for r in 0..<rows {
            let xr = x + r * c
            for j in 0..<c { sums[j] += xr[j] }
        }
    }

    /// sums[c] = Σ_rows (x[r, c] − mean[c])².
    public static func centeredSquareSums(_ x: UnsafePointer<Float>, mean: UnsafePointer<Float>, rows: Int, channels c: Int,
                                          into sums: UnsafeMutablePointer<Float>) {
        sums.update(repeating: 0, count: c)
        for r in 0..<rows {
            let xr = x + r * c
            for j in 0..<c { let d = xr[j] - mean[j]; sums[j] += d * d }
        }
    }

    /// y = x · scale + shift per channel, with scale = rstd · gamma and shift = beta − mean · scale
    /// (`scale` and `shift` are c-element workspaces).
    public static func normalize(_ x: UnsafePointer<Float>, mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                                 gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                                 rows: Int, channels c: Int, scale: UnsafeMutablePointer<Float>, shift: UnsafeMutablePointer<Float>) {
        for j in 0..<c {
            scale[j] = rstd[j] * gamma[j]
            shift[j] = beta[j] - mean[j] * scale[j]
        }
        for r in 0..<rows {
            let xr = x + r * c, yr = y + r * c
            for j in 0..<c { yr[j] = xr[j] * scale[j] + shift[j] }
        }
    }

    /// moving ← moving · momentum + batch · (1 − momentum) (Keras' update).
    public static func updateMoving(_ moving: UnsafeMutablePointer<Float>, batch: UnsafePointer<Float>, momentum: Float, count c: Int) {
        for j in 0..<c { moving[j] = moving[j] * momentum + batch[j] * (1 - momentum) }
    }

    /// The two per-channel reductions of backward: sumDy[c] = Σ dy and sumDyXhat[c] = Σ dy · x̂,
    /// with x̂ = (x − mean) · rstd recomputed from the input.
    public static func backwardSums(x: UnsafePointer<Float>, mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                                    dy: UnsafePointer<Float>, rows: Int, channels c: Int,
                                    sumDy: UnsafeMutablePointer<Float>, sumDyXhat: UnsafeMutablePointer<Float>) {
        sumDy.update(repeating: 0, count: c)
        sumDyXhat.update(repeating: 0, count: c)
        for r in 0..<rows {
            let xr = x + r * c, gr = dy + r * c
            for j in 0..<c {
                sumDy[j] += gr[j]
                sumDyXhat[j] += gr[j] * (xr[j] - mean[j])
            }
        }
        for j in 0..<c { sumDyXhat[j] *= rstd[j] }
    }

    /// dx = gamma · rstd · (dy − Σdy / n − x̂ · Σ(dy·x̂) / n), written or (`accumulate`) added,
    /// where the sums and the count `n` are over every row that shared the statistics (all
    /// replicas' rows under SyncBatchNorm). `a`, `b` and `k` are c-element workspaces.
    public static func backwardInput(x: UnsafePointer<Float>, mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                                     gamma: UnsafePointer<Float>, dy: UnsafePointer<Float>, sumDy: UnsafePointer<Float>,
                                     sumDyXhat: UnsafePointer<Float>, count n: Float, rows: Int, channels c: Int,
                                     dx: UnsafeMutablePointer<Float>, accumulate: Bool,
                                     workspace w: UnsafeMutablePointer<Float>) {
        // dx = k · dy − k · rstd · (x − mean) · Σ(dy·x̂)/n − k · Σdy/n with k = gamma · rstd:
        // one multiply-add pair per element with per-channel coefficients.
        let k = w, a = w + c, b = w + 2 * c
        for j in 0..<c {
            k[j] = gamma[j] * rstd[j]
            a[j] = k[j] * rstd[j] * sumDyXhat[j] / n
            b[j] = k[j] * sumDy[j] / n - a[j] * mean[j]
        }
        for r in 0..<rows {
            let xr = x + r * c, gr = dy + r * c, dr = dx + r * c
            if accumulate {
                for j in 0..<c { dr[j] += k[j] * gr[j] - a[j] * xr[j] - b[j] }
            } else {
                for j in 0..<c { dr[j] = k[j] * gr[j] - a[j] * xr[j] - b[j] }
            }
        }
    }
}
