/// The confusion counts of a binary classifier at one threshold. Counts, so batches and ranks
/// are combined by summing before the ratios are taken once.
public struct BinaryConfusion: Equatable, Sendable {
    public var truePositives = 0
    public var falsePositives = 0
    public var trueNegatives = 0
    public var falseNegatives = 0

    public init(truePositives: Int = 0, falsePositives: Int = 0, trueNegatives: Int = 0, falseNegatives: Int = 0) {
        self.truePositives = truePositives
        self.falsePositives = falsePositives
        self.trueNegatives = trueNegatives
        self.falseNegatives = falseNegatives
    }

    /// Counts `scores` (predicted positive when > `threshold`, as Keras' metrics decide)
    /// against `labels` (positive when ≥ 0.5).
    public init(scores: some Collection<Float>, labels: some Collection<Float>, threshold: Float) {
        self.init()
        for (s, y) in zip(scores, labels) {
            switch (s > threshold, y >= 0.5) {
            case (true, true): truePositives += 1
            case (true, false): falsePositives += 1
            case (false, false): trueNegatives += 1
            case (false, true): falseNegatives += 1
            }
        }
    }

    public var total: Int { truePositives + falsePositives + trueNegatives + falseNegatives }
    public var accuracy: Double { ratio(truePositives + trueNegatives, total) }
    /// Of the predicted positives, the share that are positive (0 when none is predicted).
    public var precision: Double { ratio(truePositives, truePositives + falsePositives) }
    /// Of the positives, the share predicted positive (0 when there is none).
    public var recall: Double { ratio(truePositives, truePositives + falseNegatives) }

    /// The four counts as Doubles, to be summed across ranks; `init(summed:)` reads them back.
    public var summable: [Double] { [truePositives, falsePositives, trueNegatives, falseNegatives].map(Double.init) }

    public init(summed v: ArraySlice<Double>) {
        let c = Array(v).map { Int($0) }
        self.init(truePositives: c[0], falsePositives: c[1], trueNegatives: c[2], falseNegatives: c[3])
    }

    private func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? 0 : Double(a) / Double(b) }
}

/// The area under the ROC curve of `scores` against 0/1 `labels`, computed exactly: the
/// probability that a random positive scores above a random negative, ties counting one half
/// (the Mann–Whitney U statistic over P·N; equals scikit-learn's `roc_auc_score`). Sorting makes
/// it O(n log n). nil when either class is absent.
public func rocAUC(scores: [Float], labels: [Float]) -> Double? {
    precondition(scores.count == labels.count, "rocAUC: \(scores.count) scores for \(labels.count) labels")
    let order = scores.indices.sorted { scores[$0] < scores[$1] }
    let positives = labels.filter { $0 >= 0.5 }.count, negatives = labels.count - positives
    guard positives > 0, negatives > 0 else { return nil }
    // Positives' rank sum, each tie group sharing the mean of its ranks (1-based).
    var rankSum = 0.0
    var i = 0
    while i < order.count {
        var j = i
        while j + 1 < order.count, scores[order[j + 1]] == scores[order[i]] { j += 1 }
        let meanRank = Double(i + j + 2) / 2
        for k in i...j where labels[order[k]] >= 0.5 { rankSum += meanRank }
        i = j + 1
    }
    let p = Double(positives)
    return (rankSum - p * (p + 1) / 2) / (p * Double(negatives))
}
