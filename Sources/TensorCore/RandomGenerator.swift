/// A seedable, splittable random generator (xoshiro256**, seeded through SplitMix64).
///
/// Every stream is named: `RandomGenerator(seed: s, stream: [rank, purpose])` gives an
/// independent sequence per name, so weights, shuffling, dropout and noise never share a global
/// generator and a run is reproducible bit for bit. The state is four words, saved in checkpoints.
public struct RandomGenerator: RandomNumberGenerator, Sendable, Equatable {
    public var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64, stream: [UInt64] = []) {
        var sm = seed &+ 0x9E37_79B9_7F4A_7C15
        for id in stream { sm = RandomGenerator.splitMix(&sm) ^ (id &* 0xD1B5_4A32_D192_ED03) }
        state = (RandomGenerator.splitMix(&sm), RandomGenerator.splitMix(&sm),
                 RandomGenerator.splitMix(&sm), RandomGenerator.splitMix(&sm))
    }

    public init(state: [UInt64]) {
        precondition(state.count == 4, "RandomGenerator state has 4 words")
        self.state = (state[0], state[1], state[2], state[3])
    }

    public var stateWords: [UInt64] { [state.0, state.1, state.2, state.3] }

    public static func == (l: RandomGenerator, r: RandomGenerator) -> Bool { l.stateWords == r.stateWords }

    private static func splitMix(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((state.1 &* 5) << 7 | (state.1 &* 5) >> 57) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = state.3 << 45 | state.3 >> 19
        return result
    }

    /// Uniform in [0, 1) with 24 random bits.
    @inline(__always)
    public mutating func nextUniform() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Standard normal (Box–Muller, one value per call so the stream position is simple).
    public mutating func nextNormal() -> Float {
        let u1 = Double((next() >> 11) + 1) * 0x1p-53
        let u2 = Double(next() >> 11) * 0x1p-53
        return Float((-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2))
    }

    public mutating func fillUniform(_ t: Tensor, low: Float, high: Float) {
        let p = t.data
        for i in 0..<t.count { p[i] = low + (high - low) * nextUniform() }
    }

    /// Standard normals (scaled and shifted), eight at a time: Box–Muller in Float with the
    /// vectorised `log` and `cosTwoPi`, about ten times faster than `nextNormal` (the GAN draws
    /// 12,800 a step). The first uniform is (k + 1)·2⁻⁵³ for 53 random bits k, rounded to a
    /// Float: it still reaches down to 2⁻⁵³, so the tails reach 8.6σ as with `nextNormal`.
    /// Draws 16 words per 8 values, for a partial last vector too.
    public mutating func fillNormal(_ t: Tensor, mean: Float = 0, std: Float = 1) {
        let p = t.data
        var u1 = VectorMath.Vector(), u2 = VectorMath.Vector()
        for start in stride(from: 0, to: t.count, by: VectorMath.width) {
            for l in 0..<VectorMath.width {
                u1[l] = Float((next() >> 11) + 1) * 0x1p-53
                u2[l] = Float(next() >> 40) * 0x1p-24
            }
            let z = (-2 * VectorMath.log(u1)).squareRoot() * VectorMath.cosTwoPi(u2) * std + mean
            VectorMath.store(z, p + start, min(VectorMath.width, t.count - start))
        }
    }

    /// A uniformly random permutation of 0..<n (Fisher–Yates).
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n < 2 { return p }
        for i in stride(from: n - 1, to: 0, by: -1) {
            let j = Int(next() % UInt64(i + 1))
            p.swapAt(i, j)
        }
        return p
    }
}

@inline(__always) private func _log(_ x: Double) -> Double { Foundation_log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Foundation_cos(x) }
