import TensorCore

/// Labelled samples a classifier trains on, whatever a sample holds (an image, a sequence of
/// audio feature frames): the classification workload needs only to fill batches.
public protocol LabelledSamples: Sendable {
    /// The class index of each sample.
    var labels: [Int32] { get }
    var classNames: [String] { get }
    /// The shape of one sample as the model sees it, e.g. [28, 28, 1] or [frames, features].
    var sampleShape: [Int] { get }
    /// Writes the samples at `indices` into the first rows of `batch` ([≥ indices.count] + sampleShape,
    /// or any shape with as many values per row).
    func fillSamples(_ indices: ArraySlice<Int>, into batch: Tensor)
}

extension LabelledSamples {
    public var count: Int { labels.count }
    public var classCount: Int { classNames.count }

    /// Writes the class indices of `indices` as floats into the first `indices.count` values of
    /// `batch` (the targets the sparse losses take).
    public func fillLabels(_ indices: some Collection<Int>, into batch: Tensor) {
        writeClassIndices(labels, indices, into: batch, owner: "samples")
    }
}

/// `labels[i]` for each of `indices`, as floats, into the first `indices.count` values of `batch`.
func writeClassIndices(_ labels: [Int32], _ indices: some Collection<Int>, into batch: Tensor, owner: String) {
    precondition(batch.count >= indices.count, "\(owner): label tensor of \(batch.count) values for \(indices.count) samples")
    var p = batch.data
    for i in indices {
        p.pointee = Float(labels[i])
        p += 1
    }
}
