import Autograd
import TensorCore

/// Keras `Dense`: `activation(x · kernel + bias)` over the last axis, fused into one op (one GEMM
/// forward, two backward). Kernel [in, units] glorot-uniform, bias zeros.
public final class Dense: Layer {
    public var name: String
    public let units: Int
    public let activation: Activation
    public let useBias: Bool
    public let kernelInitializer: Initializer
    public private(set) var kernel: Variable!
    public private(set) var bias: Variable?

    public init(_ units: Int, activation: Activation = .linear, useBias: Bool = true,
                kernelInitializer: Initializer = .glorotUniform, name: String = "") {
        self.units = units
        self.activation = activation
        self.useBias = useBias
        self.kernelInitializer = kernelInitializer
        self.name = name
    }

    public func build(inputShape: [Int], rng: inout RandomGenerator) throws -> [Int] {
        guard let inFeatures = inputShape.last, inFeatures > 0 else {
            throw shapeError("input \(shapeString(inputShape)) has no feature axis")
        }
        guard units > 0 else { throw shapeError("units must be positive, got \(units)") }
        kernel = try kernelInitializer.makeParameter([inFeatures, units], name: "\(name)/kernel", rng: &rng)
        bias = useBias ? try Initializer.zeros.makeParameter([units], name: "\(name)/bias", rng: &rng) : nil
        return Array(inputShape.dropLast()) + [units]
    }

    public var parameters: [Variable] { [kernel, bias].compactMap { $0 } }

    public func forward(_ x: Variable) -> Variable {
        switch activation {
        case .pointwise(let k): return x.dense(weight: kernel, bias: bias, activation: k)
        case .softmax: return x.dense(weight: kernel, bias: bias).softmax()
        }
    }
}
