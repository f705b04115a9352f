import Autograd
import TensorCore

/// Keras `MultiHeadAttention(num_heads, key_dim, value_dim, use_bias, output_shape)` for inputs
/// [length, features], with Keras' weights: query/key kernels [d, H, keyDim], value kernel
/// [d, H, valueDim], biases [H, headDim], output kernel [H, valueDim, outputDim] and bias
/// [outputDim], listed query, key, value, output (kernel then bias each).
///
/// Each projection is one fused GEMM on the flattened [B·L, d] input (a [d, H, dk] kernel is a
/// [d, H·dk] matrix), and attention reads the heads in place from the projected [B, L, H·dk]
/// tensors (`Variable.attention`), so no data is transposed.
///
/// Kernels are glorot-uniform with the fans of the matrix they multiply by (fan_in = d,
/// fan_out = H·dk; for the output kernel H·dv and outputDim), as Keras' EinsumDense computes
/// them from its equation (older Keras versions treated the 3-D kernels as convolutions).
/// `causal` applies Keras' `use_causal_mask=True` on every call.
public final class MultiHeadAttention: Layer {
    public var name: String
    public let numHeads: Int
    public let keyDim: Int
    public let valueDim: Int
    public let useBias: Bool
    /// Output features; nil means the query's feature size (Keras' default).
    public let outputShape: Int?
    public let causal: Bool
    public let kernelInitializer: Initializer
    public private(set) var queryKernel: Variable!
    public private(set) var queryBias: Variable?
    public private(set) var keyKernel: Variable!
    public private(set) var keyBias: Variable?
    public private(set) var valueKernel: Variable!
    public private(set) var valueBias: Variable?
    public private(set) var outputKernel: Variable!
    public private(set) var outputBias: Variable?

    public init(numHeads: Int, keyDim: Int, valueDim: Int? = nil, useBias: Bool = true, outputShape: Int? = nil,
                causal: Bool = false, kernelInitializer: Initializer = .glorotUniform, name: String = "") {
        self.numHeads = numHeads
        self.keyDim = keyDim
        self.valueDim = valueDim ?? keyDim
        self.useBias = useBias
        self.outputShape = outputShape
        self.causal = causal
        self.kernelInitializer = kernelInitializer
        self.name = name
    }

    /// Self-attention: query, key and value are all the input.
    public func build(inputShape: [Int], rng: inout RandomGenerator) throws -> [Int] {
        try build(queryShape: inputShape, valueShape: inputShape, rng: &rng)
    }

    /// Cross-attention: per-sample query [Lq, dq], value [Lk, dv] and key [Lk, dk] (the value's
    /// shape when nil); returns [Lq, outputShape ?? dq].
    public func build(queryShape: [Int], valueShape: [Int], keyShape: [Int]? = nil,
                      rng: inout RandomGenerator) throws -> [Int] {
        let keyShape = keyShape ?? valueShape
        guard numHeads > 0, keyDim > 0, valueDim > 0, (outputShape ?? 1) > 0 else {
            throw shapeError("numHeads \(numHeads), keyDim \(keyDim), valueDim \(valueDim) and outputShape must be positive")
        }
        for (role, s) in [("query", queryShape), ("value", valueShape), ("key", keyShape)] where s.count != 2 || s[1] <= 0 {
            throw shapeError("\(role) \(shapeString(s)) should be [length, features]")
        }
        do {
            _ = try ShapeRules.attention(query: [1, queryShape[0], numHeads * keyDim],
                                         key: [1, keyShape[0], numHeads * keyDim],
                                         value: [1, valueShape[0], numHeads * valueDim], heads: numHeads)
        } catch let error as ShapeError {
            throw shapeError(error.description)
        }
        let out = outputShape ?? queryShape[1]
        (queryKernel, queryBias) = try projection("query", inputs: queryShape[1], headDim: keyDim, rng: &rng)
        (keyKernel, keyBias) = try projection("key", inputs: keyShape[1], headDim: keyDim, rng: &rng)
        (valueKernel, valueBias) = try projection("value", inputs: valueShape[1], headDim: valueDim, rng: &rng)
        outputKernel = try kernel([numHeads, valueDim, out], matrix: [numHeads * valueDim, out], "output", rng: &rng)
        outputBias = useBias ? try Initializer.zeros.makeParameter([out], name: "\(name)/output/bias", rng: &rng) : nil
        return [queryShape[0], out]
    }

    /// An input projection's kernel [d, H, headDim] and bias [H, headDim].
    private func projection(_ part: String, inputs d: Int, headDim: Int,
                            rng: inout RandomGenerator) throws -> (Variable, Variable?) {
        let k = try kernel([d, numHeads, headDim], matrix: [d, numHeads * headDim], part, rng: &rng)
        let b = useBias ? try Initializer.zeros.makeParameter([numHeads, headDim], name: "\(name)/\(part)/bias", rng: &rng) : nil
        return (k, b)
    }

    /// A kernel of Keras' `shape`, initialised as the `matrix` it is used as (for its fans).
    private func kernel(_ shape: [Int], matrix: [Int], _ part: String, rng: inout RandomGenerator) throws -> Variable {
        let m = try kernelInitializer.makeParameter(matrix, name: "", rng: &rng)
        return Variable(m.value.reshaped(shape), requiresGrad: true, name: "\(name)/\(part)/kernel")
    }

    public var parameters: [Variable] {
        [queryKernel, queryBias, keyKernel, keyBias, valueKernel, valueBias, outputKernel, outputBias].compactMap { $0 }
    }

    public func forward(_ x: Variable) -> Variable { self(query: x, value: x) }

    /// Attention of `query` [B, Lq, dq] over `value` [B, Lk, dv] with keys `key` [B, Lk, dk]
    /// (the value when nil), as Keras' `mha(query, value, key)`. `keyLengths` masks padding: batch
    /// element b attends to its first `keyLengths[b]` keys only.
    public func callAsFunction(query: Variable, value: Variable, key: Variable? = nil, keyLengths: [Int]? = nil) -> Variable {
        let q = project(query, queryKernel, queryBias, inputs: queryKernel.shape[0])
        let k = project(key ?? value, keyKernel, keyBias, inputs: keyKernel.shape[0])
        let v = project(value, valueKernel, valueBias, inputs: valueKernel.shape[0])
        let o = Variable.attention(query: q, key: k, value: v, heads: numHeads, causal: causal, keyLengths: keyLengths)
        return project(o, outputKernel, outputBias, inputs: numHeads * valueDim)
    }

    /// x · kernel + bias with the kernel viewed as an [inputs, count / inputs] matrix.
    private func project(_ x: Variable, _ kernel: Variable, _ bias: Variable?, inputs: Int) -> Variable {
        let units = kernel.count / inputs
        let b = bias.map { $0.shape == [units] ? $0 : $0.reshaped([units]) }
        return x.dense(weight: kernel.reshaped([inputs, units]), bias: b)
    }
}
