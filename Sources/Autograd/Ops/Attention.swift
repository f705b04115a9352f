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
        if let keyLengths {
            ScaledDotProductAttention.forward(query: q.data, key: k.data, value: v.data, dims: d, causal: causal,
                                              keyLengths: keyLengths, probabilities: probabilities.data, output: out.data)
        } else {
            ScaledDotProductAttention.forward(query: q.data, key: k.data, value: v.data, dims: d, causal: causal,
                                              probabilities: probabilities.data, output: out.data)
        }
        return record(out, inputs: [query, key, value]) { g in
            // gradSlot is taken right before each write, so an input passed in several roles
            // (q = k = v) is overwritten once and accumulated afterwards.
            if value.requiresGrad {
                let (dv, acc) = value.gradSlot()
                ScaledDotProductAttention.valueGradient(probabilities: probabilities.data, outputGradient: g.data,
                                                        dims: d, into: dv.data, accumulate: acc)
            }
            guard query.requiresGrad || key.requiresGrad else { return }
            let dS = Tensor(uninitialized: d.probabilityShape)
            ScaledDotProductAttention.scoreGradient(probabilities: probabilities.data, outputGradient: g.data,
                                                    value: v.data, dims: d, into: dS.data)
            if query.requiresGrad {
                let (dq, acc) = query.gradSlot()
                ScaledDotProductAttention.queryGradient(scoreGradient: dS.data, key: k.data, dims: d,
                                                        into: dq.data, accumulate: acc)
            }
            if key.requiresGrad {
                let (dk, acc) = key.gradSlot()
                ScaledDotProductAttention.keyGradient(scoreGradient: dS.data, query: q.data, dims: d,
                                                      into: dk.data, accumulate: acc)
            }
        }
    }
}
