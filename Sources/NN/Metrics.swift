import TensorCore

/// Correct predictions out of a total. Counts rather than ratios, so batches and ranks are
/// combined by summing (an allreduce of two numbers) before dividing once.
public struct MetricCount: Equatable, Sendable {
    public var correct: Int
    public var total: Int

    public init(correct: Int = 0, total: Int = 0) {
        self.correct = correct
        self.total = total
    }

    /// correct / total (0 when nothing was counted).
    public var value: Double { total == 0 ? 0 : Double(correct) / Double(total) }

    public static func + (a: MetricCount, b: MetricCount) -> MetricCount {
        MetricCount(correct: a.correct + b.correct, total: a.total + b.total)
    }

    public static func += (a: inout MetricCount, b: MetricCount) { a = a + b }
}

/// Keras accuracy metrics, counted on a batch's predictions (logits or probabilities: the
/// argmax is the same) and targets.
public enum Metric: Equatable, Sendable, CustomStringConvertible {
    /// argmax of each row of predictions against a class index per row.
    case sparseCategoricalAccuracy
    /// argmax of each row of predictions against the argmax of a one-hot target row.
    case categoricalAccuracy
    /// prediction > threshold against target ≥ 0.5, elementwise. Threshold 0.5 for
    /// probabilities, 0 for logits.
    case binaryAccuracy(threshold: Float)
    /// `sparseCategoricalAccuracy` over the rows whose label is not `ignoreClass` (padding).
    case maskedSparseCategoricalAccuracy(ignoreClass: Int)

    /// Parses a Keras metric name.
    public init?(name: String) {
        switch name {
        case "sparse_categorical_accuracy": self = .sparseCategoricalAccuracy
        case "categorical_accuracy": self = .categoricalAccuracy
        case "binary_accuracy": self = .binaryAccuracy(threshold: 0.5)
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .sparseCategoricalAccuracy: return "sparse_categorical_accuracy"
        case .categoricalAccuracy: return "categorical_accuracy"
        case .binaryAccuracy: return "binary_accuracy"
        case .maskedSparseCategoricalAccuracy: return "sparse_categorical_accuracy"
        }
    }

    public func count(_ predictions: Tensor, _ targets: Tensor) -> MetricCount {
        switch self {
        case .sparseCategoricalAccuracy: return Metrics.sparseCategoricalAccuracy(predictions, labels: targets)
        case .categoricalAccuracy: return Metrics.categoricalAccuracy(predictions, targets: targets)
        case .binaryAccuracy(let t): return Metrics.binaryAccuracy(predictions, targets: targets, threshold: t)
        case .maskedSparseCategoricalAccuracy(let c): return Metrics.sparseCategoricalAccuracy(predictions, labels: targets, ignoring: c)
        }
    }
}

/// The metric kernels.
public enum Metrics {
    /// Index of the largest of `n` values (the first one on ties, as `argmax` does).
    @inline(__always)
    public static func argmax(_ row: UnsafePointer<Float>, _ n: Int) -> Int {
        var best = 0
        var m = row[0]
        for j in 1..<max(n, 1) where row[j] > m { m = row[j]; best = j }
        return best
    }

    /// Rows whose label is `ignoring` (padding) are not counted at all.
    public static func sparseCategoricalAccuracy(_ predictions: Tensor, labels: Tensor, ignoring: Int? = nil) -> MetricCount {
        let op = "sparse_categorical_accuracy"
        let rows = checkShape { try ShapeRules.sparseLabels(predictions: predictions.shape, labels: labels.shape, op: op) }
        let n = predictions.shape.last!, p = predictions.data, y = labels.data
        let skipped = ignoring.map(Float.init)
        var correct = 0, total = 0
        for r in 0..<rows where y[r] != skipped {
            total += 1
            if Float(argmax(p + r * n, n)) == y[r] { correct += 1 }
        }
        return MetricCount(correct: correct, total: total)
    }

    public static func categoricalAccuracy(_ predictions: Tensor, targets: Tensor) -> MetricCount {
        checkShape { try ShapeRules.lossTargets(predictions: predictions.shape, targets: targets.shape, op: "categorical_accuracy") }
        let n = max(predictions.shape.last ?? 1, 1), rows = predictions.count / n
        let p = predictions.data, t = targets.data
        var correct = 0
        for r in 0..<rows where argmax(p + r * n, n) == argmax(t + r * n, n) { correct += 1 }
        return MetricCount(correct: correct, total: rows)
    }

    public static func binaryAccuracy(_ predictions: Tensor, targets: Tensor, threshold: Float = 0.5) -> MetricCount {
        checkShape { try ShapeRules.lossTargets(predictions: predictions.shape, targets: targets.shape, op: "binary_accuracy") }
        let p = predictions.data, t = targets.data
        var correct = 0
        for i in 0..<predictions.count where (p[i] > threshold) == (t[i] >= 0.5) { correct += 1 }
        return MetricCount(correct: correct, total: predictions.count)
    }
}
