#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What features a clip becomes.
public enum AudioFeatureKind: String, Sendable, CaseIterable {
    /// ln of the mel band energies: one value per band and frame.
    case logMel = "log_mel"
    /// The first coefficients of the orthonormal DCT-II of the log-mel energies.
    case mfcc
}

/// How clips are framed and summarised (`data` keys of the spoken-digits data set).
public struct AudioFeatureSettings: Sendable, Equatable {
    public var kind: AudioFeatureKind
    /// Clips at another rate are resampled to this one first.
    public var sampleRate: Int
    /// Samples per analysis window (25 ms: 400 at 16 kHz) and between window starts (10 ms: 160).
    public var windowLength: Int
    public var hopLength: Int
    public var melBands: Int
    /// MFCC only.
    public var coefficients: Int
    /// Every clip becomes exactly this many frames: trimmed, or padded with silence at the end.
    public var frames: Int

    public init(kind: AudioFeatureKind = .logMel, sampleRate: Int = 16_000, windowLength: Int = 400, hopLength: Int = 160,
                melBands: Int = 40, coefficients: Int = 13, frames: Int = 100) {
        precondition(windowLength >= 2 && hopLength >= 1 && melBands >= 1 && frames >= 1 && (kind == .logMel || (1...melBands).contains(coefficients)),
                     "AudioFeatureSettings: invalid \(windowLength)/\(hopLength)/\(melBands)/\(coefficients)/\(frames)")
        self.kind = kind
        self.sampleRate = sampleRate
        self.windowLength = windowLength
        self.hopLength = hopLength
        self.melBands = melBands
        self.coefficients = coefficients
        self.frames = frames
    }

    /// The FFT length: the window zero-padded to the next power of two.
    public var fftSize: Int { max(2, 1 << (Int.bitWidth - (windowLength - 1).leadingZeroBitCount)) }
    /// Values per frame.
    public var featureCount: Int { kind == .mfcc ? coefficients : melBands }
    /// [frames, featureCount], the per-sample shape a model sees.
    public var shape: [Int] { [frames, featureCount] }
}

/// Log-mel and MFCC features: frames of `windowLength` samples every `hopLength` (no centring
/// pad: frame t covers samples t·hop ..< t·hop + window), a periodic Hann window, zero-padded to
/// `fftSize`, the power spectrum |X|², the HTK mel filterbank, ln(max(E, 1e-10)), and for
/// MFCC the orthonormal DCT-II (scipy's `dct(type=2, norm="ortho")`) keeping `coefficients`.
public struct AudioFeatures: Sendable {
    public let settings: AudioFeatureSettings
    public let filterbank: MelFilterbank
    private let fft: RealFFT
    private let window: [Double]
    /// coefficients × melBands, row-major.
    private let dct: [Double]
    public static let logFloor = 1e-10
    /// Leading and trailing samples below this fraction of the peak magnitude (−40 dB) are silence.
    public static let silenceLevel = 0.01

    public init(_ settings: AudioFeatureSettings) {
        self.settings = settings
        fft = RealFFT(size: settings.fftSize)
        filterbank = MelFilterbank(bands: settings.melBands, fftSize: settings.fftSize, sampleRate: settings.sampleRate)
        let n = settings.windowLength
        window = (0..<n).map { 0.5 - 0.5 * cos(2 * .pi * Double($0) / Double(n)) }
        let m = settings.melBands
        dct = (0..<settings.coefficients).flatMap { i in
            (0..<m).map { j in (i == 0 ? (1 / Double(m)).squareRoot() : (2 / Double(m)).squareRoot()) * cos(.pi * Double(i) * (2 * Double(j) + 1) / (2 * Double(m))) }
        }
    }

    /// Frames that fit in `count` samples.
    public func frameCount(samples count: Int) -> Int {
        count < settings.windowLength ? 0 : 1 + (count - settings.windowLength) / settings.hopLength
    }

    /// ln mel energies of every whole frame of `x`: frameCount × melBands, row-major.
    public func logMel(_ x: [Double]) -> [Double] {
        let frames = frameCount(samples: x.count), w = settings.windowLength, hop = settings.hopLength, bands = settings.melBands
        var out = [Double](repeating: 0, count: frames * bands)
        var frame = [Double](repeating: 0, count: w), power = [Double](repeating: 0, count: filterbank.bins)
        var energies = [Double](repeating: 0, count: bands)
        for t in 0..<frames {
            for i in 0..<w { frame[i] = x[t * hop + i] * window[i] }
            frame.withUnsafeBufferPointer { f in power.withUnsafeMutableBufferPointer { fft.powerSpectrum(f, into: $0) } }
            power.withUnsafeBufferPointer { p in energies.withUnsafeMutableBufferPointer { filterbank.apply(p, into: $0) } }
            for m in 0..<bands { out[t * bands + m] = log(max(energies[m], AudioFeatures.logFloor)) }
        }
        return out
    }

    /// MFCCs of every whole frame of `x`: frameCount × coefficients, row-major.
    public func mfcc(_ x: [Double]) -> [Double] {
        let mel = logMel(x), bands = settings.melBands, c = settings.coefficients
        let frames = mel.count / bands
        var out = [Double](repeating: 0, count: frames * c)
        for t in 0..<frames {
            for i in 0..<c {
                var sum = 0.0
                for j in 0..<bands { sum += dct[i * bands + j] * mel[t * bands + j] }
                out[t * c + i] = sum
            }
        }
        return out
    }

    /// The features of a clip, exactly `frames` × `featureCount` values: resampled to
    /// `sampleRate`, leading and trailing silence (samples below `silenceLevel` of the peak)
    /// cut, then trimmed or padded with zeros to the length of `frames` frames.
    /// `resampler` converts clips of its input rate (pass one built once when there are many).
    public func features(of clip: AudioClip, resampler: Resampler? = nil) -> [Float] {
        let convert = resampler.flatMap { $0.inputRate == clip.sampleRate && $0.outputRate == settings.sampleRate ? $0 : nil }
            ?? Resampler(from: clip.sampleRate, to: settings.sampleRate)
        let x = voiced(convert(clip.samples))
        let length = settings.windowLength + (settings.frames - 1) * settings.hopLength
        let fitted = x.count >= length ? Array(x.prefix(length)) : x + [Double](repeating: 0, count: length - x.count)
        return (settings.kind == .mfcc ? mfcc(fitted) : logMel(fitted)).map { Float($0) }
    }

    /// `x` from its first to its last sample whose magnitude reaches `silenceLevel` of the
    /// largest; `x` itself when it is all zeros.
    func voiced(_ x: [Double]) -> [Double] {
        guard let peak = x.lazy.map(abs).max(), peak > 0 else { return x }
        let threshold = peak * AudioFeatures.silenceLevel
        let first = x.firstIndex { abs($0) >= threshold }!, last = x.lastIndex { abs($0) >= threshold }!
        return Array(x[first...last])
    }
}
