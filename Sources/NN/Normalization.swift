import Autograd
import TensorCore

/// Keras `LayerNormalization` over the last axis: gamma (ones) and beta (zeros), one per feature.
/// Keras' default epsilon is 1e-3; Transformer code usually passes 1e-6 (PyTorch uses 1e-5).
public final class LayerNormalization: Layer {
    public var name: String
    public let epsilon: Float
    public private(set) var gamma: Variable!
    public private(set) var beta: Variable!

    public init(epsilon: Float = 1e-3, name: String = "") {
        self.epsilon = epsilon
        self.name = name
    }

    public func build(inputShape: [Int], rng: inout RandomGenerator) throws -> [Int] {
        guard let n = inputShape.last, n > 0 else {
            throw shapeError("input \(shapeString(inputShape)) has no feature axis to normalise")
        }
        gamma = try Initializer.ones.makeParameter([n], name: "\(name)/gamma", rng: &rng)
        beta = try Initializer.zeros.makeParameter([n], name: "\(name)/beta", rng: &rng)
        return inputShape
    }

    public var parameters: [Variable] { [gamma, beta].compactMap { $0 } }

    public func forward(_ x: Variable) -> Variable { x.layerNorm(gamma: gamma, beta: beta, epsilon: epsilon) }
}
