import Autograd
import TensorCore

/// The activations a layer can apply: the pointwise ones plus softmax over the last axis.
/// Names are Keras' (`"relu"`, `"leaky_relu"`, `"softmax"`...).
public enum Activation: Equatable, Sendable, CustomStringConvertible {
    case pointwise(ActivationKind)
    case softmax

    public static let linear = Activation.pointwise(.linear)
    public static let relu = Activation.pointwise(.relu)
    public static let sigmoid = Activation.pointwise(.sigmoid)
    public static let tanh = Activation.pointwise(.tanh)
    public static let gelu = Activation.pointwise(.gelu)
    public static func leakyRelu(alpha: Float = 0.2) -> Activation { .pointwise(.leakyRelu(alpha: alpha)) }

    /// Parses a Keras activation name; `leaky_relu` takes `alpha` (Keras' default 0.2).
    public init?(name: String, alpha: Float = 0.2) {
        switch name {
        case "linear", "none": self = .linear
        case "relu": self = .relu
        case "sigmoid": self = .sigmoid
        case "tanh": self = .tanh
        case "gelu": self = .gelu
        case "leaky_relu": self = .leakyRelu(alpha: alpha)
        case "softmax": self = .softmax
        default: return nil
        }
    }

    public static let names = ["linear", "relu", "sigmoid", "tanh", "gelu", "leaky_relu", "softmax"]

    public var description: String {
        switch self {
        case .pointwise(let k): return k.description
        case .softmax: return "softmax"
        }
    }

    public func apply(_ x: Variable) -> Variable {
        switch self {
        case .pointwise(let k): return x.activation(k)
        case .softmax: return x.softmax()
        }
    }
}

/// A standalone activation layer (Keras `Activation`, `ReLU`, `LeakyReLU`, `Softmax`).
public final class ActivationLayer: Layer {
    public var name: String
    public let activation: Activation
    public var typeName: String {
        switch activation {
        case .pointwise(.relu): return "ReLU"
        case .pointwise(.leakyRelu): return "LeakyReLU"
        case .softmax: return "Softmax"
        default: return "Activation"
        }
    }

    public init(_ activation: Activation, name: String = "") {
        self.activation = activation
        self.name = name
    }

    public func build(inputShape: [Int], rng: inout RandomGenerator) throws -> [Int] { inputShape }
    public func forward(_ x: Variable) -> Variable { activation.apply(x) }
}
