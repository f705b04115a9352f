import TensorCore

/// Labelled samples that are sequences of feature vectors held as floats (audio features):
/// `count` samples of `frames × featureCount` values, labels as class indices.
public struct FeatureDataset: LabelledSamples {
    /// e.g. "spoken-digits train".
    public let name: String
    public let frames: Int
    public let featureCount: Int
    public let classNames: [String]
    /// count × frames × featureCount values, row-major.
    public var features: [Float]
    public let labels: [Int32]
    /// Where each sample came from, for messages and listings.
    public let sources: [String]

    public init(name: String, frames: Int, featureCount: Int, classNames: [String], features: [Float], labels: [Int32], sources: [String]) {
        precondition(features.count == labels.count * frames * featureCount && sources.count == labels.count,
                     "\(name): \(features.count) values and \(sources.count) sources for \(labels.count) samples of \(frames)x\(featureCount)")
        self.name = name
        self.frames = frames
        self.featureCount = featureCount
        self.classNames = classNames
        self.features = features
        self.labels = labels
        self.sources = sources
    }

    /// [frames, featureCount].
    public var sampleShape: [Int] { [frames, featureCount] }
    public var sampleSize: Int { frames * featureCount }

    /// The first `limit` samples (all when nil or larger).
    public func prefix(_ limit: Int?) -> FeatureDataset {
        guard let limit, limit < count else { return self }
        return FeatureDataset(name: name, frames: frames, featureCount: featureCount, classNames: classNames,
                              features: Array(features.prefix(limit * sampleSize)), labels: Array(labels.prefix(limit)),
                              sources: Array(sources.prefix(limit)))
    }

    /// Per-feature standardisation fitted on every frame of this data set (use the training split).
    public func fitStandardizer() -> Standardizer {
        Standardizer(fitting: features, columns: featureCount, rows: Array(0..<(count * frames)))
    }

    /// Writes the samples at `indices` into the first rows of `batch` ([≥ indices.count, frames, featureCount]
    /// or any shape with as many values per row).
    public func fillSamples(_ indices: ArraySlice<Int>, into batch: Tensor) {
        let size = sampleSize
        precondition(batch.rank >= 1 && batch.shape[0] >= indices.count && batch.count == batch.shape[0] * size,
                     "\(name): batch tensor \(shapeString(batch.shape)) cannot hold \(indices.count) samples of \(shapeString(sampleShape))")
        features.withUnsafeBufferPointer { src in
            var dst = batch.data
            for i in indices {
                precondition(i >= 0 && i < count, "\(name): sample index \(i) outside 0..<\(count)")
                dst.update(from: src.baseAddress! + i * size, count: size)
                dst += size
            }
        }
    }
}
