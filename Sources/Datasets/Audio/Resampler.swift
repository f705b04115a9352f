#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Band-limited sample-rate conversion: each output sample is the input convolved with a
/// Hann-windowed sinc low-pass centred on its position in input time, with the cut-off at
/// `rolloff` × the lower of the two Nyquist frequencies, so going down in rate removes what the
/// new rate cannot hold instead of aliasing it; `zeroCrossings` sinc lobes on each side. Rates in
/// the ratio L/M (in lowest terms) put output samples at only L distinct fractional positions
/// between input samples, so the kernel is tabulated once per position (polyphase).
public struct Resampler: Sendable {
    public let inputRate: Int
    public let outputRate: Int
    /// The ratio in lowest terms: `up` output samples for every `down` input samples.
    private let up: Int
    private let down: Int
    /// Input samples read on each side of an output sample's position.
    private let reach: Int
    /// up × 2·reach weights: row `phase` for output samples at input time base + phase/up.
    private let kernel: [Double]

    public init(from inputRate: Int, to outputRate: Int, zeroCrossings: Int = 16, rolloff: Double = 0.94) {
        precondition(inputRate > 0 && outputRate > 0, "Resampler: rates must be positive, found \(inputRate) and \(outputRate)")
        self.inputRate = inputRate
        self.outputRate = outputRate
        let g = Resampler.gcd(inputRate, outputRate), up = outputRate / g, down = inputRate / g
        self.up = up
        self.down = down
        let cutoff = min(1, Double(up) / Double(down)) * rolloff  // as a fraction of the input Nyquist frequency
        let halfWidth = Double(zeroCrossings) / cutoff  // in input samples
        let reach = Int(halfWidth.rounded(.up)) + 1
        self.reach = reach
        // Tap j of phase p reads x[base − reach + 1 + j], at distance p/up + reach − 1 − j from the output's position.
        kernel = (0..<up).flatMap { phase in
            (0..<(2 * reach)).map { j in
                let d = Double(phase) / Double(up) + Double(reach - 1 - j)
                guard abs(d) < halfWidth else { return 0 }
                let sinc = d == 0 ? 1 : sin(.pi * cutoff * d) / (.pi * cutoff * d)
                return cutoff * sinc * (0.5 + 0.5 * cos(.pi * d / halfWidth))
            }
        }
    }

    /// `x` at `outputRate`: ⌊count · outputRate / inputRate⌋ samples.
    public func callAsFunction(_ x: [Double]) -> [Double] {
        if up == down { return x }
        let taps = 2 * reach
        return kernel.withUnsafeBufferPointer { k in
            x.withUnsafeBufferPointer { x in
                (0..<(x.count * up / down)).map { n in
                    let position = n * down
                    let phase = position % up, first = position / up - reach + 1
                    var sum = 0.0
                    for j in max(0, -first)..<min(taps, x.count - first) { sum += x[first + j] * k[phase * taps + j] }
                    return sum
                }
            }
        }
    }

    /// One-off conversion of `x`; build a `Resampler` once to convert many clips.
    public static func resample(_ x: [Double], from inputRate: Int, to outputRate: Int) -> [Double] {
        Resampler(from: inputRate, to: outputRate)(x)
    }

    private static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
}
