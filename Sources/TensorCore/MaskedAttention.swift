extension ScaledDotProductAttention {
    /// `forward` with a key padding mask: batch element b attends to its first `keyLengths[b]`
    /// keys only (sequences padded at the end), on top of the causal mask when `causal`. Masked
    /// weights are exactly 0, so the backward functions need no mask: their dS is 0 there too.
    /// Every length must lie in 1...Lk (a row with no allowed key has no softmax).
    public static func forward(query: UnsafePointer<Float>, key: UnsafePointer<Float>, value: UnsafePointer<Float>,
                               dims d: AttentionDims, causal: Bool, keyLengths: [Int],
                               probabilities p: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>) {
        guard keyLengths.count == d.batch, keyLengths.allSatisfy({ (1...d.keyLength).contains($0) }) else {
            fatalError("attention: key lengths \(keyLengths) should be \(d.batch) values in 1...\(d.keyLength)")
        }
        gemmPerHead(d, transB: true, m: d.queryLength, n: d.keyLength, k: d.keyDim, alpha: d.scale,
                    a: query, self.query(d), b: key, self.key(d), beta: 0, c: p, scores(d))
        let n = d.keyLength
        for r in 0..<(d.batch * d.heads * d.queryLength) {
            let row = p + r * n
            let visible = keyLengths[r / (d.heads * d.queryLength)]
            let allowed = causal ? min(r % d.queryLength + 1, visible) : visible
            Softmax.forward(row, row, rows: 1, n: allowed)
            (row + allowed).update(repeating: 0, count: n - allowed)
        }
        gemmPerHead(d, m: d.queryLength, n: d.valueDim, k: d.keyLength,
                    a: p, scores(d), b: value, self.value(d), beta: 0, c: output, self.output(d))
    }
}
