import Autograd
import TensorCore

/// Keras' max and average pooling layers, 1-D and 2-D, over one implementation: strides
/// default to the pool size, padding `valid` (floor) or `same` (padded positions ignored).
public class PoolingLayer: Layer {
    public var name: String
    public let kind: PoolingKind
    /// Window per spatial axis (one entry for 1-D layers, two for 2-D).
    public let poolSize: [Int]
    public let strides: [Int]
    public let padding: Padding

    init(_ kind: PoolingKind, poolSize: [Int], strides: [Int]?, padding: Padding, name: String) {
        self.kind = kind
        self.poolSize = poolSize
        self.strides = strides ?? poolSize
        self.padding = padding
        self.name = name
    }

    public func build(inputShape: [Int], rng: inout RandomGenerator) throws -> [Int] {
        let g = try attributingShapeErrors {
            try ShapeRules.pooling(opName, input: inputShape, poolSize: poolSize, strides: strides, padding: padding)
        }
        return g.outputShape(channels: g.channels)
    }

    private var opName: String { (kind == .max ? "max_pool" : "avg_pool") + "\(poolSize.count)d" }

    public func forward(_ x: Variable) -> Variable {
        switch (kind, poolSize.count) {
        case (.max, 2): return x.maxPool2d(poolSize: (poolSize[0], poolSize[1]), strides: (strides[0], strides[1]), padding: padding)
        case (.average, 2): return x.avgPool2d(poolSize: (poolSize[0], poolSize[1]), strides: (strides[0], strides[1]), padding: padding)
        case (.max, _): return x.maxPool1d(poolSize: poolSize[0], stride: strides[0], padding: padding)
        case (.average, _): return x.avgPool1d(poolSize: poolSize[0], stride: strides[0], padding: padding)
        }
    }
}

/// Keras `MaxPooling2D(pool_size=(2, 2), strides=None, padding="valid")`.
public final class MaxPooling2D: PoolingLayer {
    public init(_ poolSize: (Int, Int), strides: (Int, Int)? = nil, padding: Padding = .valid, name: String = "") {
        super.init(.max, poolSize: [poolSize.0, poolSize.1], strides: strides.map { [$0.0, $0.1] }, padding: padding, name: name)
    }

    public convenience init(_ poolSize: Int = 2, strides: Int? = nil, padding: Padding = .valid, name: String = "") {
        self.init((poolSize, poolSize), strides: strides.map { ($0, $0) }, padding: padding, name: name)
    }
}

/// Keras `AveragePooling2D(pool_size=(2, 2), strides=None, padding="valid")`.
public final class AveragePooling2D: PoolingLayer {
    public init(_ poolSize: (Int, Int), strides: (Int, Int)? = nil, padding: Padding = .valid, name: String = "") {
        super.init(.average, poolSize: [poolSize.0, poolSize.1], strides: strides.map { [$0.0, $0.1] }, padding: padding, name: name)
    }

    public convenience init(_ poolSize: Int = 2, strides: Int? = nil, padding: Padding = .valid, name: String = "") {
        self.init((poolSize, poolSize), strides: strides.map { ($0, $0) }, padding: padding, name: name)
    }
}

/// Keras `MaxPooling1D(pool_size=2, strides=None, padding="valid")` on [batch, steps, channels].
public final class MaxPooling1D: PoolingLayer {
    public init(_ poolSize: Int = 2, strides: Int? = nil, padding: Padding = .valid, name: String = "") {
        super.init(.max, poolSize: [poolSize], strides: strides.map { [$0] }, padding: padding, name: name)
    }
}

/// Keras `AveragePooling1D(pool_size=2, strides=None, padding="valid")` on [batch, steps, channels].
public final class AveragePooling1D: PoolingLayer {
    public init(_ poolSize: Int = 2, strides: Int? = nil, padding: Padding = .valid, name: String = "") {
        super.init(.average, poolSize: [poolSize], strides: strides.map { [$0] }, padding: padding, name: name)
    }
}

/// Keras `GlobalAveragePooling2D`: the mean over height and width, [h, w, c] → [c].
public final class GlobalAveragePooling2D: Layer {
    public var name: String
    public init(name: String = "") { self.name = name }

    public func build(inputShape: [Int], rng: inout RandomGenerator) throws -> [Int] {
        guard inputShape.count == 3, inputShape.allSatisfy({ $0 > 0 }) else {
            throw shapeError("input \(shapeString(inputShape)) should be [height, width, channels] per sample")
        }
        return [inputShape[2]]
    }

    public func forward(_ x: Variable) -> Variable {
        let s = x.shape
        return x.reshaped([s[0], s[1] * s[2], s[3]]).mean(axis: 1)
    }
}
