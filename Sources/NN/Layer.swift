import Autograd
import TensorCore

/// A building block of a model, in the Keras / Swift for TensorFlow style: configured at
/// init, built lazily for an input shape (which creates its parameters), then applied with
/// `layer(x)`.
///
/// Shapes passed to `build` are per sample (no batch axis), as Keras' `input_shape`;
/// variables passed to `forward` carry the batch as their first axis.
public protocol Layer: AnyObject {
    /// Unique name within a model ("dense_1"); assigned by the container when empty.
    var name: String { get set }
    /// Keras class name, shown by `summary()` ("Dense", "Conv2D").
    var typeName: String { get }
    /// Creates the parameters for inputs of `inputShape` with initial values drawn from `rng`,
    /// and returns the output shape. Throws a `ShapeError` naming the layer when the input does
    /// not fit.
    func build(inputShape: [Int], rng: inout RandomGenerator) throws -> [Int]
    /// Trainable parameters of this layer and its sublayers, in a fixed order.
    var parameters: [Variable] { get }
    /// Directly contained layers (containers and composite blocks).
    var sublayers: [Layer] { get }
    func forward(_ x: Variable) -> Variable
    /// Switches between training and inference behaviour (Dropout); containers propagate it.
    func setTraining(_ training: Bool)
}

extension Layer {
    public var typeName: String { String(describing: type(of: self)) }
    public var parameters: [Variable] { sublayers.flatMap { $0.parameters } }
    public var sublayers: [Layer] { [] }
    public func setTraining(_ training: Bool) { for l in sublayers { l.setTraining(training) } }
    public func callAsFunction(_ x: Variable) -> Variable { forward(x) }

    /// Names each of `layers` "<name>/<role>" and builds them one after another from
    /// `inputShape` (a composite block's chain); returns the last one's output shape.
    func buildChain(_ layers: [Layer], roles: [String], inputShape: [Int], rng: inout RandomGenerator) throws -> [Int] {
        var shape = inputShape
        for (layer, role) in zip(layers, roles) {
            layer.name = "\(name)/\(role)"
            shape = try layer.build(inputShape: shape, rng: &rng)
        }
        return shape
    }

    /// This layer and every layer inside it, depth first.
    public var allLayers: [Layer] { [self] + sublayers.flatMap { $0.allLayers } }

    /// Number of scalar parameters.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    /// Puts all parameters into one flat arena (and their gradients into a second one), last
    /// layer first, so that during backward the gradient arena fills from its start.
    public func flattenParameters() -> FlatParameters { FlatParameters(parameters.reversed()) }

    /// A `ShapeError` attributed to this layer.
    public func shapeError(_ message: String) -> ShapeError { ShapeError("\(name) (\(typeName))", message) }
}

/// Keras-style automatic layer names: "conv2d", "conv2d_1", "dense", ...
public struct LayerNamer {
    private var counts: [String: Int] = [:]
    public init() {}

    public mutating func name(_ layer: Layer) {
        guard layer.name.isEmpty else { return }
        let base = LayerNamer.snakeCase(layer.typeName)
        let k = counts[base, default: 0]
        counts[base] = k + 1
        layer.name = k == 0 ? base : "\(base)_\(k)"
    }

    static func snakeCase(_ s: String) -> String {
        var out = ""
        let chars = Array(s)
        for (i, c) in chars.enumerated() {
            if c.isUppercase && i > 0 && (chars[i - 1].isLowercase || (i + 1 < chars.count && chars[i + 1].isLowercase && chars[i - 1].isUppercase && !chars[i - 1].isNumber)) {
                out.append("_")
            }
            out.append(contentsOf: c.lowercased())
        }
        return out
    }
}
