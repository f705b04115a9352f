import NN
import TensorCore

/// The layer types a sequential model spec may use, by their Keras class names.
public enum LayerType: String, CaseIterable, Sendable, ConfigChoice {
    case dense = "Dense"
    case conv2D = "Conv2D"
    case conv1D = "Conv1D"
    case maxPooling2D = "MaxPooling2D"
    case averagePooling2D = "AveragePooling2D"
    case maxPooling1D = "MaxPooling1D"
    case averagePooling1D = "AveragePooling1D"
    case globalAveragePooling1D = "GlobalAveragePooling1D"
    case globalAveragePooling2D = "GlobalAveragePooling2D"
    case flatten = "Flatten"
    case reshape = "Reshape"
    case dropout = "Dropout"
    case embedding = "Embedding"
    case layerNormalization = "LayerNormalization"
    case batchNormalization = "BatchNormalization"
    case residualBlock = "ResidualBlock"
    case activation = "Activation"
    case leakyReLU = "LeakyReLU"
    case positionEmbedding = "PositionEmbedding"
    case tokenAndPositionEmbedding = "TokenAndPositionEmbedding"
    case transformerEncoderBlock = "TransformerEncoderBlock"
    case lstm = "LSTM"
    case graphConv = "GraphConv"

    static let kind = "layer type"
}

extension Padding: ConfigChoice {
    static let kind = "padding"
}

extension ResidualShortcut: ConfigChoice {
    static let kind = "shortcut"
}

/// One layer of a sequential model spec, with the arguments of the NN initialiser it makes.
/// `Activation` and `LeakyReLU` specs both become `.activation`.
public enum LayerSpec: Sendable, Equatable {
    case dense(units: Int, activation: Activation, useBias: Bool)
    case conv2D(filters: Int, kernelSize: WindowSize, strides: WindowSize, padding: Padding, activation: Activation, useBias: Bool)
    case conv1D(filters: Int, kernelSize: Int, strides: Int, padding: Padding, activation: Activation, useBias: Bool)
    /// Strides nil: the pool size, as Keras.
    case pooling2D(PoolingKind, poolSize: WindowSize, strides: WindowSize?, padding: Padding)
    case pooling1D(PoolingKind, poolSize: Int, strides: Int?, padding: Padding)
    case globalAveragePooling1D
    case globalAveragePooling2D
    case flatten
    case reshape(targetShape: [Int])
    case dropout(rate: Double)
    case embedding(inputDim: Int, outputDim: Int)
    case layerNormalization(epsilon: Double)
    case batchNormalization(momentum: Double, epsilon: Double)
    case residualBlock(filters: Int, strides: Int, shortcut: ResidualShortcut, momentum: Double, epsilon: Double)
    case activation(Activation)
    case positionEmbedding(sequenceLength: Int)
    case tokenAndPositionEmbedding(vocabularySize: Int, sequenceLength: Int, embeddingDim: Int)
    case transformerEncoderBlock(embedDim: Int, numHeads: Int, keyDim: Int, ffDim: Int, dropout: Double, epsilon: Double, causal: Bool)
    case lstm(units: Int, returnSequences: Bool, stateful: Bool = false)
    /// The adjacency comes from the data: the node-classification job sets it after building.
    case graphConv(units: Int, activation: Activation, useBias: Bool)

    /// Reads `{"type": ..., arguments}`; each type allows exactly its own arguments.
    init(reading r: ObjectReader) throws {
        let type: LayerType = try r.required("type")
        r.scope = "for layer type \"\(type.rawValue)\""
        let size = Constraint<Int>.atLeast(1)
        switch type {
        case .dense:
            self = try .dense(units: r.required("units", size), activation: r.activation(), useBias: r.optional("use_bias", default: true))
        case .conv2D:
            self = try .conv2D(filters: r.required("filters", size), kernelSize: r.required("kernel_size", .positive),
                               strides: r.optional("strides", default: WindowSize(1), .positive),
                               padding: r.optional("padding", default: .valid), activation: r.activation(),
                               useBias: r.optional("use_bias", default: true))
        case .conv1D:
            self = try .conv1D(filters: r.required("filters", size), kernelSize: r.required("kernel_size", size),
                               strides: r.optional("strides", default: 1, size), padding: r.optional("padding", default: .valid),
                               activation: r.activation(), useBias: r.optional("use_bias", default: true))
        case .maxPooling2D, .averagePooling2D:
            self = try .pooling2D(type == .maxPooling2D ? .max : .average, poolSize: r.optional("pool_size", default: WindowSize(2), .positive),
                                  strides: r.nullable("strides", .positive), padding: r.optional("padding", default: .valid))
        case .maxPooling1D, .averagePooling1D:
            self = try .pooling1D(type == .maxPooling1D ? .max : .average, poolSize: r.optional("pool_size", default: 2, size),
                                  strides: r.nullable("strides", size), padding: r.optional("padding", default: .valid))
        case .globalAveragePooling1D: self = .globalAveragePooling1D
        case .globalAveragePooling2D: self = .globalAveragePooling2D
        case .flatten: self = .flatten
        case .reshape:
            let inferred = Constraint<[Int]>(description: "with entries ≥ 1 and at most one -1 (inferred)") {
                !$0.isEmpty && $0.allSatisfy { $0 >= 1 || $0 == -1 } && $0.filter { $0 == -1 }.count <= 1
            }
            self = try .reshape(targetShape: r.required("target_shape", inferred))
        case .dropout:
            self = try .dropout(rate: r.required("rate", .halfOpen(0, 1)))
        case .embedding:
            self = try .embedding(inputDim: r.required("input_dim", size), outputDim: r.required("output_dim", size))
        case .layerNormalization:
            self = try .layerNormalization(epsilon: r.optional("epsilon", default: 1e-3, .greaterThan(0)))
        case .batchNormalization:
            self = try .batchNormalization(momentum: r.optional("momentum", default: 0.99, .halfOpen(0, 1)),
                                           epsilon: r.optional("epsilon", default: 1e-3, .greaterThan(0)))
        case .residualBlock:
            self = try .residualBlock(filters: r.required("filters", size), strides: r.optional("strides", default: 1, size),
                                      shortcut: r.optional("shortcut", default: .projection),
                                      momentum: r.optional("momentum", default: 0.99, .halfOpen(0, 1)),
                                      epsilon: r.optional("epsilon", default: 1e-3, .greaterThan(0)))
        case .activation:
            self = try .activation(r.activation(default: nil))
        case .leakyReLU:
            self = try .activation(.leakyRelu(alpha: Float(r.optional("alpha", default: 0.3, .atLeast(0)))))
        case .positionEmbedding:
            self = try .positionEmbedding(sequenceLength: r.required("sequence_length", size))
        case .tokenAndPositionEmbedding:
            self = try .tokenAndPositionEmbedding(vocabularySize: r.required("vocabulary_size", size),
                                                  sequenceLength: r.required("sequence_length", size),
                                                  embeddingDim: r.required("embedding_dim", size))
        case .transformerEncoderBlock:
            self = try .transformerEncoderBlock(embedDim: r.required("embed_dim", size), numHeads: r.required("num_heads", size),
                                                keyDim: r.required("key_dim", size), ffDim: r.required("ff_dim", size),
                                                dropout: r.optional("dropout", default: 0.1, .halfOpen(0, 1)),
                                                epsilon: r.optional("epsilon", default: 1e-6, .greaterThan(0)),
                                                causal: r.optional("causal", default: false))
        case .lstm:
            self = try .lstm(units: r.required("units", size), returnSequences: r.optional("return_sequences", default: false),
                             stateful: r.optional("stateful", default: false))
        case .graphConv:
            self = try .graphConv(units: r.required("units", size), activation: r.activation(), useBias: r.optional("use_bias", default: true))
        }
    }

    /// The unbuilt layer. Dropout masks start from `seed` on a stream of the layer's `index` (the
    /// trainers reseed them per rank and step).
    public func makeLayer(seed: UInt64, index: Int) -> Layer {
        switch self {
        case .dense(let units, let activation, let useBias):
            return Dense(units, activation: activation, useBias: useBias)
        case .conv2D(let filters, let kernel, let strides, let padding, let activation, let useBias):
            return Conv2D(filters, kernelSize: kernel.pair, strides: strides.pair, padding: padding, activation: activation, useBias: useBias)
        case .conv1D(let filters, let kernel, let strides, let padding, let activation, let useBias):
            return Conv1D(filters, kernelSize: kernel, strides: strides, padding: padding, activation: activation, useBias: useBias)
        case .pooling2D(.max, let size, let strides, let padding):
            return MaxPooling2D(size.pair, strides: strides?.pair, padding: padding)
        case .pooling2D(.average, let size, let strides, let padding):
            return AveragePooling2D(size.pair, strides: strides?.pair, padding: padding)
        case .pooling1D(.max, let size, let strides, let padding):
            return MaxPooling1D(size, strides: strides, padding: padding)
        case .pooling1D(.average, let size, let strides, let padding):
            return AveragePooling1D(size, strides: strides, padding: padding)
        case .globalAveragePooling1D: return GlobalAveragePooling1D()
        case .globalAveragePooling2D: return GlobalAveragePooling2D()
        case .flatten: return Flatten()
        case .reshape(let shape): return Reshape(shape)
        case .dropout(let rate): return Dropout(Float(rate), seed: seed, stream: [UInt64(index)])
        case .embedding(let inputDim, let outputDim): return Embedding(inputDim, outputDim)
        case .layerNormalization(let epsilon): return LayerNormalization(epsilon: Float(epsilon))
        case .batchNormalization(let momentum, let epsilon): return BatchNormalization(momentum: Float(momentum), epsilon: Float(epsilon))
        case .residualBlock(let filters, let strides, let shortcut, let momentum, let epsilon):
            return ResidualBlock(filters: filters, strides: strides, shortcut: shortcut, momentum: Float(momentum), epsilon: Float(epsilon))
        case .activation(let activation): return ActivationLayer(activation)
        case .positionEmbedding(let length): return PositionEmbedding(sequenceLength: length)
        case .tokenAndPositionEmbedding(let vocabulary, let length, let dim):
            return TokenAndPositionEmbedding(vocabularySize: vocabulary, sequenceLength: length, embeddingDim: dim)
        case .transformerEncoderBlock(let embedDim, let numHeads, let keyDim, let ffDim, let dropout, let epsilon, let causal):
            return TransformerEncoderBlock(embedDim: embedDim, numHeads: numHeads, keyDim: keyDim, ffDim: ffDim, dropout: Float(dropout),
                                           epsilon: Float(epsilon), causal: causal, seed: seed &+ UInt64(index))
        case .lstm(let units, let returnSequences, let stateful): return LSTM(units, returnSequences: returnSequences, stateful: stateful)
        case .graphConv(let units, let activation, let useBias): return GraphConv(units, activation: activation, useBias: useBias)
        }
    }
}
