/// Loss kernels with Keras' formulas, forward and gradient side by side.
///
/// A forward kernel returns the weighted sum Σ wₑ·lₑ over the loss elements (rows of class
/// scores, or single elements for pointwise losses), accumulated in Double in a fixed order so
/// the result is reproducible; the caller divides by the number of loss elements (Keras'
/// `sum_over_batch_size`). Optional weights cover `span` consecutive loss elements each, so a
/// weight per sample also works for sequence outputs. A backward kernel writes (or adds, when
/// `accumulate`) `scale · wₑ · ∂lₑ/∂x` into `dx`, with `scale` the upstream gradient over the
/// element count.
public enum LossKernels {
    /// Keras' `backend.epsilon()`: probabilities are clipped to [ε, 1 − ε] before their log.
    public static let epsilon: Float = 1e-7

    /// Targets over classes: class indices (stored as Float, one per row) or a distribution per
    /// row (one-hot or smoothed).
    public enum ClassTargets {
        case indices(UnsafePointer<Float>)
        case distributions(UnsafePointer<Float>)
    }

    /// Per-element losses that depend on one prediction and one target.
    public enum Pointwise: Sendable {
        /// max(x, 0) − x·y + log(1 + e^−|x|): never overflows, however large |x|.
        case binaryCrossentropyFromLogits
        /// −(y·log p + (1 − y)·log(1 − p)) with p clipped to [ε, 1 − ε].
        case binaryCrossentropy
        /// (p − y)²
        case squaredError
    }

    @inline(__always)
    static func weight(_ w: UnsafePointer<Float>?, _ e: Int, _ span: Int) -> Float {
        if let w { return w[e / span] }
        return 1
    }

    @inline(__always)
    static func put(_ dx: UnsafeMutablePointer<Float>, _ i: Int, _ v: Float, _ accumulate: Bool) {
        if accumulate { dx[i] += v } else { dx[i] = v }
    }

    /// The first class index that is not an integer in 0..<classes, if any (labels come from
    /// data files, so the caller reports it rather than reading out of bounds).
    public static func firstInvalidLabel(_ labels: UnsafePointer<Float>, count: Int, classes: Int) -> (index: Int, label: Float)? {
        for i in 0..<count {
            let l = labels[i]
            if !(l >= 0 && l < Float(classes)) || l != l.rounded(.towardZero) { return (i, l) }
        }
        return nil
    }

    // MARK: Cross-entropy from logits (fused log-softmax + negative log-likelihood)

    /// Σ_r w_r·(lse_r·Σ_j t_rj − Σ_j t_rj·x_rj) over `rows` rows of `n` logits, with the row's
    /// log-sum-exp saved in `lse` for the backward pass.
    public static func softmaxCrossentropy(logits x: UnsafePointer<Float>, targets: ClassTargets, rows: Int, n: Int,
                                           weights: UnsafePointer<Float>?, span: Int,
                                           lse: UnsafeMutablePointer<Float>) -> Double {
        var total = 0.0
        for r in 0..<rows {
            let xr = x + r * n
            let m = VectorMath.max(xr, count: n)
            let l = m + flog(VectorMath.sumOfExp(xr, minus: m, count: n))
            lse[r] = l
            let loss: Float
            switch targets {
            case .indices(let y):
                loss = l - xr[Int(y[r])]
            case .distributions(let t):
                let tr = t + r * n
                loss = l * VectorMath.sum(tr, count: n) - VectorMath.dot(tr, xr, count: n)
            }
            total += Double(weight(weights, r, span) * loss)
        }
        return total
    }

    /// dx = scale·w_r·(softmax(x_r)·Σ_j t_rj − t_r), from the saved log-sum-exp.
    public static func softmaxCrossentropyBackward(logits x: UnsafePointer<Float>, targets: ClassTargets,
                                                   lse: UnsafePointer<Float>, rows: Int, n: Int,
                                                   weights: UnsafePointer<Float>?, span: Int, scale: Float,
                                                   dx: UnsafeMutablePointer<Float>, accumulate: Bool) {
        for r in 0..<rows {
            let xr = x + r * n, dr = dx + r * n, l = lse[r]
            let s = scale * weight(weights, r, span)
            @inline(__always) func softmax(_ i: Int, _ lanes: Int) -> VectorMath.Vector {
                VectorMath.exp(VectorMath.load(xr + i, lanes) - l)
            }
            switch targets {
            case .indices(let y):
                VectorMath.update(dr, count: n, accumulate: accumulate) { i, lanes in s * softmax(i, lanes) }
                dr[Int(y[r])] -= s
            case .distributions(let t):
                let tr = t + r * n
                let tSum = VectorMath.sum(tr, count: n)
                VectorMath.update(dr, count: n, accumulate: accumulate) { i, lanes in
                    s * (softmax(i, lanes) * tSum - VectorMath.load(tr + i, lanes))
                }
            }
        }
    }

    // MARK: Cross-entropy from probabilities

    /// Σ_r w_r·(−Σ_j t_rj·log clip(p_rj / Σ_k p_rk)): like Keras, each row is renormalised to
    /// sum to one, then clipped to [ε, 1 − ε].
    public static func crossentropy(probabilities p: UnsafePointer<Float>, targets: ClassTargets, rows: Int, n: Int,
                                    weights: UnsafePointer<Float>?, span: Int) -> Double {
        var total = 0.0
        for r in 0..<rows {
            let pr = p + r * n
            let inv = 1 / VectorMath.sum(pr, count: n)
            var loss: Float = 0
            switch targets {
            case .indices(let y):
                loss = -flog(clipProbability(pr[Int(y[r])] * inv))
            case .distributions(let t):
                let tr = t + r * n
                for j in 0..<n where tr[j] != 0 { loss -= tr[j] * flog(clipProbability(pr[j] * inv)) }
            }
            total += Double(weight(weights, r, span) * loss)
        }
        return total
    }

    /// Gradient through the renormalisation q = p / S and the clip (zero where q was clipped):
    /// with u_k = −t_k / q_k where q_k is inside the clip range (else 0),
    /// ∂l/∂p_k = (u_k − Σ_j u_j·q_j) / S.
    public static func crossentropyBackward(probabilities p: UnsafePointer<Float>, targets: ClassTargets, rows: Int, n: Int,
                                            weights: UnsafePointer<Float>?, span: Int, scale: Float,
                                            dx: UnsafeMutablePointer<Float>, accumulate: Bool) {
        for r in 0..<rows {
            let pr = p + r * n, dr = dx + r * n
            let inv = 1 / VectorMath.sum(pr, count: n)
            let s = scale * weight(weights, r, span) * inv
            switch targets {
            case .indices(let y):
                let k = Int(y[r])
                let q = pr[k] * inv
                let inside = isInsideClip(q)
                // Σ u·q = −1 when q_y is unclipped, so every element gets +s and element y gets −s/q_y.
                let base: Float = inside ? s : 0
                for j in 0..<n { put(dr, j, base, accumulate) }
                if inside { dr[k] -= s / q }
            case .distributions(let t):
                let tr = t + r * n
                var uq: Float = 0
                for j in 0..<n where tr[j] != 0 && isInsideClip(pr[j] * inv) { uq -= tr[j] }
                for j in 0..<n {
                    let q = pr[j] * inv
                    let u: Float = tr[j] != 0 && isInsideClip(q) ? -tr[j] / q : 0
                    put(dr, j, s * (u - uq), accumulate)
                }
            }
        }
    }

    @inline(__always)
    static func clipProbability(_ q: Float) -> Float { min(max(q, epsilon), 1 - epsilon) }

    @inline(__always)
    static func isInsideClip(_ q: Float) -> Bool { q > epsilon && q < 1 - epsilon }

    @inline(__always)
    static func isInsideClip(_ q: VectorMath.Vector) -> SIMDMask<VectorMath.Vector.MaskStorage> { (q .> epsilon) .& (q .< 1 - epsilon) }

    // MARK: Pointwise losses

    /// Σ_e w_e·l(x_e, y_e) over `count` elements.
    public static func pointwise(_ kind: Pointwise, predictions x: UnsafePointer<Float>, targets y: UnsafePointer<Float>,
                                 count: Int, weights: UnsafePointer<Float>?, span: Int) -> Double {
        switch kind {
        case .binaryCrossentropyFromLogits:
            return weightedSum(count, weights, span) { e in
                let v = x[e]
                return max(v, 0) - v * y[e] + flog(1 + fexp(-abs(v)))
            }
        case .binaryCrossentropy:
            return weightedSum(count, weights, span) { e in
                let p = clipProbability(x[e]), t = y[e]
                return -(t * flog(p) + (1 - t) * flog(1 - p))
            }
        case .squaredError:
            return weightedSum(count, weights, span) { e in let d = x[e] - y[e]; return d * d }
        }
    }

    /// dx_e = scale·w_e·∂l/∂x_e: σ(x) − y from logits; (p − y) / (p(1 − p)) from probabilities
    /// (0 where p was clipped); 2(p − y) for the squared error.
    public static func pointwiseBackward(_ kind: Pointwise, predictions x: UnsafePointer<Float>, targets y: UnsafePointer<Float>,
                                         count: Int, weights: UnsafePointer<Float>?, span: Int, scale: Float,
                                         dx: UnsafeMutablePointer<Float>, accumulate: Bool) {
        switch kind {
        case .binaryCrossentropyFromLogits:
            weightedGradient(count, weights, span, scale, dx, accumulate) { e, lanes in
                VectorMath.sigmoid(VectorMath.load(x + e, lanes)) - VectorMath.load(y + e, lanes)
            }
        case .binaryCrossentropy:
            weightedGradient(count, weights, span, scale, dx, accumulate) { e, lanes in
                let p = VectorMath.load(x + e, lanes)
                let g = (p - VectorMath.load(y + e, lanes)) / (p * (1 - p))
                return VectorMath.Vector().replacing(with: g, where: isInsideClip(p))
            }
        case .squaredError:
            weightedGradient(count, weights, span, scale, dx, accumulate) { e, lanes in
                2 * (VectorMath.load(x + e, lanes) - VectorMath.load(y + e, lanes))
            }
        }
    }

    @inline(__always)
    static func weightedSum(_ count: Int, _ weights: UnsafePointer<Float>?, _ span: Int, _ loss: (Int) -> Float) -> Double {
        var total = 0.0
        if let weights {
            for e in 0..<count { total += Double(weights[e / span] * loss(e)) }
        } else {
            for e in 0..<count { total += Double(loss(e)) }
        }
        return total
    }

    /// `derivative(e, lanes)` gives ∂l/∂x for the elements e..<e + lanes (a vector at a time, so
    /// the sigmoid of the logit loss is vectorised).
    @inline(__always)
    static func weightedGradient(_ count: Int, _ weights: UnsafePointer<Float>?, _ span: Int, _ scale: Float,
                                 _ dx: UnsafeMutablePointer<Float>, _ accumulate: Bool,
                                 _ derivative: (_ e: Int, _ lanes: Int) -> VectorMath.Vector) {
        VectorMath.update(dx, count: count, accumulate: accumulate) { e, lanes in
            guard let weights else { return scale * derivative(e, lanes) }
            var w = VectorMath.Vector()
            for k in 0..<lanes { w[k] = weights[(e + k) / span] }
            return scale * w * derivative(e, lanes)
        }
    }
}

extension ShapeRules {
    /// Predictions [..., classes] against one class index per row; returns the row count.
    public static func sparseLabels(predictions: [Int], labels: [Int], op: String) throws -> Int {
        guard let classes = predictions.last, classes > 0 else {
            throw ShapeError(op, "predictions \(shapeString(predictions)) have no class axis")
        }
        let rows = predictions.reduce(1, *) / classes
        guard labels.reduce(1, *) == rows else {
            throw ShapeError(op, "labels \(shapeString(labels)) should hold one class index per row of predictions \(shapeString(predictions)) (\(rows))")
        }
        return rows
    }

    /// Predictions and targets of the same size (a trailing axis of 1 may be missing on either
    /// side, as Keras squeezes it).
    public static func lossTargets(predictions: [Int], targets: [Int], op: String) throws {
        func squeezed(_ s: [Int]) -> [Int] { s.last == 1 ? Array(s.dropLast()) : s }
        guard predictions == targets || squeezed(predictions) == squeezed(targets) else {
            throw ShapeError(op, "targets \(shapeString(targets)) do not match predictions \(shapeString(predictions))")
        }
    }

    /// Sample weights over `elements` loss elements: each weight covers `span` consecutive
    /// elements (returned), so their count must divide the element count.
    public static func sampleWeights(_ weights: [Int], elements: Int, op: String) throws -> Int {
        let w = weights.reduce(1, *)
        guard w > 0, elements % w == 0 else {
            throw ShapeError(op, "sample weights \(shapeString(weights)) do not divide the \(elements) loss elements evenly")
        }
        return elements / w
    }
}
