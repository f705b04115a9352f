import NN

/// A loss name as NN's `Loss(name:)` accepts it.
struct LossName: ConfigChoice {
    static let kind = "loss"
    static var choices: [String] { Loss.names }
    let choice: String
    init?(choice: String) {
        guard Loss(name: choice) != nil else { return nil }
        self.choice = choice
    }
}

/// Metric names: `accuracy` is the accuracy that fits the loss, as in Keras' `metrics=["accuracy"]`.
enum MetricName: String, CaseIterable, ConfigChoice {
    case accuracy
    case sparseCategoricalAccuracy = "sparse_categorical_accuracy"
    case categoricalAccuracy = "categorical_accuracy"
    case binaryAccuracy = "binary_accuracy"

    static let kind = "metric"
}

extension ObjectReader {
    /// The `loss` section: `name` and, for the cross-entropies, `from_logits` (default false).
    func loss() throws -> Loss {
        try object("loss") { r in
            let name: LossName = try r.required("name")
            r.scope = "for loss \"\(name.choice)\""
            if Loss(name: name.choice) == .meanSquaredError { return .meanSquaredError }
            return Loss(name: name.choice, fromLogits: try r.optional("from_logits", default: false))!
        }
    }

    /// The optional `metrics` list, resolved against `loss`.
    func metrics(for loss: Loss) throws -> [Metric] {
        let names = try optional("metrics", default: [MetricName]())
        return try names.enumerated().map { i, name in
            if name != .accuracy { return Metric(name: name.rawValue)! }
            guard let metric = loss.accuracyMetric else {
                throw document.error(at: path.appending("metrics").appending(index: i), "\"accuracy\" has no meaning for loss \(loss)")
            }
            return metric
        }
    }
}
