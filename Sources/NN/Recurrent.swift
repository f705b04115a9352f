import Autograd
import TensorCore

/// Keras `LSTM` (tanh activation, sigmoid recurrent activation, gate order i, f, c, o) over
/// inputs [batch, time, features], run as one coarse autograd op (see `Variable.lstm`).
/// Kernel [features, 4u] glorot-uniform, recurrent kernel [u, 4u] orthogonal, bias [4u] zeros
/// except ones for the forget gate (`unit_forget_bias`). Output [batch, time, u] with
/// `returnSequences`, else [batch, u].
///
/// A `stateful` LSTM (Keras' `stateful=True`) starts each batch from the final state of the
/// previous one, row by row, so consecutive chunks of long sequences form one sequence whose
/// gradient stops at chunk boundaries (truncated backpropagation through time). `resetStates()`
/// starts over from zeros; `states` may be saved and restored to resume exactly.
public final class LSTM: Layer {
    public var name: String
    public let units: Int
    public let returnSequences: Bool
    public let useBias: Bool
    public var stateful: Bool
    /// The carried state of a stateful layer ([batch, units] each); nil: zeros.
    public var states: (hidden: Tensor, cell: Tensor)?
    public private(set) var kernel: Variable!
    public private(set) var recurrentKernel: Variable!
    public private(set) var bias: Variable?

    public init(_ units: Int, returnSequences: Bool = false, useBias: Bool = true, stateful: Bool = false, name: String = "") {
        self.units = units
        self.returnSequences = returnSequences
        self.useBias = useBias
        self.stateful = stateful
        self.name = name
    }

    public func build(inputShape: [Int], rng: inout RandomGenerator) throws -> [Int] {
        guard inputShape.count == 2, inputShape[0] > 0, inputShape[1] > 0 else {
            throw shapeError("input \(shapeString(inputShape)) should be [time, features] per sample")
        }
        guard units > 0 else { throw shapeError("units must be positive, got \(units)") }
        kernel = try Initializer.glorotUniform.makeParameter([inputShape[1], 4 * units], name: "\(name)/kernel", rng: &rng)
        recurrentKernel = try Initializer.makeOrthogonalParameter([units, 4 * units], name: "\(name)/recurrent_kernel", rng: &rng)
        if useBias {
            let b = Tensor(zeros: [4 * units])
            (b.data + units).update(repeating: 1, count: units)
            bias = Variable(b, requiresGrad: true, name: "\(name)/bias")
        } else {
            bias = nil
        }
        return returnSequences ? [inputShape[0], units] : [units]
    }

    public var parameters: [Variable] { [kernel, recurrentKernel, bias].compactMap { $0 } }

    public func forward(_ x: Variable) -> Variable {
        guard stateful else { return forward(x, initialState: nil).output }
        if let s = states, s.hidden.shape[0] != x.shape[0] {
            fatalError("\(name): a stateful LSTM carries the state of \(s.hidden.shape[0]) sequences but got a batch of \(x.shape[0]); call resetStates() first")
        }
        let result = forward(x, initialState: states.map { (Variable($0.hidden), Variable($0.cell)) })
        states = (result.finalHidden, result.finalCell)
        return result.output
    }

    public func resetStates() { states = nil }

    /// The output together with the final state; start from `initialState` ([batch, u] each)
    /// instead of zeros to continue a sequence.
    public func forward(_ x: Variable, initialState: (hidden: Variable, cell: Variable)?) -> LSTMOutput {
        x.lstm(kernel: kernel, recurrentKernel: recurrentKernel, bias: bias, initialState: initialState,
               returnSequences: returnSequences)
    }
}
