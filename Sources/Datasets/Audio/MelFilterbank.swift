#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Triangular filters evenly spaced on the HTK mel scale, mel(f) = 2595·log10(1 + f/700), from
/// 0 Hz to the Nyquist frequency, with peak 1 and no area normalisation (HTK's, Kaldi's and
/// torchaudio's default; librosa's `filters.mel(htk=True, norm=None)`). Each triangle is
/// linear in Hz between its neighbours' centres, so between the first and the last centre the
/// filters sum to 1 at every frequency.
public struct MelFilterbank: Sendable {
    public let bands: Int
    /// Frequency-bin count of the spectra it takes: fftSize / 2 + 1.
    public let bins: Int
    /// bands × bins weights, row-major.
    public let weights: [Double]
    /// The bands + 2 edge frequencies in Hz: band m spans edges[m]...edges[m + 2], peak at edges[m + 1].
    public let edges: [Double]
    /// The bins where each band's weight is not zero.
    private let support: [Range<Int>]

    public static func mel(_ hz: Double) -> Double { 2595 * log10(1 + hz / 700) }
    public static func hz(_ mel: Double) -> Double { 700 * (pow(10, mel / 2595) - 1) }

    public init(bands: Int, fftSize: Int, sampleRate: Int) {
        self.bands = bands
        bins = fftSize / 2 + 1
        let top = MelFilterbank.mel(Double(sampleRate) / 2)
        let edges = (0..<(bands + 2)).map { MelFilterbank.hz(top * Double($0) / Double(bands + 1)) }
        self.edges = edges
        var w = [Double](repeating: 0, count: bands * bins)
        for m in 0..<bands {
            for k in 0..<bins {
                let f = Double(k) * Double(sampleRate) / Double(fftSize)
                let rising = (f - edges[m]) / (edges[m + 1] - edges[m]), falling = (edges[m + 2] - f) / (edges[m + 2] - edges[m + 1])
                w[m * bins + k] = max(0, min(rising, falling))
            }
        }
        weights = w
        support = (0..<bands).map { m in
            let nonzero = (0..<(fftSize / 2 + 1)).filter { w[m * (fftSize / 2 + 1) + $0] > 0 }
            return (nonzero.first ?? 0)..<((nonzero.last ?? -1) + 1)
        }
    }

    /// The band energies of one power spectrum (`bins` values) into `out` (`bands` values),
    /// each summed over its triangle's bins only.
    public func apply(_ power: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>) {
        weights.withUnsafeBufferPointer { w in
            for m in 0..<bands {
                var sum = 0.0
                for k in support[m] { sum += w[m * bins + k] * power[k] }
                out[m] = sum
            }
        }
    }
}
