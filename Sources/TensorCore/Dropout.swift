/// Inverted dropout: each element is kept with probability 1 − rate and scaled by 1/(1 − rate),
/// so the expected value is unchanged and inference needs no rescaling.
public enum DropoutKernel {
    /// Draws the mask from `rng` (as the factor each element is multiplied by: 0 or
    /// 1/(1 − rate)) and writes y = x ⊙ mask. Two elements per 64-bit draw, 32 bits each.
    public static func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                               mask: UnsafeMutablePointer<Float>, count n: Int, rate: Float,
                               rng: inout RandomGenerator) {
        precondition(rate >= 0 && rate < 1, "dropout: rate \(rate) should be in [0, 1)")
        let threshold = UInt64(Double(rate) * 0x1p32)
        let keep = 1 / (1 - rate)
        var i = 0
        while i < n {
            let bits = rng.next()
            mask[i] = bits & 0xFFFF_FFFF < threshold ? 0 : keep
            y[i] = x[i] * mask[i]
            if i + 1 < n {
                mask[i + 1] = bits >> 32 < threshold ? 0 : keep
                y[i + 1] = x[i + 1] * mask[i + 1]
            }
            i += 2
        }
    }

    /// dx (+)= dy ⊙ mask.
    public static func backward(dy: UnsafePointer<Float>, mask: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
                                count: Int, accumulate: Bool) {
        Elementwise.multiply(dy, mask, into: dx, count: count, accumulate: accumulate)
    }
}
