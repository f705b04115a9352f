import Datasets

extension AudioFeatureKind: ConfigChoice {
    static let kind = "audio feature"
}

/// The `data` keys of an audio data set (spoken-digits): how clips become a sequence of
/// feature frames, the model's input [frames, features].
public struct AudioDataSpec: Sendable, Equatable {
    public var settings: AudioFeatureSettings

    init(reading r: ObjectReader) throws {
        // log-mel by default: on spoken digits it transferred to unseen voices far better than MFCCs (results.md).
        let kind: AudioFeatureKind = try r.optional("features", default: .logMel)
        let rate = try r.optional("sample_rate", default: 16_000, .closed(1000, 192_000))
        let windowMs = try r.optional("window_ms", default: 25.0, .greaterThan(0))
        let hopMs = try r.optional("hop_ms", default: 10.0, .greaterThan(0))
        let window = Int((windowMs * Double(rate) / 1000).rounded()), hop = Int((hopMs * Double(rate) / 1000).rounded())
        guard window >= 2 else { throw r.error("window_ms", "\(windowMs) ms at \(rate) Hz is \(window) samples: at least 2 expected") }
        guard hop >= 1 else { throw r.error("hop_ms", "\(hopMs) ms at \(rate) Hz is less than one sample") }
        let bands = try r.optional("mel_bands", default: 40, .closed(1, 256))
        // Always a key, so that `--set data.features=log_mel --set data.coefficients=null` switches an MFCC config over.
        var coefficients = bands
        if kind == .mfcc {
            coefficients = try r.optional("coefficients", default: 13, .closed(1, bands))
        } else if try r.nullable("coefficients", Constraint<Int>.atLeast(1)) != nil {
            throw r.error("coefficients", "MFCC only: expected null (or no key) with features \"log_mel\"")
        }
        let frames = try r.optional("frames", default: 100, .atLeast(1))
        settings = AudioFeatureSettings(kind: kind, sampleRate: rate, windowLength: window, hopLength: hop,
                                        melBands: bands, coefficients: coefficients, frames: frames)
    }

    /// The model input: every clip's feature frames.
    var inputRule: InputShapeRule {
        InputShapeRule(shape: settings.shape, reshapable: true,
                       reason: "\(settings.frames) frames × \(settings.featureCount) \(settings.kind.rawValue) features (data.frames, data.\(settings.kind == .mfcc ? "coefficients" : "mel_bands"))")
    }
}
