import Autograd
import TensorCore

/// How a residual block's shortcut matches a changed shape (He et al. 2016, section 4.2).
public enum ResidualShortcut: String, CaseIterable, Sendable {
    /// Option B: a strided 1×1 convolution (no bias) and batch normalisation.
    case projection
    /// Option A: subsample by the stride and zero-pad the channels, no parameters (the CIFAR
    /// ResNets of the paper).
    case padding
}

/// The basic block of a CIFAR ResNet:
///
///     out = relu(BN(conv3x3(relu(BN(conv3x3/stride(x))))) + shortcut(x))
///
/// Convolutions use `same` padding, no bias (batch normalisation follows) and He-normal
/// kernels. The shortcut is the identity when stride and channels are unchanged, else as
/// `shortcut` says. Sublayers are listed in execution order, like `TransformerEncoderBlock`.
public final class ResidualBlock: Layer {
    public var name: String
    public let filters: Int
    public let strides: Int
    public let shortcut: ResidualShortcut
    public let conv1: Conv2D
    public let norm1: BatchNormalization
    public let conv2: Conv2D
    public let norm2: BatchNormalization
    /// The projection shortcut, when the block has one (known after `build`).
    public private(set) var projection: (conv: Conv2D, norm: BatchNormalization)?
    private var padsShortcut = false
    private let momentum: Float, epsilon: Float

    public init(filters: Int, strides: Int = 1, shortcut: ResidualShortcut = .projection, momentum: Float = 0.99,
                epsilon: Float = 1e-3, name: String = "") {
        self.filters = filters
        self.strides = strides
        self.shortcut = shortcut
        self.momentum = momentum
        self.epsilon = epsilon
        conv1 = Conv2D(filters, kernelSize: 3, strides: strides, padding: .same, useBias: false, kernelInitializer: .heNormal)
        norm1 = BatchNormalization(momentum: momentum, epsilon: epsilon)
        conv2 = Conv2D(filters, kernelSize: 3, padding: .same, useBias: false, kernelInitializer: .heNormal)
        norm2 = BatchNormalization(momentum: momentum, epsilon: epsilon)
        self.name = name
    }

    public var sublayers: [Layer] {
        [conv1, norm1, conv2, norm2] + (projection.map { [$0.conv, $0.norm] } ?? [])
    }

    public func build(inputShape: [Int], rng: inout RandomGenerator) throws -> [Int] {
        guard inputShape.count == 3 else {
            throw shapeError("input \(shapeString(inputShape)) should be [height, width, channels] per sample")
        }
        guard strides >= 1 else { throw shapeError("strides must be positive, got \(strides)") }
        let changes = strides != 1 || inputShape[2] != filters
        projection = nil
        padsShortcut = false
        if changes {
            switch shortcut {
            case .projection:
                projection = (Conv2D(filters, kernelSize: 1, strides: strides, useBias: false, kernelInitializer: .heNormal),
                              BatchNormalization(momentum: momentum, epsilon: epsilon))
            case .padding:
                guard inputShape[2] <= filters else {
                    throw shapeError("a padding shortcut cannot reduce \(inputShape[2]) channels to \(filters); use \"projection\"")
                }
                padsShortcut = true
            }
        }
        let shape = try buildChain(Array(sublayers.prefix(4)), roles: ["conv_1", "bn_1", "conv_2", "bn_2"],
                                   inputShape: inputShape, rng: &rng)
        if let (conv, norm) = projection {
            _ = try buildChain([conv, norm], roles: ["shortcut_conv", "shortcut_bn"], inputShape: inputShape, rng: &rng)
        }
        return shape
    }

    public func forward(_ x: Variable) -> Variable {
        let h = norm2(conv2(norm1(conv1(x)).relu()))
        let s: Variable
        if let (conv, norm) = projection {
            s = norm(conv(x))
        } else if padsShortcut {
            s = x.paddedShortcut(stride: strides, channels: filters)
        } else {
            s = x
        }
        return h.addingReLU(s)
    }
}
