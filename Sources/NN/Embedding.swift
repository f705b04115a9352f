import Autograd
import TensorCore

/// Keras `Embedding(input_dim, output_dim)`: a [inputDim, outputDim] table whose rows are looked
/// up by integer ids (given as Floats), [...] → [..., outputDim]. Initialised U(−0.05, 0.05)
/// (Keras' "uniform").
public final class Embedding: Layer {
    public var name: String
    public let inputDim: Int
    public let outputDim: Int
    public let embeddingsInitializer: Initializer
    public private(set) var embeddings: Variable!

    public init(_ inputDim: Int, _ outputDim: Int,
                embeddingsInitializer: Initializer = .uniform(low: -0.05, high: 0.05), name: String = "") {
        self.inputDim = inputDim
        self.outputDim = outputDim
        self.embeddingsInitializer = embeddingsInitializer
        self.name = name
    }

    public func build(inputShape: [Int], rng: inout RandomGenerator) throws -> [Int] {
        guard inputDim > 0, outputDim > 0 else {
            throw shapeError("vocabulary size \(inputDim) and dimension \(outputDim) must be positive")
        }
        embeddings = try embeddingsInitializer.makeParameter([inputDim, outputDim], name: "\(name)/embeddings", rng: &rng)
        return inputShape + [outputDim]
    }

    public var parameters: [Variable] { [embeddings].compactMap { $0 } }

    public func forward(_ x: Variable) -> Variable { embeddings.embeddingLookup(x) }
}

/// Learned position embeddings added to a [length, dim] input (rows 0..<length of a
/// [sequenceLength, dim] table, so shorter inputs work). Keras-hub's `PositionEmbedding` has the
/// same weight but returns only the positions and leaves the addition to the caller; adding here
/// lets the layer sit in a `Sequential`. Initialised glorot-uniform, as Keras-hub's default.
public final class PositionEmbedding: Layer {
    public var name: String
    public let sequenceLength: Int
    public let initializer: Initializer
    public private(set) var embeddings: Variable!

    public init(sequenceLength: Int, initializer: Initializer = .glorotUniform, name: String = "") {
        self.sequenceLength = sequenceLength
        self.initializer = initializer
        self.name = name
    }

    public func build(inputShape: [Int], rng: inout RandomGenerator) throws -> [Int] {
        guard let dim = inputShape.last, dim > 0, inputShape.count == 2 else {
            throw shapeError("input \(shapeString(inputShape)) should be [length, features]")
        }
        guard inputShape[0] <= sequenceLength else {
            throw shapeError("input length \(inputShape[0]) exceeds the sequence length \(sequenceLength)")
        }
        embeddings = try initializer.makeParameter([sequenceLength, dim], name: "\(name)/embeddings", rng: &rng)
        return inputShape
    }

    public var parameters: [Variable] { [embeddings].compactMap { $0 } }

    public func forward(_ x: Variable) -> Variable { x.addingPositions(embeddings) }
}

/// Keras-hub `TokenAndPositionEmbedding`: token embeddings plus learned position embeddings,
/// [length] ids → [length, embeddingDim]; both tables initialised U(−0.05, 0.05) as Keras-hub does.
public final class TokenAndPositionEmbedding: Layer {
    public var name: String
    public let vocabularySize: Int
    public let sequenceLength: Int
    public let embeddingDim: Int
    public let tokenEmbedding: Embedding
    public let positionEmbedding: PositionEmbedding

    public init(vocabularySize: Int, sequenceLength: Int, embeddingDim: Int,
                embeddingsInitializer: Initializer = .uniform(low: -0.05, high: 0.05), name: String = "") {
        self.vocabularySize = vocabularySize
        self.sequenceLength = sequenceLength
        self.embeddingDim = embeddingDim
        self.tokenEmbedding = Embedding(vocabularySize, embeddingDim, embeddingsInitializer: embeddingsInitializer)
        self.positionEmbedding = PositionEmbedding(sequenceLength: sequenceLength, initializer: embeddingsInitializer)
        self.name = name
    }

    public var sublayers: [Layer] { [tokenEmbedding, positionEmbedding] }

    public func build(inputShape: [Int], rng: inout RandomGenerator) throws -> [Int] {
        guard inputShape.count == 1 else { throw shapeError("input \(shapeString(inputShape)) should be [length] token ids") }
        tokenEmbedding.name = "\(name)/token_embedding"
        positionEmbedding.name = "\(name)/position_embedding"
        return try positionEmbedding.build(inputShape: tokenEmbedding.build(inputShape: inputShape, rng: &rng), rng: &rng)
    }

    public func forward(_ x: Variable) -> Variable { positionEmbedding(tokenEmbedding(x)) }
}
