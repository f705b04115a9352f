import Foundation
import Autograd
import TensorCore

/// Weight initialisers with Keras' names and formulas.
public enum Initializer: Sendable, Equatable {
    case zeros
    case ones
    /// U(−l, l) with l = sqrt(6 / (fan_in + fan_out)) — Keras' default for kernels.
    case glorotUniform
    case heNormal
    case uniform(low: Float, high: Float)
    case normal(std: Float)

    /// Fills `t`. Fans follow Keras: for a kernel [..receptive.., in, out] the receptive field
    /// size multiplies both.
    public func fill(_ t: Tensor, rng: inout RandomGenerator) {
        switch self {
        case .zeros: t.fill(0)
        case .ones: t.fill(1)
        case .glorotUniform:
            let (fi, fo) = Initializer.fans(t.shape)
            let l = (6 / Float(fi + fo)).squareRoot()
            rng.fillUniform(t, low: -l, high: l)
        case .heNormal:
            let (fi, _) = Initializer.fans(t.shape)
            rng.fillNormal(t, std: (2 / Float(fi)).squareRoot())
        case .uniform(let lo, let hi): rng.fillUniform(t, low: lo, high: hi)
        case .normal(let s): rng.fillNormal(t, std: s)
        }
    }

    static func fans(_ shape: [Int]) -> (Int, Int) {
        switch shape.count {
        case 0: return (1, 1)
        case 1: return (shape[0], shape[0])
        case 2: return (shape[0], shape[1])
        default:
            let receptive = shape.dropLast(2).reduce(1, *)
            return (shape[shape.count - 2] * receptive, shape[shape.count - 1] * receptive)
        }
    }

    /// A new trainable parameter of `shape` initialised by this initialiser.
    public func makeParameter(_ shape: [Int], name: String, rng: inout RandomGenerator) throws -> Variable {
        try Initializer.checkFitsInMemory(shape, name: name)
        let t = Tensor(uninitialized: shape)
        fill(t, rng: &rng)
        return Variable(t, requiresGrad: true, name: name)
    }

    /// Refuses, before allocating it, a parameter that cannot fit in this machine's memory (a
    /// typo such as `"units": 1000000000000` would otherwise end in an allocation failure).
    static func checkFitsInMemory(_ shape: [Int], name: String) throws {
        var count = 1
        for d in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            count = overflow ? .max : product
        }
        let memory = Int(ProcessInfo.processInfo.physicalMemory)
        guard count > memory / 4 else { return }
        let gib = { (bytes: Double) in String(format: "%.1f GiB", bytes / 1_073_741_824) }
        throw ShapeError(name, "a parameter of shape \(shapeString(shape)) needs \(count == .max ? "more than 2^63 values" : gib(Double(count) * 4)), more than this machine's memory (\(gib(Double(memory))))")
    }
}
