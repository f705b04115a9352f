import Autograd
import TensorCore

/// A training objective by Keras name, applied to a model's output and the batch's targets.
/// Each case is one fused op (see `Autograd/Ops/Losses.swift`) returning the mean loss.
public enum Loss: Equatable, Sendable, CustomStringConvertible {
    /// Targets are class indices (stored as Float), one per row of predictions.
    case sparseCategoricalCrossentropy(fromLogits: Bool)
    /// Targets are one-hot (or smoothed) distributions shaped like the predictions.
    case categoricalCrossentropy(fromLogits: Bool)
    /// Targets in [0, 1] shaped like the predictions.
    case binaryCrossentropy(fromLogits: Bool)
    case meanSquaredError

    /// Parses a Keras loss name (`"sparse_categorical_crossentropy"`, `"mse"`, ...).
    public init?(name: String, fromLogits: Bool = false) {
        switch name {
        case "sparse_categorical_crossentropy": self = .sparseCategoricalCrossentropy(fromLogits: fromLogits)
        case "categorical_crossentropy": self = .categoricalCrossentropy(fromLogits: fromLogits)
        case "binary_crossentropy": self = .binaryCrossentropy(fromLogits: fromLogits)
        case "mean_squared_error", "mse": self = .meanSquaredError
        default: return nil
        }
    }

    public static let names = ["sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy",
                               "mean_squared_error", "mse"]

    public var description: String {
        switch self {
        case .sparseCategoricalCrossentropy(let l): return "sparse_categorical_crossentropy\(l ? " (from logits)" : "")"
        case .categoricalCrossentropy(let l): return "categorical_crossentropy\(l ? " (from logits)" : "")"
        case .binaryCrossentropy(let l): return "binary_crossentropy\(l ? " (from logits)" : "")"
        case .meanSquaredError: return "mean_squared_error"
        }
    }

    /// The mean loss of `predictions` against `targets`, optionally weighting each sample.
    public func callAsFunction(_ predictions: Variable, _ targets: Tensor, sampleWeights: Tensor? = nil) -> Variable {
        switch self {
        case .sparseCategoricalCrossentropy(let l):
            return predictions.sparseCategoricalCrossentropy(labels: targets, fromLogits: l, sampleWeights: sampleWeights)
        case .categoricalCrossentropy(let l):
            return predictions.categoricalCrossentropy(targets: targets, fromLogits: l, sampleWeights: sampleWeights)
        case .binaryCrossentropy(let l):
            return predictions.binaryCrossentropy(targets: targets, fromLogits: l, sampleWeights: sampleWeights)
        case .meanSquaredError:
            return predictions.meanSquaredError(targets: targets, sampleWeights: sampleWeights)
        }
    }

    /// The accuracy Keras reports for `metrics=["accuracy"]` with this loss (nil for regression).
    public var accuracyMetric: Metric? {
        switch self {
        case .sparseCategoricalCrossentropy: return .sparseCategoricalAccuracy
        case .categoricalCrossentropy: return .categoricalAccuracy
        case .binaryCrossentropy(let l): return .binaryAccuracy(threshold: l ? 0 : 0.5)
        case .meanSquaredError: return nil
        }
    }
}
