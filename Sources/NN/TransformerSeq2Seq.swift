import Autograd
import TensorCore

/// An encoder-decoder Transformer for translation (Vaswani et al. 2017, post-norm, learned
/// positions): source ids → TokenAndPositionEmbedding → encoder blocks (padding masked) →
/// memory; target prefix ids → TokenAndPositionEmbedding → decoder blocks (causal
/// self-attention, cross-attention to the memory) → Dense logits over the target vocabulary.
///
/// As a `Layer` its input is one row of ids per pair: the `sourceLength` source ids followed by
/// the `targetLength` decoder input ids ([B, Ls + Lt], ids as Floats, padded at the end with
/// `padID`), and its output the logits [B, Lt, targetVocabulary], so the supervised trainer
/// drives it like any other model. `encode` and `decode` serve greedy decoding, which runs the
/// encoder once and the decoder on ever longer prefixes.
public final class TransformerSeq2Seq: Layer {
    public var name: String
    public let sourceLength: Int
    public let targetLength: Int
    public let padID: Int
    public let sourceEmbedding: TokenAndPositionEmbedding
    public let encoderBlocks: [TransformerEncoderBlock]
    public let targetEmbedding: TokenAndPositionEmbedding
    public let decoderBlocks: [TransformerDecoderBlock]
    public let output: Dense

    public init(sourceVocabulary: Int, targetVocabulary: Int, sourceLength: Int, targetLength: Int, embedDim: Int,
                numHeads: Int, keyDim: Int, ffDim: Int, encoderBlocks: Int, decoderBlocks: Int, dropout: Float = 0.1,
                epsilon: Float = 1e-6, padID: Int = 0, seed: UInt64 = 0, name: String = "transformer_seq2seq") {
        self.sourceLength = sourceLength
        self.targetLength = targetLength
        self.padID = padID
        sourceEmbedding = TokenAndPositionEmbedding(vocabularySize: sourceVocabulary, sequenceLength: sourceLength, embeddingDim: embedDim)
        self.encoderBlocks = (0..<encoderBlocks).map { i in
            TransformerEncoderBlock(embedDim: embedDim, numHeads: numHeads, keyDim: keyDim, ffDim: ffDim, dropout: dropout,
                                    epsilon: epsilon, seed: seed &+ UInt64(i))
        }
        targetEmbedding = TokenAndPositionEmbedding(vocabularySize: targetVocabulary, sequenceLength: targetLength, embeddingDim: embedDim)
        self.decoderBlocks = (0..<decoderBlocks).map { i in
            TransformerDecoderBlock(embedDim: embedDim, numHeads: numHeads, keyDim: keyDim, ffDim: ffDim, dropout: dropout,
                                    epsilon: epsilon, seed: seed &+ UInt64(encoderBlocks + 2 * i))
        }
        output = Dense(targetVocabulary)
        self.name = name
    }

    public var targetVocabulary: Int { output.units }

    /// In execution order, so the flat arena (last layer first) follows backward.
    public var sublayers: [Layer] {
        [sourceEmbedding] + encoderBlocks + [targetEmbedding] + decoderBlocks + [output]
    }

    public func build(inputShape: [Int], rng: inout RandomGenerator) throws -> [Int] {
        guard inputShape == [sourceLength + targetLength] else {
            throw shapeError("input \(shapeString(inputShape)) should be [\(sourceLength + targetLength)]: \(sourceLength) source ids, then \(targetLength) target ids")
        }
        sourceEmbedding.name = "encoder/embedding"
        var memory = try sourceEmbedding.build(inputShape: [sourceLength], rng: &rng)
        for (i, block) in encoderBlocks.enumerated() {
            block.name = "encoder/block_\(i)"
            memory = try block.build(inputShape: memory, rng: &rng)
        }
        targetEmbedding.name = "decoder/embedding"
        var shape = try targetEmbedding.build(inputShape: [targetLength], rng: &rng)
        for (i, block) in decoderBlocks.enumerated() {
            block.name = "decoder/block_\(i)"
            shape = try block.build(inputShape: shape, rng: &rng)
        }
        output.name = "decoder/logits"
        return try output.build(inputShape: shape, rng: &rng)
    }

    /// [B, Ls + Lt] ids → logits [B, Lt, targetVocabulary] (teacher forcing).
    public func forward(_ x: Variable) -> Variable {
        let ids = x.value
        let rows = ids.shape[0], width = sourceLength + targetLength
        precondition(ids.shape == [rows, width], "\(name): input \(shapeString(ids.shape)) should be [batch, \(width)]")
        let source = Tensor(uninitialized: [rows, sourceLength]), target = Tensor(uninitialized: [rows, targetLength])
        for r in 0..<rows {
            (source.data + r * sourceLength).update(from: ids.data + r * width, count: sourceLength)
            (target.data + r * targetLength).update(from: ids.data + r * width + sourceLength, count: targetLength)
        }
        let (memory, lengths) = encode(source)
        return decode(target, memory: memory, sourceLengths: lengths)
    }

    /// The encoder output [B, Ls, embedDim] for source ids [B, Ls], and each source's length
    /// up to its first padding id (at least 1, so every query has a key to attend to).
    public func encode(_ source: Tensor) -> (memory: Variable, lengths: [Int]) {
        let lengths = unpaddedLengths(source)
        var h = sourceEmbedding(Variable(source))
        for block in encoderBlocks { h = block.forward(h, keyLengths: lengths) }
        return (h, lengths)
    }

    /// Logits [B, t, targetVocabulary] for decoder input ids [B, t] (t ≤ Lt) over `memory`.
    public func decode(_ target: Tensor, memory: Variable, sourceLengths: [Int]) -> Variable {
        var h = targetEmbedding(Variable(target))
        for block in decoderBlocks { h = block.forward(h, memory: memory, memoryLengths: sourceLengths) }
        return output(h)
    }

    /// Positions before the first `padID` of each row of `ids` [B, L] (at least 1).
    public func unpaddedLengths(_ ids: Tensor) -> [Int] {
        let rows = ids.shape[0], length = ids.shape[1], pad = Float(padID)
        return (0..<rows).map { r in
            var n = 0
            while n < length, ids.data[r * length + n] != pad { n += 1 }
            return max(n, 1)
        }
    }
}

extension TransformerSeq2Seq {
    /// Greedy decoding of source ids [B, Ls]: the encoder runs once, then the decoder on the
    /// prefix `begin`, t₁, …, each next token the argmax of the last position's logits, until
    /// every row has produced `end` or `targetLength` tokens. Returns each row's tokens without
    /// `begin` and `end`. Runs in inference mode without recording gradients.
    public func greedyDecode(_ source: Tensor, begin: Int32, end: Int32) -> [[Int32]] {
        setTraining(false)
        defer { setTraining(true) }
        let rows = source.shape[0], v = targetVocabulary
        var tokens = [[Int32]](repeating: [begin], count: rows)
        var finished = [Bool](repeating: false, count: rows)
        withoutGradient {
            let (memory, lengths) = encode(source)
            for t in 1...targetLength where finished.contains(false) {
                let prefix = Tensor(tokens.flatMap { $0.map(Float.init) }, shape: [rows, t])
                let logits = decode(prefix, memory: memory, sourceLengths: lengths).value
                for r in 0..<rows {
                    let next = finished[r] ? end : Int32(Metrics.argmax(logits.data + (r * t + t - 1) * v, v))
                    tokens[r].append(next)
                    if next == end { finished[r] = true }
                }
            }
        }
        return tokens.map { Array($0.dropFirst().prefix { $0 != end }) }
    }
}
