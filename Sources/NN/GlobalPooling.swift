import Autograd
import TensorCore

/// Keras `GlobalAveragePooling1D` (channels last): the mean over the steps axis, [L, d] → [d].
public final class GlobalAveragePooling1D: Layer {
    public var name: String

    public init(name: String = "") { self.name = name }

    public func build(inputShape: [Int], rng: inout RandomGenerator) throws -> [Int] {
        guard inputShape.count == 2 else {
            throw shapeError("input \(shapeString(inputShape)) should be [steps, features]")
        }
        return [inputShape[1]]
    }

    public func forward(_ x: Variable) -> Variable { x.mean(axis: 1) }
}
