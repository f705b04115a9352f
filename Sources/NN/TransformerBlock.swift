import Autograd
import TensorCore

/// A post-norm Transformer encoder block, as in the benchmark model (models.md, section 2):
///
///     h   = LayerNorm(x + Dropout(MultiHeadAttention(x)))
///     out = LayerNorm(h + Dense(embedDim)(Dense(ffDim, relu)(h)))
///
/// A composite layer: it creates and builds its sublayers in `build` and lists them in
/// `sublayers` (so parameters, `setTraining` and `reseedDropout` reach them). They are listed in
/// execution order, so the model's flat arena (last layer first) follows the order in which
/// backward finishes their gradients.
public final class TransformerEncoderBlock: Layer {
    public var name: String
    public let embedDim: Int
    public let numHeads: Int
    public let keyDim: Int
    public let ffDim: Int
    public let attention: MultiHeadAttention
    public let attentionDropout: Dropout
    public let attentionNorm: LayerNormalization
    public let feedForward1: Dense
    public let feedForward2: Dense
    public let feedForwardNorm: LayerNormalization

    /// `dropout` is the rate on the attention output; its masks come from `seed` until
    /// `reseedDropout` gives them another stream.
    public init(embedDim: Int, numHeads: Int, keyDim: Int, ffDim: Int, dropout: Float = 0.1,
                epsilon: Float = 1e-6, causal: Bool = false, seed: UInt64 = 0, name: String = "") {
        self.embedDim = embedDim
        self.numHeads = numHeads
        self.keyDim = keyDim
        self.ffDim = ffDim
        attention = MultiHeadAttention(numHeads: numHeads, keyDim: keyDim, causal: causal)
        attentionDropout = Dropout(dropout, seed: seed)
        attentionNorm = LayerNormalization(epsilon: epsilon)
        feedForward1 = Dense(ffDim, activation: .relu)
        feedForward2 = Dense(embedDim)
        feedForwardNorm = LayerNormalization(epsilon: epsilon)
        self.name = name
    }

    public var sublayers: [Layer] {
        [attention, attentionDropout, attentionNorm, feedForward1, feedForward2, feedForwardNorm]
    }

    public func build(inputShape: [Int], rng: inout RandomGenerator) throws -> [Int] {
        guard inputShape.count == 2, inputShape[1] == embedDim else {
            throw shapeError("input \(shapeString(inputShape)) should be [length, \(embedDim)] (embedDim \(embedDim))")
        }
        return try buildChain(sublayers, roles: ["attention", "attention_dropout", "attention_norm", "ffn_1", "ffn_2", "ffn_norm"],
                              inputShape: inputShape, rng: &rng)
    }

    public func forward(_ x: Variable) -> Variable { forward(x, keyLengths: nil) }

    /// With `keyLengths`, sequence b's positions past `keyLengths[b]` are padding: no position
    /// attends to them.
    public func forward(_ x: Variable, keyLengths: [Int]?) -> Variable {
        let h = attentionNorm(x + attentionDropout(attention(query: x, value: x, keyLengths: keyLengths)))
        return feedForwardNorm(h + feedForward2(feedForward1(h)))
    }
}
