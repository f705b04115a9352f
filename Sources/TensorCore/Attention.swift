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
///
/// Both passes go one batch element at a time: its H score matrices (H·Lq·Lk floats, 256 KB
/// for 4 heads of 128 × 128) are computed, normalised and used while they sit in L2. Done op by
/// op over the whole batch, the [B, H, Lq, Lk] scores crossed memory about ten times per step
/// (written by the GEMM, read and written by the softmax, read by the next GEMM; in backward the
/// same again for their gradient, which now never exists whole); now the weights are written
/// once in forward and read once in backward.
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

    /// C_h = alpha · op(A_h) · op(B_h) + beta · C_h for every head h of batch element `b`
    /// (pointers are to the whole tensors; each layout's batch stride selects b).
    static func gemmHeads(_ d: AttentionDims, _ b: Int, transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                          alpha: Float = 1, a: UnsafePointer<Float>, _ la: Layout,
                          b bm: UnsafePointer<Float>, _ lb: Layout,
                          beta: Float, c: UnsafeMutablePointer<Float>, _ lc: Layout) {
        BLAS.gemmBatched(count: d.heads, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                         a: a + b * la.batchStride, lda: la.ld, strideA: la.headStride,
                         b: bm + b * lb.batchStride, ldb: lb.ld, strideB: lb.headStride,
                         beta: beta, c: c + b * lc.batchStride, ldc: lc.ld, strideC: lc.headStride)
    }

    /// Keys each query row may attend to: with `causal`, query i sees keys 0...i; with key
    /// lengths (padding at the end of each sequence), batch element b sees its first
    /// `keyLengths[b]` keys. Masked weights are exactly 0.
    struct Mask {
        let causal: Bool
        let keyLengths: [Int]?

        /// Allowed keys 0..<n of query row `i` of batch element `b`.
        func allowed(_ b: Int, _ i: Int, _ d: AttentionDims) -> Int {
            let visible = keyLengths?[b] ?? d.keyLength
            return causal ? min(i + 1, visible) : visible
        }
    }

    /// Fills `probabilities` [B, H, Lq, Lk] and `output` [B, Lq, H·dv]. With `causal`, query i
    /// attends to keys 0...i only; with `keyLengths` (one per batch element, each in 1...Lk,
    /// sequences padded at the end) batch element b attends to its first `keyLengths[b]` keys.
    /// Masked weights are exactly 0 (the softmax runs over each row's allowed prefix, which
    /// always holds key 0, so no row is empty and no NaN), so backward needs no mask: dS is 0
    /// there too.
    public static func forward(query: UnsafePointer<Float>, key: UnsafePointer<Float>, value: UnsafePointer<Float>,
                               dims d: AttentionDims, causal: Bool, keyLengths: [Int]? = nil,
                               probabilities p: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>) {
        if let keyLengths, keyLengths.count != d.batch || !keyLengths.allSatisfy({ (1...d.keyLength).contains($0) }) {
            fatalError("attention: key lengths \(keyLengths) should be \(d.batch) values in 1...\(d.keyLength)")
        }
        let mask = Mask(causal: causal, keyLengths: keyLengths), n = d.keyLength, sl = scores(d)
        for b in 0..<d.batch {
            gemmHeads(d, b, transB: true, m: d.queryLength, n: n, k: d.keyDim, alpha: d.scale,
                      a: query, self.query(d), b: key, self.key(d), beta: 0, c: p, sl)
            let rows = p + b * sl.batchStride
            if !causal && keyLengths == nil {
                Softmax.forward(rows, rows, rows: d.heads * d.queryLength, n: n)
            } else {
                for r in 0..<(d.heads * d.queryLength) {
                    let row = rows + r * n, allowed = mask.allowed(b, r % d.queryLength, d)
                    Softmax.forward(row, row, rows: 1, n: allowed)
                    (row + allowed).update(repeating: 0, count: n - allowed)
                }
            }
            gemmHeads(d, b, m: d.queryLength, n: d.valueDim, k: n,
                      a: p, sl, b: value, self.value(d), beta: 0, c: output, self.output(d))
        }
    }

    /// A gradient to write: where, and whether to add to it (false: overwrite fresh memory).
    public typealias GradientSlot = (data: UnsafeMutablePointer<Float>, accumulate: Bool)

    /// Backward of `forward` from the output gradient dO, one batch element at a time:
    /// dV (+)= Pᵀ·dO; dS = P ⊙ (dP − rowsum(dP ⊙ P)) with dP = dO·Vᵀ, in a one-element scratch;
    /// dQ (+)= dS·K/sqrt(dk); dK (+)= dSᵀ·Q/sqrt(dk). Nil slots are skipped. When one tensor
    /// plays several roles (self-attention on a single input), its slots must be taken in the
    /// order value, query, key — the order the products write them.
    public static func backward(probabilities p: UnsafePointer<Float>, outputGradient dO: UnsafePointer<Float>,
                                query: UnsafePointer<Float>, key: UnsafePointer<Float>, value: UnsafePointer<Float>,
                                dims d: AttentionDims, valueGradient dV: GradientSlot?, queryGradient dQ: GradientSlot?,
                                keyGradient dK: GradientSlot?) {
        let sl = scores(d), lq = d.queryLength, lk = d.keyLength
        let scratch = dQ == nil && dK == nil ? nil : Tensor(uninitialized: [d.heads, lq, lk])
        for b in 0..<d.batch {
            if let dV {
                gemmHeads(d, b, transA: true, m: lk, n: d.valueDim, k: lq,
                          a: p, sl, b: dO, output(d), beta: dV.accumulate ? 1 : 0, c: dV.data, self.value(d))
            }
            guard let dS = scratch?.data else { continue }
            // The scratch holds batch element b alone: a batch stride of 0 addresses it for any b.
            let local = Layout(ld: lk, batchStride: 0, headStride: sl.headStride)
            gemmHeads(d, b, transB: true, m: lq, n: lk, k: d.valueDim,
                      a: dO, output(d), b: value, self.value(d), beta: 0, c: dS, local)
            Softmax.backward(y: p + b * sl.batchStride, dy: dS, dx: dS, rows: d.heads * lq, n: lk, accumulate: false)
            if let dQ {
                gemmHeads(d, b, m: lq, n: d.keyDim, k: lk, alpha: d.scale,
                          a: dS, local, b: key, self.key(d), beta: dQ.accumulate ? 1 : 0, c: dQ.data, self.query(d))
            }
            if let dK {
                gemmHeads(d, b, transA: true, m: lk, n: d.keyDim, k: lq, alpha: d.scale,
                          a: dS, local, b: query, self.query(d), beta: dK.accumulate ? 1 : 0, c: dK.data, self.key(d))
            }
        }
    }
}
