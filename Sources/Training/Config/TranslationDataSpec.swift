/// The `data` keys of a sentence-pair data set (translation): sequence lengths, the split, and
/// the vocabularies (see `Datasets.TranslationData`).
public struct TranslationDataSpec: Sendable, Equatable {
    /// Source positions, `<eos>` included; longer sources are cut.
    public var sourceLength: Int
    /// Decoder positions (`<bos>` + tokens, or tokens + `<eos>`); longer targets are cut.
    public var targetLength: Int
    /// Shares of the distinct source sentences held out for validation and for testing.
    public var validationFraction: Double
    public var testFraction: Double
    /// Words seen fewer times in the training split become `<unk>`.
    public var minCount: Int
    /// At most this many entries per vocabulary, the four special tokens included; nil: no limit.
    public var maxVocabulary: Int?

    init(reading r: ObjectReader) throws {
        let length = Constraint<Int>.atLeast(2)
        sourceLength = try r.required("source_length", length)
        targetLength = try r.required("target_length", length)
        validationFraction = try r.optional("validation_fraction", default: 0.1, .open(0, 1))
        testFraction = try r.optional("test_fraction", default: 0.1, .open(0, 1))
        guard validationFraction + testFraction < 1 else {
            throw r.error("test_fraction", "validation_fraction \(validationFraction) + test_fraction \(testFraction) leaves no training data: expected a sum below 1")
        }
        minCount = try r.optional("min_count", default: 1, .atLeast(1))
        maxVocabulary = try r.nullable("max_vocabulary", .atLeast(5))
    }
}
