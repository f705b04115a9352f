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
    /// Sparse cross-entropy from logits over token positions whose target is not
    /// `ignoreClass` (padding, Keras' `ignore_class`). The sum over the other positions is
    /// divided by all positions, padding included, so a batch's loss does not depend on how many
    /// real tokens the other ranks' batches hold: N ranks × b stays exactly 1 rank × N·b.
    case maskedSparseCategoricalCrossentropy(ignoreClass: Int)

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
        case .maskedSparseCategoricalCrossentropy(let c): return "sparse_categorical_crossentropy (from logits, ignoring class \(c))"
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
        case .maskedSparseCategoricalCrossentropy(let c):
            precondition(sampleWeights == nil, "the masked cross-entropy weighs positions by its own mask")
            let mask = Tensor(uninitialized: targets.shape)
            for i in 0..<targets.count { mask.data[i] = targets.data[i] == Float(c) ? 0 : 1 }
            return predictions.sparseCategoricalCrossentropy(labels: targets, fromLogits: true, sampleWeights: mask)
        }
    }

    /// The accuracy Keras reports for `metrics=["accuracy"]` with this loss (nil for regression).
    public var accuracyMetric: Metric? {
        switch self {
        case .sparseCategoricalCrossentropy: return .sparseCategoricalAccuracy
        case .categoricalCrossentropy: return .categoricalAccuracy
        case .binaryCrossentropy(let l): return .binaryAccuracy(threshold: l ? 0 : 0.5)
        case .meanSquaredError: return nil
        case .maskedSparseCategoricalCrossentropy(let c): return .maskedSparseCategoricalAccuracy(ignoreClass: c)
        }
    }
}
