import TensorCore

/// Sums per-channel statistics in place across the replicas that share a batch (SyncBatchNorm);
/// nil for a replica on its own.
public typealias StatisticsSum = (UnsafeMutableBufferPointer<Float>) -> Void

extension Variable {
    /// Batch normalisation in training mode, channels last: normalises with the batch's
    /// per-channel mean and biased variance and moves `movingMean` / `movingVariance` towards
    /// them (Keras: moving ← moving · momentum + batch · (1 − momentum)).
    ///
    /// With `sum` (SyncBatchNorm) the statistics are those of the union of every replica's
    /// batch: forward sums [Σx, rows] and then Σ(x − mean)² across replicas, and backward sums
    /// its two per-channel reductions, so N replicas × batch b compute what 1 × N·b does. The
    /// gradients of gamma and beta stay local: data parallelism averages them like any other.
    public func batchNorm(gamma: Variable, beta: Variable, movingMean: Tensor, movingVariance: Tensor,
                          momentum: Float, epsilon: Float, sum: StatisticsSum?) -> Variable {
        let x = self
        let c = gamma.count
        _ = checkShape { try ShapeRules.batchNorm(x.shape, channels: c) }
        let rows = count / c
        // Pooled buffers: mean and rstd (kept for backward), and a forward workspace holding
        // [Σx | n], then Σ(x − mean)², then the per-channel scale and shift.
        let stats = Tensor(uninitialized: [2 * c]), work = Tensor(uninitialized: [2 * c + 1])
        defer { withExtendedLifetime(work) {} }
        let mean = stats.data, rstd = stats.data + c, w = work.data
        BatchNorm.channelSums(x.value.data, rows: rows, channels: c, into: w)
        w[c] = Float(rows)
        sum?(UnsafeMutableBufferPointer(start: w, count: c + 1))
        let n = w[c]
        for j in 0..<c { mean[j] = w[j] / n }
        BatchNorm.centeredSquareSums(x.value.data, mean: mean, rows: rows, channels: c, into: w)
        sum?(UnsafeMutableBufferPointer(start: w, count: c))
        for j in 0..<c {
            w[j] /= n
            rstd[j] = 1 / (w[j] + epsilon).squareRoot()
        }
        BatchNorm.updateMoving(movingMean.data, batch: mean, momentum: momentum, count: c)
        BatchNorm.updateMoving(movingVariance.data, batch: w, momentum: momentum, count: c)
        let y = Tensor(uninitialized: shape)
        BatchNorm.normalize(x.value.data, mean: mean, rstd: rstd, gamma: gamma.value.data, beta: beta.value.data, y.data,
                            rows: rows, channels: c, scale: w, shift: w + c)
        return Variable.record(y, inputs: [x, gamma, beta]) { g in
            let mean = stats.data, rstd = stats.data + c
            let sums = Tensor(uninitialized: [2 * c]), ws = Tensor(uninitialized: [3 * c])
            defer { withExtendedLifetime((sums, ws)) {} }
            let sumDy = sums.data, sumDyXhat = sums.data + c
            BatchNorm.backwardSums(x: x.value.data, mean: mean, rstd: rstd, dy: g.data, rows: rows, channels: c,
                                   sumDy: sumDy, sumDyXhat: sumDyXhat)
            if beta.requiresGrad { let d = beta.zeroedGrad().data; for j in 0..<c { d[j] += sumDy[j] } }
            if gamma.requiresGrad { let d = gamma.zeroedGrad().data; for j in 0..<c { d[j] += sumDyXhat[j] } }
            guard x.requiresGrad else { return }
            sum?(sums.buffer)
            let (dx, accumulate) = x.gradSlot()
            BatchNorm.backwardInput(x: x.value.data, mean: mean, rstd: rstd, gamma: gamma.value.data, dy: g.data,
                                    sumDy: sumDy, sumDyXhat: sumDyXhat, count: n, rows: rows, channels: c,
                                    dx: dx.data, accumulate: accumulate, workspace: ws.data)
        }
    }

    /// Batch normalisation in inference mode: the moving statistics instead of the batch's.
    public func batchNormInference(gamma: Variable, beta: Variable, movingMean: Tensor, movingVariance: Tensor,
                                   epsilon: Float) -> Variable {
        let x = self
        let c = gamma.count
        _ = checkShape { try ShapeRules.batchNorm(x.shape, channels: c) }
        let work = Tensor(uninitialized: [3 * c])
        let rstd = work.data
        for j in 0..<c { rstd[j] = 1 / (movingVariance.data[j] + epsilon).squareRoot() }
        let y = Tensor(uninitialized: shape)
        BatchNorm.normalize(x.value.data, mean: movingMean.data, rstd: rstd, gamma: gamma.value.data, beta: beta.value.data,
                            y.data, rows: count / c, channels: c, scale: work.data + c, shift: work.data + 2 * c)
        return Variable.record(y, inputs: [x, gamma, beta]) { g in
            let rows = x.count / c
            if beta.requiresGrad || gamma.requiresGrad {
                let sums = Tensor(uninitialized: [2 * c])
                defer { withExtendedLifetime(sums) {} }
                BatchNorm.backwardSums(x: x.value.data, mean: movingMean.data, rstd: rstd, dy: g.data, rows: rows, channels: c,
                                       sumDy: sums.data, sumDyXhat: sums.data + c)
                if beta.requiresGrad { let d = beta.zeroedGrad().data; for j in 0..<c { d[j] += sums.data[j] } }
                if gamma.requiresGrad { let d = gamma.zeroedGrad().data; for j in 0..<c { d[j] += sums.data[c + j] } }
            }
            guard x.requiresGrad else { return }
            // Fixed statistics: dx = dy · gamma · rstd.
            let (dx, accumulate) = x.gradSlot()
            let k = work.data + c
            for j in 0..<c { k[j] = gamma.value.data[j] * rstd[j] }
            for r in 0..<rows {
                let gr = g.data + r * c, dr = dx.data + r * c
                if accumulate { for j in 0..<c { dr[j] += gr[j] * k[j] } } else { for j in 0..<c { dr[j] = gr[j] * k[j] } }
            }
        }
    }
}
