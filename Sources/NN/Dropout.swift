import Autograd
import TensorCore

/// Keras `Dropout`: in training, zeroes each element with probability `rate` and scales the rest
/// by 1/(1 − rate); in inference, the identity. Starts in training mode (as PyTorch modules do);
/// containers switch it with `setTraining`.
///
/// The mask comes from the layer's own generator, so runs are reproducible. Data-parallel
/// training gives each rank and step its own stream with `reseedDropout(seed:stream:)`.
public final class Dropout: Layer {
    public var name: String
    public let rate: Float
    public private(set) var isTraining = true
    /// The stream the masks are drawn from; it advances with every training-mode call.
    public var generator: RandomGenerator

    public init(_ rate: Float, seed: UInt64 = 0, stream: [UInt64] = [], name: String = "") {
        self.rate = rate
        self.generator = RandomGenerator(seed: seed, stream: stream)
        self.name = name
    }

    public func build(inputShape: [Int], rng: inout RandomGenerator) throws -> [Int] {
        guard rate >= 0 && rate < 1 else { throw shapeError("rate \(rate) should be in [0, 1)") }
        return inputShape
    }

    public func setTraining(_ training: Bool) { isTraining = training }

    public func forward(_ x: Variable) -> Variable {
        isTraining ? x.dropout(rate: rate, rng: &generator) : x
    }
}

extension Layer {
    /// Gives every `Dropout` in this layer tree (depth first, in `sublayers` order) the generator
    /// `RandomGenerator(seed: seed, stream: stream + [i])` for the i-th one, e.g. with
    /// `stream: [rank, step]` as DESIGN.md asks for dropout noise.
    public func reseedDropout(seed: UInt64, stream: [UInt64]) {
        var index: UInt64 = 0
        func visit(_ layer: Layer) {
            if let d = layer as? Dropout {
                d.generator = RandomGenerator(seed: seed, stream: stream + [index])
                index += 1
            }
            for l in layer.sublayers { visit(l) }
        }
        visit(self)
    }
}
