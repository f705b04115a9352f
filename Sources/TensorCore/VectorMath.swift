/// Vectorised exp, tanh, sigmoid and the Gaussian CDF, and the row reductions softmax needs:
/// eight lanes at a time instead of one libm call per element.
///
/// `SIMD8<Float>` is portable: LLVM lowers it to pairs of SSE2 registers on the default x86-64
/// target (NEON on arm64), so no CPU feature is required at build time. SSE2 has neither FMA nor
/// a vector round instruction, so the polynomials use separate multiplies and adds and rounding
/// to an integer uses the 1.5·2²³ trick; the accuracy figures below hold for that code.
///
/// Buffer functions accept `x == y` (in place): each vector is loaded before it is stored.
public enum VectorMath {
    public typealias Vector = SIMD8<Float>
    typealias Bits = SIMD8<Int32>
    static let width = Vector.scalarCount

    /// ln(Float.leastNormalMagnitude): below it e^x would be subnormal. Such results are flushed
    /// to 0, so saturated inputs never feed subnormal operands (slow on many CPUs) downstream.
    static let smallestNormalExponent: Float = -87.33654475
    /// Above this e^x is set to +∞. It overflows from 88.7228 on anyway; the select covers the
    /// inputs too large for the rounding trick and the exponent construction in `exp`.
    static let overflowThreshold: Float = 88.8

    // MARK: Loads and stores with a partial tail

    /// The `lanes` (1...width) floats at `p`; lanes past them hold `padding`.
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ lanes: Int, padding: Float = 0) -> Vector {
        if lanes == width { return UnsafeRawPointer(p).loadUnaligned(as: Vector.self) }
        var v = Vector(repeating: padding)
        for k in 0..<lanes { v[k] = p[k] }
        return v
    }

    /// Writes the first `lanes` lanes of `v` to `p`.
    @inline(__always)
    static func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>, _ lanes: Int) {
        if lanes == width { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self); return }
        for k in 0..<lanes { p[k] = v[k] }
    }

    /// Calls `body(i, lanes)` for the vectors covering 0..<count: full ones, then at most one
    /// partial one. After inlining, the full-vector calls see `lanes == width` as a constant,
    /// so their loads and stores are plain vector moves.
    @inline(__always)
    static func forEachVector(_ count: Int, _ body: (_ i: Int, _ lanes: Int) -> Void) {
        var i = 0
        while i + width <= count {
            body(i, width)
            i += width
        }
        if i < count { body(i, count - i) }
    }

    /// y = f(x) elementwise over `count` floats.
    @inline(__always)
    static func map(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int, _ f: (Vector) -> Vector) {
        forEachVector(count) { i, lanes in store(f(load(x + i, lanes)), y + i, lanes) }
    }

    /// out = f(i, lanes), or out += f(i, lanes) with `accumulate`, for each vector of `count`.
    @inline(__always)
    static func update(_ out: UnsafeMutablePointer<Float>, count: Int, accumulate: Bool,
                       _ f: (_ i: Int, _ lanes: Int) -> Vector) {
        forEachVector(count) { i, lanes in
            var v = f(i, lanes)
            if accumulate { v += load(out + i, lanes) }
            store(v, out + i, lanes)
        }
    }

    @inline(__always) static func bits(_ v: Vector) -> Bits { unsafeBitCast(v, to: Bits.self) }
    @inline(__always) static func float(_ b: Bits) -> Vector { unsafeBitCast(b, to: Vector.self) }
    @inline(__always) static func magnitude(_ v: Vector) -> Vector { float(bits(v) & 0x7fff_ffff) }

    // MARK: Functions of one vector

    /// e^x. Relative error ≤ 6.5e-8 (0.77 ulp) over every float in [−87, 88]; 0 below
    /// ln(smallest normal) ≈ −87.34, +∞ from 88.72 on, NaN for NaN.
    @inline(__always)
    public static func exp(_ x: Vector) -> Vector {
        // x = n·ln2 + r with n = round(x·log2 e), |r| ≤ ln2/2. Adding 1.5·2²³ leaves n in the low
        // mantissa bits, rounded to nearest, so the same sum yields n as a float and as an integer.
        let magic: Float = 12_582_912
        let t = x * 1.442695041 + magic
        let n = t - magic
        // x − n·ln2 = hi + lo with ln2 in two parts (Cody–Waite): the first has 9 significant
        // bits, so n·part is exact, and so is hi (x and n·part are within a factor of 2, or n = 0).
        let hi = x - n * 0.693359375
        let lo = n * 2.12194440e-4
        let r = hi + lo
        // e^r = 1 + r + r²·P(r), Cephes' minimax polynomial for expf (relative error 4e-9).
        // Estrin's scheme (as in `normalCDF`): a shorter chain of dependent operations than
        // Horner's, so more loop iterations overlap (8–10% faster).
        let r2 = r * r
        let p01 = r * 1.6666665459e-1 + 5.0000001201e-1
        let p23 = r * 8.3334519073e-3 + 4.1665795894e-2
        let p45 = r * 1.9875691500e-4 + 1.3981999507e-3
        var p = (p45 * r2 + p23) * r2 + p01
        // Summed as (1 + hi) + (the rounding error of 1 + hi, exact by Fast2Sum) + lo + r²·P, so
        // only the last addition rounds at the scale of the result. A plain 1 + r + r²·P rounds
        // twice there: errors up to 1 ulp instead of 0.77, which doubled the float noise that
        // `testGradientAccumulationMatchesOneLargeBatch` measures (libm's expf: 0.5 ulp).
        let one = 1 + hi
        p = one + ((hi - (one - 1)) + (lo + p * r2))
        // 2ⁿ as 2^⌊n/2⌋ · 2^(n−⌊n/2⌋): both factors are normal floats for every n from −126
        // (smallest normal result) to 128 (e^88.72…), where 2ⁿ alone is not.
        let ni = bits(t) &- Int32(bitPattern: magic.bitPattern)
        let half = ni &>> 1
        var y = p * float((half &+ 127) &<< 23) * float((ni &- half &+ 127) &<< 23)
        y.replace(with: .infinity, where: x .> overflowThreshold)
        y.replace(with: 0, where: x .< smallestNormalExponent)
        return y
    }

    /// ln x for positive normal x (what Box–Muller's uniforms are; zero, negatives, subnormals,
    /// infinities and NaN are not handled). Cephes' logf: x = m·2ᵉ with m in [√½, √2), then
    /// ln(1 + f) for f = m − 1 by a minimax polynomial, e·ln2 in two parts.
    @inline(__always)
    public static func log(_ x: Vector) -> Vector {
        let b = bits(x)
        // m in [0.5, 1) (frexp's convention) and e.
        var m = float((b & 0x007f_ffff) | 0x3f00_0000)
        var e = Vector(b &>> 23 &- 126)
        let small = m .< 0.707106781186547524
        e.replace(with: e - 1, where: small)
        m.replace(with: m + m, where: small)
        let f = m - 1
        let z = f * f
        var y = f * 7.0376836292e-2 - 1.1514610310e-1
        y = y * f + 1.1676998740e-1
        y = y * f - 1.2420140846e-1
        y = y * f + 1.4249322787e-1
        y = y * f - 1.6668057665e-1
        y = y * f + 2.0000714765e-1
        y = y * f - 2.4999993993e-1
        y = y * f + 3.3333331174e-1
        y = y * f * z
        y = y + e * -2.12194440e-4 - 0.5 * z
        return f + y + e * 0.693359375
    }

    /// cos(2πu), the angle given in turns (Box–Muller's second uniform). Reduced to a quarter
    /// turn by symmetry, then cos or sin of an angle in [0, π/4] by its Taylor polynomial
    /// (truncation below 2.5e-8).
    @inline(__always)
    public static func cosTwoPi(_ u: Vector) -> Vector {
        let magic: Float = 12_582_912
        // a = |u − round(u)| in [0, ½]: the same cosine.
        var a = magnitude(u - ((u + magic) - magic))
        // cos(2πa) = −cos(2π(½ − a)): fold (¼, ½] onto [0, ¼).
        let back = a .> 0.25
        a.replace(with: 0.5 - a, where: back)
        // cos(2πa) = sin(2π(¼ − a)) for a in (⅛, ¼].
        let useSine = a .> 0.125
        var turns = a
        turns.replace(with: 0.25 - a, where: useSine)
        let x = turns * (2 * Float.pi)
        let x2 = x * x
        var c = x2 * 2.48015873e-5 - 1.38888889e-3
        c = c * x2 + 4.16666667e-2
        c = c * x2 - 0.5
        c = c * x2 + 1
        var s = x2 * 2.75573192e-6 - 1.98412698e-4
        s = s * x2 + 8.33333333e-3
        s = s * x2 - 1.66666667e-1
        s = (s * x2 + 1) * x
        var y = c
        y.replace(with: s, where: useSine)
        y.replace(with: -y, where: back)
        return y
    }

    /// tanh x. Absolute error < 1e-7, relative error < 1.5e-7 on [−1, 1]; exactly ±1 for
    /// |x| ≳ 9, NaN for NaN.
    @inline(__always)
    public static func tanh(_ x: Vector) -> Vector {
        // Computed for |x|, then given the sign of x (which keeps tanh(−0) = −0).
        let sign = bits(x) & Int32(bitPattern: 0x8000_0000)
        let a = magnitude(x)
        // 1 − 2/(e^{2|x|} + 1) saturates to 1 (e^{2|x|} = ∞ gives exactly 1) but cancels near 0,
        // where Cephes' odd polynomial for |x| < 0.625 takes over.
        let z = a * a
        var p = Vector(repeating: -5.70498872745e-3)
        p = p * z + 2.06390887954e-2
        p = p * z - 5.37397155531e-2
        p = p * z + 1.33314422036e-1
        p = p * z - 3.33332819422e-1
        let y = (1 - 2 / (exp(a * 2) + 1)).replacing(with: p * z * a + a, where: a .< 0.625)
        return float(bits(y) | sign)
    }

    /// 1 / (1 + e^−x). Absolute error < 1e-7, relative error < 1.5e-7; 0 where the result would
    /// be subnormal (x < −87.34), 1 for large x, NaN for NaN.
    @inline(__always)
    public static func sigmoid(_ x: Vector) -> Vector {
        (1 / (1 + exp(-x))).replacing(with: 0, where: x .< smallestNormalExponent)
    }

    /// Φ(x) = P(N(0, 1) ≤ x) = ½·erfc(−x/√2), the Gaussian CDF in gelu. Absolute error < 3e-7;
    /// for x < 0 the tail is computed directly, so the relative error stays small too (1.3e-6
    /// on [−5, 0], 8e-6 at −12, from rounding x²), where ½·(1 + erf(x/√2)) cancels to nothing.
    /// 0 where the result would be subnormal, NaN for NaN.
    @inline(__always)
    public static func normalCDF(_ x: Vector) -> Vector {
        // The tail Q = ½·erfc(z), z = |x|/√2, as t·e^(−z² + P(t)) with t = 1/(1 + z/2): the
        // Chebyshev fit of Numerical Recipes' erfcc, relative error < 1.2e-7 for every z ≥ 0.
        let a = magnitude(x)
        let t = 1 / (1 + a * 0.353553391)
        let t2 = t * t, t4 = t2 * t2
        let p01 = t * 1.00002368 - 1.26551223, p23 = t * 0.09678418 + 0.37409196
        let p45 = t * 0.27886807 - 0.18628806, p67 = t * 1.48851587 - 1.13520398
        let p89 = t * 0.17087277 - 0.82215223
        let p = (p23 * t2 + p01) + (p67 * t2 + p45) * t4 + p89 * (t4 * t4)
        var q = 0.5 * t * exp(p - 0.5 * (a * a))
        q.replace(with: 0, where: q .< .leastNormalMagnitude)
        return q.replacing(with: 1 - q, where: .!(x .< 0))
    }

    // MARK: Buffers

    /// y = e^x over `count` floats (x and y may be the same buffer).
    public static func exp(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        map(x, y, count: count) { exp($0) }
    }

    /// x = e^x over `count` floats.
    public static func exp(inPlace x: UnsafeMutablePointer<Float>, count: Int) { exp(x, x, count: count) }

    /// y = tanh x over `count` floats (x and y may be the same buffer).
    public static func tanh(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        map(x, y, count: count) { tanh($0) }
    }

    /// y = sigmoid x over `count` floats (x and y may be the same buffer).
    public static func sigmoid(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        map(x, y, count: count) { sigmoid($0) }
    }

    /// y = Φ(x) over `count` floats (x and y may be the same buffer).
    public static func normalCDF(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        map(x, y, count: count) { normalCDF($0) }
    }

    // MARK: Reductions (eight partial results, combined at the end)

    /// The largest of `count` floats (−∞ when empty); NaNs are skipped.
    public static func max(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var m = Vector(repeating: -.infinity)
        forEachVector(count) { i, lanes in
            let v = load(x + i, lanes, padding: -.infinity)
            m.replace(with: v, where: v .> m)
        }
        // By hand: the generic `SIMD.max()` is not inlined.
        var r = m[0]
        for k in 1..<width { r = Swift.max(r, m[k]) }
        return r
    }

    /// Σ xᵢ over `count` floats.
    public static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var s = Vector()
        forEachVector(count) { i, lanes in s += load(x + i, lanes) }
        return s.sum()
    }

    /// Whether all `count` floats are finite (no NaN, no ±∞): Σ xᵢ·0 is 0 exactly when every
    /// xᵢ is finite, since ∞·0 and NaN·0 are NaN, and it cannot overflow as a plain sum can.
    public static func allFinite(_ x: UnsafePointer<Float>, count: Int) -> Bool {
        // Four independent sums: with one, each vector's addition waits for the previous one's
        // (3 cycles per 8 floats, 0.24 ms for the GAN's 2M gradients, which L3 delivers faster).
        var s0 = Vector(), s1 = Vector(), s2 = Vector(), s3 = Vector()
        var i = 0
        while i + 4 * width <= count {
            s0 += load(x + i, width) * 0
            s1 += load(x + i + width, width) * 0
            s2 += load(x + i + 2 * width, width) * 0
            s3 += load(x + i + 3 * width, width) * 0
            i += 4 * width
        }
        forEachVector(count - i) { j, lanes in s0 += load(x + i + j, lanes) * 0 }
        return (s0 + s1) + (s2 + s3) == Vector()
    }

    /// Whether every one of `count` floats is within ±`bound` (NaN is not): the check that
    /// `BLAS.gemm`'s kernel makes while storing, for values some other kernel wrote.
    public static func allWithin(_ x: UnsafePointer<Float>, count: Int, bound: Float) -> Bool {
        let high = Vector(repeating: bound), low = -high
        func within(_ v: Vector) -> SIMDMask<Bits> { (v .<= high) .& (v .>= low) }
        var within0 = SIMDMask<Bits>(repeating: true), within1 = within0
        var i = 0
        while i + 2 * width <= count {
            within0 .&= within(load(x + i, width))
            within1 .&= within(load(x + i + width, width))
            i += 2 * width
        }
        forEachVector(count - i) { j, lanes in within0 .&= within(load(x + i + j, lanes)) }
        return all(within0 .& within1)
    }

    /// Σ aᵢ·bᵢ over `count` floats.
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var s = Vector()
        forEachVector(count) { i, lanes in s += load(a + i, lanes) * load(b + i, lanes) }
        return s.sum()
    }

    /// Σ e^(xᵢ − shift) over `count` floats, also writing each term to `y` when given (x and y
    /// may be the same buffer): the middle pass of a softmax.
    public static func sumOfExp(_ x: UnsafePointer<Float>, minus shift: Float, count: Int,
                                into y: UnsafeMutablePointer<Float>? = nil) -> Float {
        var s = Vector()
        forEachVector(count) { i, lanes in
            // Padding −∞ makes the unused lanes of a partial vector contribute e^−∞ = 0.
            let e = exp(load(x + i, lanes, padding: -.infinity) - shift)
            if let y { store(e, y + i, lanes) }
            s += e
        }
        return s.sum()
    }
}
