#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The discrete Fourier transform of real signals of a fixed power-of-two length n, by an
/// iterative radix-2 FFT of n/2 complex points (even samples as real parts, odd as imaginary)
/// and one split pass: the standard "real FFT through a half-length complex FFT". Twiddles and
/// the bit-reversal permutation are computed once per length, so transforming a frame
/// allocates nothing beyond its scratch. Written here rather than taken from FFTW: features are
/// computed once when a data set loads, a few hundred thousand 512-point transforms, which this
/// does in well under a second, and the project keeps to the C libraries it already needs.
public struct RealFFT: Sendable {
    public let size: Int
    private let half: Int
    /// e^{-2πik/half} for k < half/2 (the complex FFT's twiddles).
    private let twiddles: [(re: Double, im: Double)]
    /// e^{-2πik/size} for k ≤ half (the split pass's).
    private let splitTwiddles: [(re: Double, im: Double)]
    private let bitReversed: [Int]

    /// `size` a power of two, at least 2.
    public init(size: Int) {
        precondition(size >= 2 && size & (size - 1) == 0, "RealFFT: size \(size) is not a power of two ≥ 2")
        self.size = size
        half = size / 2
        let h = half
        twiddles = (0..<max(h / 2, 1)).map { k in (cos(-2 * .pi * Double(k) / Double(h)), sin(-2 * .pi * Double(k) / Double(h))) }
        splitTwiddles = (0...h).map { k in (cos(-2 * .pi * Double(k) / Double(size)), sin(-2 * .pi * Double(k) / Double(size))) }
        let bits = h.trailingZeroBitCount
        bitReversed = (0..<h).map { i in (0..<bits).reduce(0) { r, b in r << 1 | (i >> b) & 1 } }
    }

    /// |X[k]|² for k = 0...size/2 of the real signal `x` (`size` values; fewer are zero-padded).
    public func powerSpectrum(_ x: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>) {
        precondition(x.count <= size && out.count == half + 1, "RealFFT: \(x.count) samples into \(out.count) bins for size \(size)")
        transform(x) { k, re, im in out[k] = re * re + im * im }
    }

    /// The spectrum X[k], k = 0...size/2, of `x` (zero-padded to `size`), as (re, im) pairs.
    public func spectrum(_ x: [Double]) -> [(re: Double, im: Double)] {
        var out = [(re: Double, im: Double)](repeating: (0, 0), count: half + 1)
        x.withUnsafeBufferPointer { p in transform(p) { k, re, im in out[k] = (re, im) } }
        return out
    }

    private func transform(_ x: UnsafeBufferPointer<Double>, _ emit: (Int, Double, Double) -> Void) {
        let h = half
        var re = [Double](repeating: 0, count: h), im = [Double](repeating: 0, count: h)
        for i in 0..<h {
            let j = bitReversed[i]
            re[j] = 2 * i < x.count ? x[2 * i] : 0
            im[j] = 2 * i + 1 < x.count ? x[2 * i + 1] : 0
        }
        var span = 1
        while span < h {
            let stride = h / (2 * span)
            var start = 0
            while start < h {
                for k in 0..<span {
                    let w = twiddles[k * stride]
                    let a = start + k, b = a + span
                    let tr = re[b] * w.re - im[b] * w.im, ti = re[b] * w.im + im[b] * w.re
                    re[b] = re[a] - tr; im[b] = im[a] - ti
                    re[a] += tr; im[a] += ti
                }
                start += 2 * span
            }
            span *= 2
        }
        // Z = FFT(even + i·odd): E[k] = (Z[k] + conj Z[h−k]) / 2, O[k] = (Z[k] − conj Z[h−k]) / 2i,
        // X[k] = E[k] + e^{−2πik/n} O[k].
        for k in 0...h {
            let (zr, zi) = k < h ? (re[k], im[k]) : (re[0], im[0])
            let (cr, ci) = k == 0 ? (re[0], -im[0]) : (re[h - k], -im[h - k])
            let er = (zr + cr) / 2, ei = (zi + ci) / 2
            let or = (zi - ci) / 2, oi = -(zr - cr) / 2
            let w = splitTwiddles[k]
            emit(k, er + w.re * or - w.im * oi, ei + w.re * oi + w.im * or)
        }
    }
}
