import NN
import TensorCore

/// Makes the layers of `spec` and builds them for per-sample `inputShape` (default: the spec's)
/// with weights drawn from `RandomGenerator(seed:)`. A layer that does not fit its input is a
/// `ConfigError` naming the layer: `configs/x.json: model.layers[4] (Dense): does not fit its
/// input shape [...]: ...`.
public func buildSequential(_ spec: SequentialSpec, inputShape: [Int]? = nil, seed: UInt64) throws -> Sequential {
    var rng = RandomGenerator(seed: seed)
    return try buildSequential(spec, inputShape: inputShape ?? spec.inputShape, seed: seed, rng: &rng)
}

func buildSequential(_ spec: SequentialSpec, inputShape: [Int], seed: UInt64, rng: inout RandomGenerator) throws -> Sequential {
    let model = Sequential(spec.layers.enumerated().map { $1.makeLayer(seed: seed, index: $0) })
    do {
        _ = try model.build(inputShape: inputShape, rng: &rng)
    } catch let error as ShapeError {
        // Sequential records each layer's output shape as it goes: the first missing one failed.
        let input = model.outputShapes.last ?? inputShape
        throw spec.error(layer: model.outputShapes.count, of: model, "does not fit its input shape \(shapeString(input)): \(error.message)")
    }
    return model
}

extension SequentialSpec {
    /// An error about layer `index` of the built `model`: "model.layers[4] (Dense): ...".
    func error(layer index: Int, of model: Sequential, _ message: String) -> ConfigError {
        location.error(at: location.path.appending("layers").appending(index: index), qualifier: model.layers[index].typeName, message)
    }
}

extension TransformerLMSpec {
    /// The model as a layer list: TokenAndPositionEmbedding → causal blocks → Dense logits.
    public func sequential(vocabularySize: Int, sequenceLength: Int) -> SequentialSpec {
        let block = LayerSpec.transformerEncoderBlock(embedDim: embedDim, numHeads: numHeads, keyDim: keyDim, ffDim: ffDim,
                                                      dropout: dropout, epsilon: epsilon, causal: true)
        return SequentialSpec(inputShape: [sequenceLength],
                              layers: [.tokenAndPositionEmbedding(vocabularySize: vocabularySize, sequenceLength: sequenceLength,
                                                                  embeddingDim: embedDim)]
                                  + Array(repeating: block, count: numBlocks)
                                  + [.dense(units: vocabularySize, activation: .linear, useBias: true)],
                              location: location)
    }
}

extension LSTMLMSpec {
    public func sequential(vocabularySize: Int, sequenceLength: Int) -> SequentialSpec {
        let recurrent: [LayerSpec] = [.lstm(units: units, returnSequences: true, stateful: true)]
            + (dropout > 0 ? [.dropout(rate: dropout)] : [])
        return SequentialSpec(inputShape: [sequenceLength],
                              layers: [.embedding(inputDim: vocabularySize, outputDim: embedDim)]
                                  + Array([[LayerSpec]](repeating: recurrent, count: numLayers).joined())
                                  + [.dense(units: vocabularySize, activation: .linear, useBias: true)],
                              location: location)
    }
}

/// A generated language model (`transformer_lm`, `lstm_lm`) for a vocabulary of
/// `vocabularySize` tokens, built for sequences of `sequenceLength`.
public func buildLanguageModel(_ spec: LanguageModelSpec, vocabularySize: Int, sequenceLength: Int, seed: UInt64) throws -> Sequential {
    guard vocabularySize >= 1 else { throw spec.location.error(at: spec.location.path, "the vocabulary is empty") }
    return try buildSequential(spec.sequential(vocabularySize: vocabularySize, sequenceLength: sequenceLength), seed: seed)
}

extension JobConfig {
    /// The classification or language model, built with the job's seed. A language model needs
    /// the vocabulary size of its data. A classifier trained with a categorical cross-entropy must
    /// output one score per class; a sequential language model one per vocabulary entry.
    public func buildModel(vocabularySize: Int? = nil) throws -> Sequential {
        switch model {
        case .transformerLM(let spec as LanguageModelSpec)?, .lstmLM(let spec as LanguageModelSpec)?:
            guard let vocabularySize else { preconditionFailure("a generated language model needs the vocabulary size of its data") }
            return try buildLanguageModel(spec, vocabularySize: vocabularySize, sequenceLength: data.sequenceLength!, seed: seed)
        case .sequential(let spec)?:
            let built = try buildSequential(spec, seed: seed)
            let output = built.outputShapes.last!
            var expected: (shape: [Int], reason: String)?
            switch (task, loss) {
            case (.classification, .sparseCategoricalCrossentropy?), (.classification, .categoricalCrossentropy?):
                let classes = data.dataset.classes!
                expected = ([classes], "the \(classes) classes of \(data.dataset.rawValue)")
            case (.languageModel, _):
                if let vocabularySize { expected = ([data.sequenceLength!, vocabularySize], "a vocabulary of \(vocabularySize)") }
            default: break
            }
            if let expected, output != expected.shape {
                throw spec.error(layer: spec.layers.count - 1, of: built,
                                 "output shape \(shapeString(output)) does not fit \(expected.reason): expected \(shapeString(expected.shape))")
            }
            return built
        case .transformerSeq2Seq?:
            preconditionFailure("the translation model needs its data's vocabularies: use buildTranslationModel(_:)")
        case nil:
            preconditionFailure("task \"gan\" has two models: use buildGAN()")
        }
    }

    /// The GAN's generator and discriminator, built from one generator seeded with the job's seed
    /// (generator first). The generator's output must be the discriminator's input and the
    /// discriminator must output one probability per sample.
    public func buildGAN() throws -> (generator: Sequential, discriminator: Sequential) {
        guard let generator, let discriminator else { preconditionFailure("only task \"gan\" has a generator and a discriminator") }
        var rng = RandomGenerator(seed: seed)
        let g = try buildSequential(generator, inputShape: generator.inputShape, seed: seed, rng: &rng)
        let d = try buildSequential(discriminator, inputShape: discriminator.inputShape, seed: seed, rng: &rng)
        let fake = g.outputShapes.last!, score = d.outputShapes.last!
        if fake != discriminator.inputShape {
            throw generator.error(layer: generator.layers.count - 1, of: g,
                                  "output shape \(shapeString(fake)) differs from discriminator.input_shape \(shapeString(discriminator.inputShape))")
        }
        if score != [1] {
            throw discriminator.error(layer: discriminator.layers.count - 1, of: d,
                                      "output shape \(shapeString(score)) should be [1], one probability per sample")
        }
        return (g, d)
    }
}
