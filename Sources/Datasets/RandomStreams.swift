import TensorCore

/// What a random stream is for. Each purpose is a distinct first stream word (four ASCII
/// letters, far from the small rank and step numbers used as stream words elsewhere), so
/// streams of different purposes never coincide.
public struct StreamPurpose: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// The epoch permutation of `DistributedSampler`, shared by all ranks.
    public static let shuffle = StreamPurpose(rawValue: 0x7368_7566)      // "shuf"
    public static let dropout = StreamPurpose(rawValue: 0x6472_6F70)      // "drop"
    public static let noise = StreamPurpose(rawValue: 0x6E6F_6973)        // "nois"
    public static let augmentation = StreamPurpose(rawValue: 0x6175_676D) // "augm"
    /// Random batch or window starts (`TokenWindows.randomStarts`).
    public static let sampling = StreamPurpose(rawValue: 0x7361_6D70)     // "samp"
}

extension RandomGenerator {
    /// The stream of one rank for one purpose: different on every rank, the same on every run.
    /// With `step`, a fresh stream per step, so resuming at a step needs no saved state;
    /// without it one stream for the whole run, whose state a checkpoint keeps.
    public init(seed: UInt64, rank: Int, purpose: StreamPurpose, step: Int? = nil) {
        var words = [purpose.rawValue, UInt64(rank)]
        if let step { words.append(UInt64(truncatingIfNeeded: step)) }
        self.init(seed: seed, stream: words)
    }
}
