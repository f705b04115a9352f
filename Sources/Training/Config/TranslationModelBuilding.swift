import Datasets
import NN
import TensorCore

extension JobConfig {
    /// The translation model for `data`'s vocabularies and sequence lengths, built with the
    /// job's seed. A configuration that does not fit (a layer's shape rule) is a `ConfigError`
    /// at `model`.
    public func buildTranslationModel(_ data: TranslationData) throws -> TransformerSeq2Seq {
        guard case .transformerSeq2Seq(let spec)? = model else {
            preconditionFailure("only task \"translation\" has a transformer_seq2seq model")
        }
        let model = TransformerSeq2Seq(sourceVocabulary: data.sourceVocabulary.count, targetVocabulary: data.targetVocabulary.count,
                                       sourceLength: data.sourceLength, targetLength: data.targetLength, embedDim: spec.embedDim,
                                       numHeads: spec.numHeads, keyDim: spec.keyDim, ffDim: spec.ffDim,
                                       encoderBlocks: spec.encoderBlocks, decoderBlocks: spec.decoderBlocks,
                                       dropout: Float(spec.dropout), epsilon: Float(spec.epsilon),
                                       padID: Int(WordVocabulary.pad), seed: seed)
        var rng = RandomGenerator(seed: seed)
        do {
            _ = try model.build(inputShape: [data.sourceLength + data.targetLength], rng: &rng)
        } catch let error as ShapeError {
            throw spec.location.error(at: spec.location.path, qualifier: "transformer_seq2seq", "does not build: \(error)")
        }
        return model
    }

    /// The sentence pairs of `data.dir`'s data set, split and encoded as the `data` section says.
    public func loadTranslationData(from dir: String) throws -> TranslationData {
        guard let t = data.translation else { preconditionFailure("only a sentence-pair data set has translation settings") }
        let pairs = try SentencePairs.read(DataFile.join(dir, "eng-fra.txt"))
        return TranslationData(pairs: pairs, validationFraction: t.validationFraction, testFraction: t.testFraction, seed: seed,
                               sourceLength: t.sourceLength, targetLength: t.targetLength, minCount: t.minCount,
                               maxVocabulary: t.maxVocabulary)
    }
}
