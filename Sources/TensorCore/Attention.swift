/// Sizes of one multi-head scaled dot-product attention, from `ShapeRules.attention`.
public struct AttentionDims: Equatable, Sendable {
    public let batch, heads, queryLength, keyLength, keyDim, valueDim: Int

    public init(batch: Int, heads: Int, queryLength: Int, keyLength: Int, keyDim: Int, valueDim: Int) {
        (self.batch, self.heads, self.queryLength, self.keyLength) = (batch, heads, queryLength, keyLength)
        (self.keyDim, self.valueDim) = (keyDim, valueDim)
    }

    /// The 1/sqrt(dk) factor on the scores.
    public var scale: Float { 1 / Float(keyDim).squareRoot() }
    /// Attention weights, one [Lq, Lk] matrix per batch element and head.
    public var probabilityShape: [Int] { [batch, heads, queryLength, keyLength] }
    public var outputShape: [Int] { [batch, queryLength, heads * valueDim] }
}

extension ShapeRules {
    /// Query [B, Lq, H·dk], key [B, Lk, H·dk] and value [B, Lk, H·dv], heads side by side in the
    /// last axis (as the projections produce them).
    public static func attention(query: [Int], key: [Int], value: [Int], heads: Int) throws -> AttentionDims {
        let op = "attention"
        let all = "query \(shapeString(query)), key \(shapeString(key)), value \(shapeString(value))"
        guard heads > 0 else { throw ShapeError(op, "number of heads must be positive, got \(heads)") }
        guard query.count == 3, key.count == 3, value.count == 3 else {
            throw ShapeError(op, "\(all): each should be [batch, length, features]")
        }
        guard query[0] == key[0], key[0] == value[0] else { throw ShapeError(op, "\(all): batch sizes differ") }
        guard key[1] == value[1] else { throw ShapeError(op, "\(all): key and value lengths differ") }
        guard query[2] == key[2] else { throw ShapeError(op, "\(all): query and key feature sizes differ") }
        guard query[2] % heads == 0, value[2] % heads == 0, query[2] > 0, value[2] > 0 else {
            throw ShapeError(op, "\(all): feature sizes must be positive multiples of \(heads) heads")
        }
        return AttentionDims(batch: query[0], heads: heads, queryLength: query[1], keyLength: key[1],
                             keyDim: query[2] / heads, valueDim: value[2] / heads)
    }
}

/// softmax(Q·Kᵀ/sqrt(dk)) · V for every batch element and head, without moving data: head h of
/// batch b inside a [B, L, H·d] tensor is the [L, d] matrix at offset b·L·H·d + h·d with leading
/// dimension H·d, which `cblas_sgemm` reads directly. Backward runs the same strided products.
public enum ScaledDotProductAttention {
    /// Where the per-head matrices of one operand sit: leading dimension and the element
    /// distances between consecutive batch elements and consecutive heads.
    struct Layout {
        let ld, batchStride, headStride: Int
    }

    static func projected(_ d: AttentionDims, length: Int, headDim: Int) -> Layout {
        Layout(ld: d.heads * headDim, batchStride: length * d.heads * headDim, headStride: headDim)
    }
    static func query(_ d: AttentionDims) -> Layout { projected(d, length: d.queryLength, headDim: d.keyDim) }
    static func key(_ d: AttentionDims) -> Layout { projected(d, length: d.keyLength, headDim: d.keyDim) }
    static func value(_ d: AttentionDims) -> Layout { projected(d, length: d.keyLength, headDim: d.valueDim) }
    static func output(_ d: AttentionDims) -> Layout { projected(d, length: d.queryLength, headDim: d.valueDim) }
    static func scores(_ d: AttentionDims) -> Layout {
        Layout(ld: d.keyLength, batchStride: d.heads * d.queryLength * d.keyLength, headStride: d.queryLength * d.keyLength)
    }

    /// C_bh = alpha · op(A_bh) · op(B_bh) + beta · C_bh for every batch element b and head h.
    static func gemmPerHead(_ d: AttentionDims, transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                            alpha: Float = 1, a: UnsafePointer<Float>, _ la: Layout,
                            b: UnsafePointer<Float>, _ lb: Layout,
                            beta: Float, c: UnsafeMutablePointer<Float>, _ lc: Layout) {
        for i in 0..<d.batch {
            BLAS.gemmBatched(count: d.heads, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                             a: a + i * la.batchStride, lda: la.ld, strideA: la.headStride,
                             b: b + i * lb.batchStride, ldb: lb.ld, strideB: lb.headStride,
                             beta: beta, c: c + i * lc.batchStride, ldc: lc.ld, strideC: lc.headStride)
        }
    }

    /// Fills `probabilities` [B, H, Lq, Lk] and `output` [B, Lq, H·dv]. With `causal`, query i
    /// attends to keys 0...i only: masked weights are exactly 0 (the softmax runs over the
    /// allowed prefix of each row, which always holds key 0, so no row is empty and no NaN).
    public static func forward(query: UnsafePointer<Float>, key: UnsafePointer<Float>, value: UnsafePointer<Float>,
                               dims d: AttentionDims, causal: Bool,
                               probabilities p: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>) {
        gemmPerHead(d, transB: true, m: d.queryLength, n: d.keyLength, k: d.keyDim, alpha: d.scale,
                    a: query, self.query(d), b: key, self.key(d), beta: 0, c: p, scores(d))
        let rows = d.batch * d.heads * d.queryLength, n = d.keyLength
        if causal {
            for r in 0..<rows {
                let row = p + r * n
                let allowed = min(r % d.queryLength + 1, n)
                Softmax.forward(row, row, rows: 1, n: allowed)
                (row + allowed).update(repeating: 0, count: n - allowed)
            }
        } else {
            Softmax.forward(p, p, rows: rows, n: n)
        }
        gemmPerHead(d, m: d.queryLength, n: d.valueDim, k: d.keyLength,
                    a: p, scores(d), b: value, self.value(d), beta: 0, c: output, self.output(d))
    }

    /// dV_bh (+)= P_bhᵀ · dO_bh.
    public static func valueGradient(probabilities p: UnsafePointer<Float>, outputGradient dO: UnsafePointer<Float>,
                                     dims d: AttentionDims, into dV: UnsafeMutablePointer<Float>, accumulate: Bool) {
        gemmPerHead(d, transA: true, m: d.keyLength, n: d.valueDim, k: d.queryLength,
                    a: p, scores(d), b: dO, output(d), beta: accumulate ? 1 : 0, c: dV, value(d))
    }

    /// The gradient with respect to the scaled scores: dP = dO · Vᵀ, then the softmax backward
    /// dS = P ⊙ (dP − rowsum(dP ⊙ P)) in place. Masked entries get 0 since their P is 0.
    public static func scoreGradient(probabilities p: UnsafePointer<Float>, outputGradient dO: UnsafePointer<Float>,
                                     value: UnsafePointer<Float>, dims d: AttentionDims,
                                     into dS: UnsafeMutablePointer<Float>) {
        gemmPerHead(d, transB: true, m: d.queryLength, n: d.keyLength, k: d.valueDim,
                    a: dO, output(d), b: value, self.value(d), beta: 0, c: dS, scores(d))
        Softmax.backward(y: p, dy: dS, dx: dS, rows: d.batch * d.heads * d.queryLength, n: d.keyLength, accumulate: false)
    }

    /// dQ_bh (+)= dS_bh · K_bh / sqrt(dk).
    public static func queryGradient(scoreGradient dS: UnsafePointer<Float>, key: UnsafePointer<Float>,
                                     dims d: AttentionDims, into dQ: UnsafeMutablePointer<Float>, accumulate: Bool) {
        gemmPerHead(d, m: d.queryLength, n: d.keyDim, k: d.keyLength, alpha: d.scale,
                    a: dS, scores(d), b: key, self.key(d), beta: accumulate ? 1 : 0, c: dQ, query(d))
    }

    /// dK_bh (+)= dS_bhᵀ · Q_bh / sqrt(dk).
    public static func keyGradient(scoreGradient dS: UnsafePointer<Float>, query: UnsafePointer<Float>,
                                   dims d: AttentionDims, into dK: UnsafeMutablePointer<Float>, accumulate: Bool) {
        gemmPerHead(d, transA: true, m: d.keyLength, n: d.keyDim, k: d.queryLength, alpha: d.scale,
                    a: dS, scores(d), b: query, self.query(d), beta: accumulate ? 1 : 0, c: dK, key(d))
    }
}
