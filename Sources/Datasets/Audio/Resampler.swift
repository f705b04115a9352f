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
public enum Resampler {
    public static func resample(_ x: [Double], from inputRate: Int, to outputRate: Int,
                                zeroCrossings: Int = 16, rolloff: Double = 0.94) -> [Double] {
        precondition(inputRate > 0 && outputRate > 0, "Resampler: rates must be positive, found \(inputRate) and \(outputRate)")
        if inputRate == outputRate { return x }
        let g = gcd(inputRate, outputRate), up = outputRate / g, down = inputRate / g
        let cutoff = min(1, Double(up) / Double(down)) * rolloff  // as a fraction of the input Nyquist frequency
        let halfWidth = Double(zeroCrossings) / cutoff  // in input samples
        let reach = Int(halfWidth.rounded(.up)) + 1
        let taps = 2 * reach
        // Output n sits at input time n·down/up = base + phase/up; tap j reads x[base − reach + 1 + j].
        let kernel: [Double] = (0..<up).flatMap { phase in
            (0..<taps).map { j in
                let d = Double(phase) / Double(up) + Double(reach - 1 - j)
                guard abs(d) < halfWidth else { return 0 }
                let sinc = d == 0 ? 1 : sin(.pi * cutoff * d) / (.pi * cutoff * d)
                return cutoff * sinc * (0.5 + 0.5 * cos(.pi * d / halfWidth))
            }
        }
        let count = x.count * up / down
        return (0..<count).map { n in
            let position = n * down
            let base = position / up, phase = position % up
            let first = base - reach + 1
            var sum = 0.0
            for j in max(0, -first)..<min(taps, x.count - first) { sum += x[first + j] * kernel[phase * taps + j] }
            return sum
        }
    }

    private static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
}
