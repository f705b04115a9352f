import TensorCore

extension Variable {
    /// Multi-head scaled dot-product attention, softmax(Q·Kᵀ/sqrt(dk))·V per head, for query
    /// [B, Lq, H·dk], key [B, Lk, H·dk] and value [B, Lk, H·dv] with the heads side by side in the
    /// last axis; the result is [B, Lq, H·dv] in the same layout. `causal` lets query i attend to
    /// keys 0...i only; `keyLengths` (one per batch element, padding at the end) lets batch
    /// element b attend to its first `keyLengths[b]` keys only. The attention weights
    /// [B, H, Lq, Lk] are kept for backward.
    public static func attention(query: Variable, key: Variable, value: Variable, heads: Int,
                                 causal: Bool = false, keyLengths: [Int]? = nil) -> Variable {
        let d = checkShape { try ShapeRules.attention(query: query.shape, key: key.shape, value: value.shape, heads: heads) }
        let q = query.value, k = key.value, v = value.value
        let probabilities = Tensor(uninitialized: d.probabilityShape)
        let out = Tensor(uninitialized: d.outputShape)
        ScaledDotProductAttention.forward(query: q.data, key: k.data, value: v.data, dims: d, causal: causal,
                                          keyLengths: keyLengths, probabilities: probabilities.data, output: out.data)
        return record(out, inputs: [query, key, value]) { g in
            // Slots are taken in the order the products write them (value, query, key), so an
            // input passed in several roles (q = k = v) is overwritten once and accumulated after.
            let slot = { (v: Variable) -> ScaledDotProductAttention.GradientSlot? in
                guard v.requiresGrad else { return nil }
                let (grad, accumulate) = v.gradSlot()
                return (grad.data, accumulate)
            }
            let dV = slot(value), dQ = slot(query), dK = slot(key)
            ScaledDotProductAttention.backward(probabilities: probabilities.data, outputGradient: g.data,
                                               query: q.data, key: k.data, value: v.data, dims: d,
                                               valueGradient: dV, queryGradient: dQ, keyGradient: dK)
        }
    }
}
