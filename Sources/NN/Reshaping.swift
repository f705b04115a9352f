import Autograd
import TensorCore

/// Keras `Flatten`: every per-sample axis into one, [batch, ...] → [batch, product]. A free
/// view (NHWC order, so a Dense layer after it sees Keras' feature order).
public final class Flatten: Layer {
    public var name: String
    public init(name: String = "") { self.name = name }

    public func build(inputShape: [Int], rng: inout RandomGenerator) throws -> [Int] {
        [inputShape.reduce(1, *)]
    }

    public func forward(_ x: Variable) -> Variable { x.flattened() }
}

/// Keras `Reshape(target_shape)`: a per-sample view under another shape; one entry may be −1
/// and is then inferred from the element count.
public final class Reshape: Layer {
    public var name: String
    public let targetShape: [Int]
    private var resolvedShape: [Int] = []

    public init(_ targetShape: [Int], name: String = "") {
        self.targetShape = targetShape
        self.name = name
    }

    public func build(inputShape: [Int], rng: inout RandomGenerator) throws -> [Int] {
        let total = inputShape.reduce(1, *)
        let unknown = targetShape.indices.filter { targetShape[$0] == -1 }
        guard unknown.count <= 1, targetShape.allSatisfy({ $0 > 0 || $0 == -1 }) else {
            throw shapeError("target shape \(shapeString(targetShape)) may hold one -1 and otherwise positive sizes")
        }
        var shape = targetShape
        if let i = unknown.first {
            let known = targetShape.filter { $0 != -1 }.reduce(1, *)
            guard total % known == 0 else {
                throw shapeError("cannot reshape \(shapeString(inputShape)) (\(total) elements) to \(shapeString(targetShape))")
            }
            shape[i] = total / known
        }
        try attributingShapeErrors { try ShapeRules.reshape(inputShape, shape) }
        resolvedShape = shape
        return shape
    }

    public func forward(_ x: Variable) -> Variable { x.reshaped([x.shape[0]] + resolvedShape) }
}
