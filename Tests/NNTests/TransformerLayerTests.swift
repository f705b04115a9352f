import Autograd
import NN
import TensorCore
import TestSupport
import XCTest

final class TransformerLayerTests: XCTestCase {
    private func checkLayerGradients(_ layer: Layer, inputs: [Tensor], eps: Float = 1e-3, tolerance: Double = 2e-2,
                                     maxElements: Int = 40, file: StaticString = #filePath, line: UInt = #line,
                                     _ forward: ([Variable]) -> Variable) {
        GradCheck.checkWithParameters(layer.parameters, inputs: inputs, eps: eps, tolerance: tolerance, maxElements: maxElements,
                                      file: file, line: line, forward)
    }

    private func build(_ layer: Layer, _ shape: [Int], seed: UInt64 = 1) throws -> [Int] {
        var rng = RandomGenerator(seed: seed)
        return try layer.build(inputShape: shape, rng: &rng)
    }

    // MARK: parameter counts and weights

    func testMultiHeadAttentionWeightsFollowKeras() throws {
        let mha = MultiHeadAttention(numHeads: 4, keyDim: 16, name: "mha")
        XCTAssertEqual(try build(mha, [128, 64]), [128, 64])
        XCTAssertEqual(mha.parameterCount, 16_640)
        XCTAssertEqual(mha.parameters.map(\.name), ["mha/query/kernel", "mha/query/bias", "mha/key/kernel", "mha/key/bias",
                                                    "mha/value/kernel", "mha/value/bias", "mha/output/kernel", "mha/output/bias"])
        XCTAssertEqual(mha.parameters.map(\.shape), [[64, 4, 16], [4, 16], [64, 4, 16], [4, 16],
                                                     [64, 4, 16], [4, 16], [4, 16, 64], [64]])
        // Glorot limits from EinsumDense's fans: sqrt(6 / (64 + 64)) for every kernel here.
        let limit = (6 / Float(128)).squareRoot()
        for k in [mha.queryKernel!, mha.keyKernel!, mha.valueKernel!, mha.outputKernel!] {
            let m = k.value.scalars.map(abs).max()!
            XCTAssertLessThanOrEqual(m, limit)
            XCTAssertGreaterThan(m, 0.9 * limit)
        }
        XCTAssertTrue(mha.queryBias!.value.scalars.allSatisfy { $0 == 0 })

        let wide = MultiHeadAttention(numHeads: 4, keyDim: 64)
        _ = try build(wide, [128, 64])
        XCTAssertEqual(wide.parameterCount, 66_368)
        XCTAssertEqual(wide.outputKernel.shape, [4, 64, 64])

        let mixed = MultiHeadAttention(numHeads: 2, keyDim: 3, valueDim: 5, useBias: false, outputShape: 7)
        XCTAssertEqual(try build(mixed, [4, 6]), [4, 7])
        XCTAssertEqual(mixed.parameters.map(\.shape), [[6, 2, 3], [6, 2, 3], [6, 2, 5], [2, 5, 7]])
    }

    func testBenchmarkEncoderParameterCounts() throws {
        let model = Sequential.benchTransformer(keyDim: 16)
        XCTAssertEqual(try model.build(inputShape: [128], seed: 1), [2])
        XCTAssertEqual(model.parameterCount, 353_602)
        XCTAssertEqual(model.outputShapes, [[128, 64], [128, 64], [64], [2]])
        XCTAssertTrue(model.summary().contains("transformer_encoder_block (TransformerEncoderBlock)"))
        XCTAssertTrue(model.parameters.contains { $0.name == "transformer_encoder_block/attention/query/kernel" })

        let wide = Sequential.benchTransformer(keyDim: 64)
        try wide.build(inputShape: [128], seed: 1)
        XCTAssertEqual(wide.parameterCount, 403_330)
    }

    func testBenchmarkEncoderTrainsOneStepOnABatch() throws {
        let model = Sequential.benchTransformer(keyDim: 16)
        try model.build(inputShape: [16], seed: 2)
        let flat = model.flattenParameters()
        var rng = RandomGenerator(seed: 9)
        let ids = Tensor((0..<3 * 16).map { _ in Float(rng.next() % 5000) }, shape: [3, 16])
        let probabilities = model(Variable(ids))
        XCTAssertEqual(probabilities.shape, [3, 2])
        for b in 0..<3 { XCTAssertEqual(probabilities.value[b, 0] + probabilities.value[b, 1], 1, accuracy: 1e-5) }
        probabilities.logSoftmax().mean().backward()
        XCTAssertTrue(flat.gradBuffer.contains { $0 != 0 })
        XCTAssertFalse(flat.gradBuffer.contains { $0.isNaN })
    }

    // MARK: gradients

    func testLayerNormalizationGradientsAndDefaults() throws {
        let ln = LayerNormalization(name: "ln")
        XCTAssertEqual(ln.epsilon, 1e-3)
        XCTAssertEqual(try build(ln, [3, 5]), [3, 5])
        XCTAssertEqual(ln.parameters.map(\.name), ["ln/gamma", "ln/beta"])
        XCTAssertEqual(ln.gamma.value.scalars, [1, 1, 1, 1, 1])
        ln.gamma.value.copy(from: GradCheck.random([5], low: 0.5, high: 1.5, seed: 2))
        ln.beta.value.copy(from: GradCheck.random([5], seed: 3))
        checkLayerGradients(ln, inputs: [GradCheck.random([2, 3, 5], low: -2, high: 2, seed: 4)]) { ln($0[0]) }
    }

    func testEmbeddingLayers() throws {
        let emb = Embedding(10, 4, name: "emb")
        XCTAssertEqual(try build(emb, [3]), [3, 4])
        XCTAssertEqual(emb.embeddings.shape, [10, 4])
        XCTAssertEqual(emb.embeddings.name, "emb/embeddings")
        XCTAssertTrue(emb.embeddings.value.scalars.allSatisfy { abs($0) <= 0.05 })
        let ids = Tensor([1, 9, 1, 0, 4, 4], shape: [2, 3])
        checkLayerGradients(emb, inputs: []) { _ in emb(Variable(ids)) }

        let tp = TokenAndPositionEmbedding(vocabularySize: 10, sequenceLength: 5, embeddingDim: 4, name: "tp")
        XCTAssertEqual(try build(tp, [3]), [3, 4])
        XCTAssertEqual(tp.parameters.map(\.name), ["tp/token_embedding/embeddings", "tp/position_embedding/embeddings"])
        XCTAssertEqual(tp.parameterCount, 10 * 4 + 5 * 4)
        let out = tp(Variable(ids))
        XCTAssertEqual(out.value[1, 2, 3], tp.tokenEmbedding.embeddings.value[4, 3] + tp.positionEmbedding.embeddings.value[2, 3])
        checkLayerGradients(tp, inputs: []) { _ in tp(Variable(ids)) }

        let pos = PositionEmbedding(sequenceLength: 6)
        XCTAssertEqual(try build(pos, [4, 3]), [4, 3])
        checkLayerGradients(pos, inputs: [GradCheck.random([2, 4, 3], seed: 5)]) { pos($0[0]) }
    }

    func testGlobalAveragePooling1D() throws {
        let pool = GlobalAveragePooling1D()
        XCTAssertEqual(try build(pool, [5, 3]), [3])
        let x = GradCheck.random([2, 5, 3], seed: 6)
        let y = pool(Variable(x))
        XCTAssertEqual(y.value[1, 2], (0..<5).map { x[1, $0, 2] }.reduce(0, +) / 5, accuracy: 1e-6)
        checkLayerGradients(pool, inputs: [x]) { pool($0[0]) }
    }

    func testSelfAttentionGradientsWithKeyDimUnlikeModelWidth() throws {
        for causal in [false, true] {
            let mha = MultiHeadAttention(numHeads: 2, keyDim: 4, valueDim: 3, causal: causal, name: "mha")
            _ = try build(mha, [5, 6], seed: 7)
            randomizeBiases(mha)
            checkLayerGradients(mha, inputs: [GradCheck.random([2, 5, 6], seed: 8)]) { mha($0[0]) }
        }
    }

    func testCrossAttentionGradientsWithDifferentLengths() throws {
        let mha = MultiHeadAttention(numHeads: 3, keyDim: 2, valueDim: 4, outputShape: 5, name: "cross")
        var rng = RandomGenerator(seed: 9)
        XCTAssertEqual(try mha.build(queryShape: [3, 6], valueShape: [7, 4], keyShape: [7, 5], rng: &rng), [3, 5])
        XCTAssertEqual(mha.keyKernel.shape, [5, 3, 2])
        XCTAssertEqual(mha.valueKernel.shape, [4, 3, 4])
        randomizeBiases(mha)
        let q = GradCheck.random([2, 3, 6], seed: 10), v = GradCheck.random([2, 7, 4], seed: 11), k = GradCheck.random([2, 7, 5], seed: 12)
        checkLayerGradients(mha, inputs: [q, v, k]) { mha(query: $0[0], value: $0[1], key: $0[2]) }
        XCTAssertEqual(mha(query: Variable(q), value: Variable(v), key: Variable(k)).shape, [2, 3, 5])
    }

    func testCausalSelfAttentionIgnoresLaterTokens() throws {
        let mha = MultiHeadAttention(numHeads: 2, keyDim: 4, causal: true)
        _ = try build(mha, [6, 8], seed: 13)
        let x = GradCheck.random([1, 6, 8], seed: 14)
        let before = mha(Variable(x)).value.copy()
        for c in 0..<8 { x[0, 4, c] = 5 }
        let after = mha(Variable(x)).value
        for i in 0..<4 { for c in 0..<8 { XCTAssertEqual(before[0, i, c], after[0, i, c]) } }
        XCTAssertNotEqual(before[0, 4, 0], after[0, 4, 0])
    }

    func testEncoderBlockGradientsWithDropoutOff() throws {
        for causal in [false, true] {
            let block = TransformerEncoderBlock(embedDim: 6, numHeads: 2, keyDim: 4, ffDim: 5, dropout: 0.3,
                                                epsilon: 1e-3, causal: causal, name: "block")
            XCTAssertEqual(try build(block, [4, 6], seed: 15), [4, 6])
            block.setTraining(false)
            randomizeBiases(block.attention)
            checkLayerGradients(block, inputs: [GradCheck.random([2, 4, 6], seed: 16)]) { block($0[0]) }
        }
    }

    // MARK: dropout

    func testDropoutLayerTrainingAndInference() throws {
        let x = Variable(Tensor(repeating: 2, shape: [4, 1000]))
        let drop = Dropout(0.5, seed: 42)
        XCTAssertEqual(try build(drop, [1000]), [1000])
        drop.setTraining(false)
        XCTAssertTrue(drop(x) === x)
        drop.setTraining(true)
        let first = drop(x).value.scalars
        XCTAssertTrue(first.allSatisfy { $0 == 0 || $0 == 4 })
        XCTAssertEqual(Double(first.reduce(0, +)) / 4000, 2, accuracy: 0.1)
        XCTAssertNotEqual(drop(x).value.scalars, first, "the stream advances between calls")
        XCTAssertEqual(Dropout(0.5, seed: 42)(x).value.scalars, first, "same seed, same mask")

        let model = Sequential([Dense(3), Dropout(0.2), Dense(3), Dropout(0.2)])
        try model.build(inputShape: [3], seed: 1)
        model.reseedDropout(seed: 7, stream: [1, 2])
        let drops = model.layers.compactMap { $0 as? Dropout }
        XCTAssertEqual(drops[0].generator, RandomGenerator(seed: 7, stream: [1, 2, 0]))
        XCTAssertEqual(drops[1].generator, RandomGenerator(seed: 7, stream: [1, 2, 1]))
        model.setTraining(false)
        XCTAssertFalse(drops.contains { $0.isTraining })
    }

    // MARK: shape errors

    func testShapeErrorsNameTheLayer() {
        func assertError(_ layer: Layer, _ shape: [Int], _ fragment: String, line: UInt = #line) {
            XCTAssertThrowsError(try build(layer, shape), line: line) { e in
                guard let error = e as? ShapeError else { return XCTFail("not a ShapeError: \(e)", line: line) }
                XCTAssertTrue(error.op.contains(layer.name) && error.op.contains(layer.typeName), "\(error)", line: line)
                XCTAssertTrue(error.message.contains(fragment), "\(error)", line: line)
            }
        }
        assertError(MultiHeadAttention(numHeads: 2, keyDim: 4, name: "mha"), [8], "should be [length, features]")
        assertError(MultiHeadAttention(numHeads: 0, keyDim: 4, name: "mha"), [3, 8], "must be positive")
        assertError(TransformerEncoderBlock(embedDim: 64, numHeads: 4, keyDim: 16, ffDim: 128, name: "block"), [10, 32], "[length, 64]")
        assertError(LayerNormalization(name: "ln"), [], "no feature axis")
        assertError(GlobalAveragePooling1D(name: "pool"), [7], "[steps, features]")
        assertError(PositionEmbedding(sequenceLength: 4, name: "pos"), [5, 3], "exceeds the sequence length 4")
        assertError(Dropout(1.5, name: "drop"), [3], "rate 1.5")
        assertError(Embedding(0, 4, name: "emb"), [3], "must be positive")

        let mha = MultiHeadAttention(numHeads: 2, keyDim: 4, name: "cross")
        var rng = RandomGenerator(seed: 1)
        XCTAssertThrowsError(try mha.build(queryShape: [3, 8], valueShape: [5, 8], keyShape: [6, 8], rng: &rng)) { e in
            XCTAssertTrue("\(e)".contains("cross (MultiHeadAttention)") && "\(e)".contains("key and value lengths differ"), "\(e)")
        }
    }

    /// Biases start at zero, which would leave their effect on the gradients untested.
    private func randomizeBiases(_ mha: MultiHeadAttention) {
        var rng = RandomGenerator(seed: 17)
        for b in [mha.queryBias, mha.keyBias, mha.valueBias, mha.outputBias].compactMap({ $0 }) {
            rng.fillUniform(b.value, low: -0.5, high: 0.5)
        }
    }
}
