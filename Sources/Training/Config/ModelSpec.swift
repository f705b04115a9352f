import Datasets
import TensorCore

/// How a model section describes its network.
public enum ModelType: String, CaseIterable, Sendable, ConfigChoice {
    /// A list of layer specs.
    case sequential
    /// The character-level Transformer: embedding, causal encoder blocks, logits over the vocabulary.
    case transformerLM = "transformer_lm"
    /// The character-level LSTM: embedding, stacked stateful LSTMs, logits over the vocabulary.
    case lstmLM = "lstm_lm"
    /// The encoder-decoder Transformer for translation.
    case transformerSeq2Seq = "transformer_seq2seq"

    static let kind = "model type"
}

/// A network as a model section describes it.
public enum ModelSpec: Sendable, Equatable {
    case sequential(SequentialSpec)
    case transformerLM(TransformerLMSpec)
    case lstmLM(LSTMLMSpec)
    case transformerSeq2Seq(TransformerSeq2SeqSpec)

    public var type: ModelType {
        switch self {
        case .sequential: return .sequential
        case .transformerLM: return .transformerLM
        case .lstmLM: return .lstmLM
        case .transformerSeq2Seq: return .transformerSeq2Seq
        }
    }

    /// The language-model description, for the model types that generate their layer list.
    public var languageModel: LanguageModelSpec? {
        switch self {
        case .transformerLM(let spec): return spec
        case .lstmLM(let spec): return spec
        case .sequential, .transformerSeq2Seq: return nil
        }
    }

    /// Reads a model section; `type` defaults to "sequential", whose `input_shape` follows `input`.
    init(reading r: ObjectReader, task: TaskKind, input: InputShapeRule) throws {
        let type = try r.optional("type", default: ModelType.sequential)
        r.scope = "for model type \"\(type.rawValue)\""
        guard (type == .transformerSeq2Seq) == (task == .translation) else {
            throw r.error("type", task == .translation ? "task \"translation\" needs model type \"transformer_seq2seq\", not \"\(type.rawValue)\""
                                                       : "model type \"transformer_seq2seq\" needs task \"translation\", not \"\(task.rawValue)\"")
        }
        switch type {
        case .sequential:
            self = .sequential(try SequentialSpec(reading: r, input: input))
        case .transformerSeq2Seq:
            self = .transformerSeq2Seq(try TransformerSeq2SeqSpec(reading: r))
        case .transformerLM, .lstmLM:
            guard task == .languageModel else {
                throw r.error("type", "model type \"\(type.rawValue)\" needs task \"language_model\", not \"\(task.rawValue)\"")
            }
            self = type == .lstmLM ? .lstmLM(try LSTMLMSpec(reading: r)) : .transformerLM(try TransformerLMSpec(reading: r))
        }
    }
}

/// A `Sequential` model: per-sample input shape and layers.
public struct SequentialSpec: Sendable, Equatable {
    public var inputShape: [Int]
    public var layers: [LayerSpec]
    /// The model section this came from (`model`, `generator`...), for build errors.
    public var location: ConfigLocation

    public init(inputShape: [Int], layers: [LayerSpec], location: ConfigLocation) {
        self.inputShape = inputShape
        self.layers = layers
        self.location = location
    }

    init(reading r: ObjectReader, input: InputShapeRule) throws {
        if input.shape.isEmpty {
            inputShape = try r.nullable("input_shape", .shape) ?? []
        } else {
            inputShape = try r.optional("input_shape", default: input.shape, .shape)
            try input.check(inputShape, r)
        }
        layers = try r.objects("layers") { try LayerSpec(reading: $0) }
        guard !layers.isEmpty else { throw r.error("layers", "expected at least one layer") }
        location = ConfigLocation(document: r.document, path: r.path)
    }
}

/// A model type that expands to a layer list once the vocabulary is known.
public protocol LanguageModelSpec: Sendable {
    var location: ConfigLocation { get }
    /// The model as a layer list for `vocabularySize` tokens and sequences of `sequenceLength`.
    func sequential(vocabularySize: Int, sequenceLength: Int) -> SequentialSpec
}

/// `lstm_lm`: Embedding(vocabulary, embed_dim) → num_layers × (stateful LSTM(units) returning
/// sequences → Dropout) → Dense(vocabulary) logits. Trained with truncated backpropagation
/// through time: the state carries from one chunk of `data.sequence_length` characters to the
/// next (see `LanguageModelWorkload`).
public struct LSTMLMSpec: LanguageModelSpec, Equatable {
    public var embedDim: Int
    public var units: Int
    public var numLayers: Int
    public var dropout: Double
    public var location: ConfigLocation

    public init(embedDim: Int, units: Int, numLayers: Int, dropout: Double = 0, location: ConfigLocation) {
        self.embedDim = embedDim
        self.units = units
        self.numLayers = numLayers
        self.dropout = dropout
        self.location = location
    }

    init(reading r: ObjectReader) throws {
        let size = Constraint<Int>.atLeast(1)
        try self.init(embedDim: r.required("embed_dim", size), units: r.required("units", size),
                      numLayers: r.optional("num_layers", default: 1, size),
                      dropout: r.optional("dropout", default: 0, .halfOpen(0, 1)),
                      location: ConfigLocation(document: r.document, path: r.path))
    }
}

/// `transformer_lm`: TokenAndPositionEmbedding(vocabulary, sequence_length, embed_dim) →
/// num_blocks × causal TransformerEncoderBlock → Dense(vocabulary) logits. The vocabulary comes
/// from the data when the model is built; the sequence length from `data.sequence_length`.
public struct TransformerLMSpec: LanguageModelSpec, Equatable {
    public var embedDim: Int
    public var numHeads: Int
    public var keyDim: Int
    public var ffDim: Int
    public var numBlocks: Int
    public var dropout: Double
    public var epsilon: Double
    public var location: ConfigLocation

    public init(embedDim: Int, numHeads: Int, keyDim: Int, ffDim: Int, numBlocks: Int, dropout: Double = 0.1,
                epsilon: Double = 1e-6, location: ConfigLocation) {
        self.embedDim = embedDim
        self.numHeads = numHeads
        self.keyDim = keyDim
        self.ffDim = ffDim
        self.numBlocks = numBlocks
        self.dropout = dropout
        self.epsilon = epsilon
        self.location = location
    }

    init(reading r: ObjectReader) throws {
        let size = Constraint<Int>.atLeast(1)
        try self.init(embedDim: r.required("embed_dim", size), numHeads: r.required("num_heads", size),
                      keyDim: r.required("key_dim", size), ffDim: r.required("ff_dim", size),
                      numBlocks: r.required("num_blocks", size), dropout: r.optional("dropout", default: 0.1, .halfOpen(0, 1)),
                      epsilon: r.optional("epsilon", default: 1e-6, .greaterThan(0)),
                      location: ConfigLocation(document: r.document, path: r.path))
    }
}

/// What a network's `input_shape` must be for the data it is fed: its default, and whether any
/// shape with as many elements is accepted (images are reshaped to it, e.g. [784] for an MLP).
/// An empty shape (`fromData`) means the data decides it when the model is built, and
/// `input_shape` may be null.
struct InputShapeRule {
    let shape: [Int]
    let reshapable: Bool
    /// Where the shape comes from, for messages: "the samples of mnist".
    let reason: String

    /// Images of `dataset`, or any shape with as many elements.
    static func images(of dataset: DatasetName) -> InputShapeRule {
        InputShapeRule(shape: dataset.imageShape!, reshapable: true, reason: "the samples of \(dataset.rawValue)")
    }

    func check(_ inputShape: [Int], _ r: ObjectReader) throws {
        let count = shape.reduce(1, *)
        guard inputShape != shape, !(reshapable && inputShape.reduce(1, *) == count) else { return }
        let accepted = reshapable ? "\(shapeString(shape)) or another shape of \(count) elements" : shapeString(shape)
        throw r.error("input_shape", "\(shapeString(inputShape)) does not fit \(reason): expected \(accepted)")
    }
}
