/// The spoken-digits data set: WAV clips of the words zero..nine in
/// `DIR/<split>/<digit>/<name>.wav` (digit folders 0..9), turned into `AudioFeatures`.
/// `launch/data/make-spoken-digits.sh` synthesises it with espeak-ng, with test speakers that
/// no training clip uses. Clips are ordered by file name, then digit, so that any prefix
/// (`train_limit`) holds the digits in turn rather than all zeros first.
public enum SpokenDigits {
    public static let classNames = (0...9).map(String.init)

    /// The clips of `split` as features, at most `limit` of them (only those are decoded).
    public static func load(from directory: String, split: DataSplit, settings: AudioFeatureSettings, limit: Int? = nil) throws -> FeatureDataset {
        let root = DataFile.join(directory, split.rawValue)
        var clips: [(name: String, label: Int)] = []
        for (label, digit) in classNames.enumerated() {
            let folder = DataFile.join(root, digit)
            guard DataFile.isDirectory(folder) else {
                throw DataError(.unreadable, file: folder, "no such folder: \(split.rawValue)/ must hold one folder per digit, 0 to 9, of .wav files")
            }
            clips += try DataFile.entries(in: folder).filter { $0.lowercased().hasSuffix(".wav") }.map { ($0, label) }
        }
        guard !clips.isEmpty else {
            throw DataError(.unreadable, file: root, "no .wav files in \(root)/0 ... \(root)/9")
        }
        clips.sort { ($0.name, $0.label) < ($1.name, $1.label) }
        if let limit { clips = Array(clips.prefix(limit)) }
        let features = AudioFeatures(settings)
        var values: [Float] = []
        values.reserveCapacity(clips.count * settings.frames * settings.featureCount)
        var sources: [String] = []
        var resamplers: [Int: Resampler] = [:]
        for clip in clips {
            let path = DataFile.join(DataFile.join(root, classNames[clip.label]), clip.name)
            let audio = try WAV.read(path)
            if resamplers[audio.sampleRate] == nil { resamplers[audio.sampleRate] = Resampler(from: audio.sampleRate, to: settings.sampleRate) }
            values += features.features(of: audio, resampler: resamplers[audio.sampleRate])
            sources.append(path)
        }
        return FeatureDataset(name: "spoken-digits \(split.rawValue)", frames: settings.frames, featureCount: settings.featureCount,
                              classNames: classNames, features: values, labels: clips.map { Int32($0.label) }, sources: sources)
    }

    /// Both splits, standardised per feature with the mean and deviation of the training frames.
    public static func loadStandardized(from directory: String, settings: AudioFeatureSettings,
                                        trainLimit: Int? = nil, testLimit: Int? = nil) throws -> (train: FeatureDataset, test: FeatureDataset) {
        var train = try load(from: directory, split: .train, settings: settings, limit: trainLimit)
        var test = try load(from: directory, split: .test, settings: settings, limit: testLimit)
        let standardizer = train.fitStandardizer()
        standardizer.apply(to: &train.features)
        standardizer.apply(to: &test.features)
        return (train, test)
    }
}
