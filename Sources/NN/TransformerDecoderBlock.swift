import Autograd
import TensorCore

/// A post-norm Transformer decoder block (Vaswani et al. 2017, with the encoder block's
/// conventions): causal self-attention over the target prefix, cross-attention from it to the
/// encoder output ("memory"), then the feed-forward network, each with a residual connection and
/// layer normalisation:
///
///     h1  = LayerNorm(x + Dropout(CausalSelfAttention(x)))
///     h2  = LayerNorm(h1 + Dropout(MultiHeadAttention(query: h1, value: memory)))
///     out = LayerNorm(h2 + Dense(embedDim)(Dense(ffDim, relu)(h2)))
///
/// The memory's padded positions are masked out of the cross-attention by `memoryLengths`.
/// The memory has the block's width (`embedDim`), so the cross-attention's weights do not depend
/// on the source length and the block builds from the target shape alone.
public final class TransformerDecoderBlock: Layer {
    public var name: String
    public let embedDim: Int
    public let numHeads: Int
    public let keyDim: Int
    public let ffDim: Int
    public let selfAttention: MultiHeadAttention
    public let selfAttentionDropout: Dropout
    public let selfAttentionNorm: LayerNormalization
    public let crossAttention: MultiHeadAttention
    public let crossAttentionDropout: Dropout
    public let crossAttentionNorm: LayerNormalization
    public let feedForward1: Dense
    public let feedForward2: Dense
    public let feedForwardNorm: LayerNormalization

    public init(embedDim: Int, numHeads: Int, keyDim: Int, ffDim: Int, dropout: Float = 0.1,
                epsilon: Float = 1e-6, seed: UInt64 = 0, name: String = "") {
        self.embedDim = embedDim
        self.numHeads = numHeads
        self.keyDim = keyDim
        self.ffDim = ffDim
        selfAttention = MultiHeadAttention(numHeads: numHeads, keyDim: keyDim, causal: true)
        selfAttentionDropout = Dropout(dropout, seed: seed)
        selfAttentionNorm = LayerNormalization(epsilon: epsilon)
        crossAttention = MultiHeadAttention(numHeads: numHeads, keyDim: keyDim)
        crossAttentionDropout = Dropout(dropout, seed: seed &+ 1)
        crossAttentionNorm = LayerNormalization(epsilon: epsilon)
        feedForward1 = Dense(ffDim, activation: .relu)
        feedForward2 = Dense(embedDim)
        feedForwardNorm = LayerNormalization(epsilon: epsilon)
        self.name = name
    }

    public var sublayers: [Layer] {
        [selfAttention, selfAttentionDropout, selfAttentionNorm, crossAttention, crossAttentionDropout, crossAttentionNorm,
         feedForward1, feedForward2, feedForwardNorm]
    }

    /// `inputShape` is the target's [length, embedDim].
    public func build(inputShape: [Int], rng: inout RandomGenerator) throws -> [Int] {
        guard inputShape.count == 2, inputShape[1] == embedDim else {
            throw shapeError("input \(shapeString(inputShape)) should be [length, \(embedDim)] (embedDim \(embedDim))")
        }
        let roles = ["self_attention", "self_attention_dropout", "self_attention_norm", "cross_attention",
                     "cross_attention_dropout", "cross_attention_norm", "ffn_1", "ffn_2", "ffn_norm"]
        return try buildChain(sublayers, roles: roles, inputShape: inputShape, rng: &rng)
    }

    /// A decoder block needs the encoder output: use `forward(_:memory:memoryLengths:)`.
    public func forward(_ x: Variable) -> Variable {
        fatalError("\(name): a decoder block attends to an encoder output; call forward(_:memory:memoryLengths:)")
    }

    /// Target `x` [B, Lt, embedDim] attending to `memory` [B, Ls, embedDim], whose sequence b
    /// holds `memoryLengths[b]` real positions followed by padding (nil: no padding).
    public func forward(_ x: Variable, memory: Variable, memoryLengths: [Int]?) -> Variable {
        let h1 = selfAttentionNorm(x + selfAttentionDropout(selfAttention(x)))
        let cross = crossAttention(query: h1, value: memory, keyLengths: memoryLengths)
        let h2 = crossAttentionNorm(h1 + crossAttentionDropout(cross))
        return feedForwardNorm(h2 + feedForward2(feedForward1(h2)))
    }
}
