import Autograd
import TensorCore

/// Keras `Conv2D` and `Conv1D`: `activation(conv(x, kernel) + bias)`, one fused op. The kernel
/// is [kh, kw, cin, filters] (or [k, cin, filters]) glorot-uniform with Keras' fans
/// (receptive field × channels), the bias zeros. Both ranks share this class's logic; the
/// subclasses only fix the rank and spell the Keras arguments.
public class ConvolutionLayer: Layer {
    public var name: String
    public let filters: Int
    /// Window size per spatial axis (one entry for Conv1D, two for Conv2D).
    public let kernelSize: [Int]
    public let strides: [Int]
    public let padding: Padding
    public let activation: Activation
    public let useBias: Bool
    public let kernelInitializer: Initializer
    public private(set) var kernel: Variable!
    public private(set) var bias: Variable?

    init(filters: Int, kernelSize: [Int], strides: [Int], padding: Padding, activation: Activation, useBias: Bool,
         kernelInitializer: Initializer, name: String) {
        self.filters = filters
        self.kernelSize = kernelSize
        self.strides = strides
        self.padding = padding
        self.activation = activation
        self.useBias = useBias
        self.kernelInitializer = kernelInitializer
        self.name = name
    }

    public func build(inputShape: [Int], rng: inout RandomGenerator) throws -> [Int] {
        guard filters > 0 else { throw shapeError("filters must be positive, got \(filters)") }
        guard let channels = inputShape.last, inputShape.count == kernelSize.count + 1 else {
            let expected = kernelSize.count == 2 ? "[height, width, channels]" : "[steps, channels]"
            throw shapeError("input \(shapeString(inputShape)) should be \(expected) per sample")
        }
        let kernelShape = kernelSize + [channels, filters]
        let g = try attributingShapeErrors {
            kernelSize.count == 2
                ? try ShapeRules.conv2d(input: inputShape, kernel: kernelShape, strides: strides, padding: padding)
                : try ShapeRules.conv1d(input: inputShape, kernel: kernelShape, stride: strides[0], padding: padding)
        }
        kernel = try kernelInitializer.makeParameter(kernelShape, name: "\(name)/kernel", rng: &rng)
        bias = useBias ? try Initializer.zeros.makeParameter([filters], name: "\(name)/bias", rng: &rng) : nil
        return g.outputShape(channels: filters)
    }

    public var parameters: [Variable] { [kernel, bias].compactMap { $0 } }

    /// This convolution and the max pooling `pool` that follows it as one fused op, or nil
    /// when the pair does not qualify (a softmax activation, pooling windows that overlap or pad).
    public func forward(_ x: Variable, thenMaxPool pool: PoolingLayer) -> Variable? {
        guard pool.kind == .max, pool.padding == .valid, pool.strides == pool.poolSize, pool.poolSize.count == kernelSize.count,
              case .pointwise(let kind) = activation else { return nil }
        return x.convolutionMaxPooled(kernel: kernel, bias: bias, strides: strides, padding: padding, activation: kind,
                                      poolSize: pool.poolSize)
    }

    public func forward(_ x: Variable) -> Variable {
        let kind: ActivationKind
        if case .pointwise(let k) = activation { kind = k } else { kind = .linear }
        let y = kernelSize.count == 2
            ? x.conv2d(kernel: kernel, bias: bias, strides: (strides[0], strides[1]), padding: padding, activation: kind)
            : x.conv1d(kernel: kernel, bias: bias, stride: strides[0], padding: padding, activation: kind)
        return activation == .softmax ? y.softmax() : y
    }
}

/// Keras `Conv2D(filters, kernel_size, strides=1, padding="valid", activation=None)` on NHWC.
public final class Conv2D: ConvolutionLayer {
    public init(_ filters: Int, kernelSize: (Int, Int), strides: (Int, Int) = (1, 1), padding: Padding = .valid,
                activation: Activation = .linear, useBias: Bool = true, kernelInitializer: Initializer = .glorotUniform,
                name: String = "") {
        super.init(filters: filters, kernelSize: [kernelSize.0, kernelSize.1], strides: [strides.0, strides.1],
                   padding: padding, activation: activation, useBias: useBias, kernelInitializer: kernelInitializer, name: name)
    }

    /// Square kernel and equal strides, as Keras' integer arguments.
    public convenience init(_ filters: Int, kernelSize: Int, strides: Int = 1, padding: Padding = .valid,
                            activation: Activation = .linear, useBias: Bool = true,
                            kernelInitializer: Initializer = .glorotUniform, name: String = "") {
        self.init(filters, kernelSize: (kernelSize, kernelSize), strides: (strides, strides), padding: padding,
                  activation: activation, useBias: useBias, kernelInitializer: kernelInitializer, name: name)
    }
}

/// Keras `Conv1D(filters, kernel_size, strides=1, padding="valid", activation=None)` on
/// [batch, steps, channels].
public final class Conv1D: ConvolutionLayer {
    public init(_ filters: Int, kernelSize: Int, strides: Int = 1, padding: Padding = .valid,
                activation: Activation = .linear, useBias: Bool = true, kernelInitializer: Initializer = .glorotUniform,
                name: String = "") {
        super.init(filters: filters, kernelSize: [kernelSize], strides: [strides], padding: padding,
                   activation: activation, useBias: useBias, kernelInitializer: kernelInitializer, name: name)
    }
}

extension Layer {
    /// Runs a `ShapeRules` rule, re-throwing its error attributed to this layer so the message
    /// names the layer ("conv2d_1 (Conv2D): conv2d: window 5x5 does not fit ...").
    func attributingShapeErrors<T>(_ rule: () throws -> T) throws -> T {
        do { return try rule() } catch let e as ShapeError { throw shapeError("\(e.op): \(e.message)") }
    }
}
