import Autograd
import TensorCore

/// A plain stack of layers, each fed the previous one's output (Keras `Sequential`).
public final class Sequential: Layer {
    public var name: String
    public private(set) var layers: [Layer]
    /// Per-sample input shape and each layer's output shape, known after `build`.
    public private(set) var inputShape: [Int] = []
    public private(set) var outputShapes: [[Int]] = []

    public init(_ layers: [Layer], name: String = "sequential") {
        self.layers = layers
        self.name = name
    }

    public var sublayers: [Layer] { layers }

    public func build(inputShape: [Int], rng: inout RandomGenerator) throws -> [Int] {
        var namer = LayerNamer()
        for l in layers { namer.name(l) }
        self.inputShape = inputShape
        outputShapes = []
        var shape = inputShape
        for l in layers {
            shape = try l.build(inputShape: shape, rng: &rng)
            outputShapes.append(shape)
        }
        return shape
    }

    /// Builds for `inputShape` with weights drawn from `RandomGenerator(seed:)`.
    @discardableResult
    public func build(inputShape: [Int], seed: UInt64) throws -> [Int] {
        var rng = RandomGenerator(seed: seed)
        return try build(inputShape: inputShape, rng: &rng)
    }

    /// Each layer on the previous one's output; a convolution directly followed by a max
    /// pooling that can fuse with it runs as one op (same result, far less memory traffic).
    public func forward(_ x: Variable) -> Variable {
        var h = x, i = 0
        while i < layers.count {
            if i + 1 < layers.count, let conv = layers[i] as? ConvolutionLayer, let pool = layers[i + 1] as? PoolingLayer,
               let y = conv.forward(h, thenMaxPool: pool) {
                h = y
                i += 2
            } else {
                h = layers[i](h)
                i += 1
            }
        }
        return h
    }
}
