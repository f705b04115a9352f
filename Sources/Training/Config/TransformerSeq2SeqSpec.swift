/// `transformer_seq2seq`: the encoder-decoder Transformer (`NN.TransformerSeq2Seq`).
/// Vocabulary sizes and sequence lengths come from the data when the model is built.
public struct TransformerSeq2SeqSpec: Sendable, Equatable {
    public var embedDim: Int
    public var numHeads: Int
    public var keyDim: Int
    public var ffDim: Int
    public var encoderBlocks: Int
    public var decoderBlocks: Int
    public var dropout: Double
    public var epsilon: Double
    public var location: ConfigLocation

    init(reading r: ObjectReader) throws {
        let size = Constraint<Int>.atLeast(1)
        embedDim = try r.required("embed_dim", size)
        numHeads = try r.required("num_heads", size)
        keyDim = try r.required("key_dim", size)
        ffDim = try r.required("ff_dim", size)
        encoderBlocks = try r.required("encoder_blocks", size)
        decoderBlocks = try r.required("decoder_blocks", size)
        dropout = try r.optional("dropout", default: 0.1, .halfOpen(0, 1))
        epsilon = try r.optional("epsilon", default: 1e-6, .greaterThan(0))
        location = ConfigLocation(document: r.document, path: r.path)
    }
}
