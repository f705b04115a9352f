import Autograd
import NN
import TensorCore
import TestSupport
import XCTest

/// The translation model's pieces: key padding masks, the decoder block, the whole
/// encoder-decoder, the masked token loss and accuracy, greedy decoding and BLEU.
final class Seq2SeqLayerTests: XCTestCase {
    private func build(_ layer: Layer, _ shape: [Int], seed: UInt64 = 1) throws -> [Int] {
        var rng = RandomGenerator(seed: seed)
        return try layer.build(inputShape: shape, rng: &rng)
    }

    /// Biases start at zero, which would leave their effect on the gradients untested.
    private func randomize(_ parameters: [Variable], seed: UInt64 = 17) {
        var rng = RandomGenerator(seed: seed)
        for p in parameters where p.name.hasSuffix("bias") || p.name.hasSuffix("beta") { rng.fillUniform(p.value, low: -0.5, high: 0.5) }
    }

    // MARK: key padding masks

    func testPaddedKeysGetZeroWeightAndDoNotChangeTheOutput() throws {
        for causal in [false, true] {
            let mha = MultiHeadAttention(numHeads: 2, keyDim: 3, causal: causal, name: "mha")
            _ = try build(mha, [5, 4], seed: 2)
            let x = GradCheck.random([2, 5, 4], seed: 3)
            let lengths = [3, 5]
            let before = mha(query: Variable(x), value: Variable(x), keyLengths: lengths).value.copy()
            // Changing sequence 0's padded positions (3, 4) changes nothing at its real positions.
            for p in 3..<5 { for c in 0..<4 { x[0, p, c] = 7 } }
            let after = mha(query: Variable(x), value: Variable(x), keyLengths: lengths).value
            for i in 0..<3 { for c in 0..<4 { XCTAssertEqual(before[0, i, c], after[0, i, c], "causal \(causal)") } }
            for i in 0..<5 { for c in 0..<4 { XCTAssertEqual(before[1, i, c], after[1, i, c]) } }
            // Without the mask the same change is seen.
            let unmasked = mha(query: Variable(x), value: Variable(x)).value
            XCTAssertNotEqual(unmasked[0, 4, 0], after[0, 4, 0])
        }
    }

    func testMaskedAttentionWeightsSumToOneOverTheAllowedKeys() {
        let d = AttentionDims(batch: 2, heads: 1, queryLength: 3, keyLength: 4, keyDim: 2, valueDim: 2)
        let q = GradCheck.random([2, 3, 2], seed: 4), k = GradCheck.random([2, 4, 2], seed: 5), v = GradCheck.random([2, 4, 2], seed: 6)
        let p = Tensor(uninitialized: d.probabilityShape), o = Tensor(uninitialized: d.outputShape)
        ScaledDotProductAttention.forward(query: q.data, key: k.data, value: v.data, dims: d, causal: true, keyLengths: [2, 4],
                                          probabilities: p.data, output: o.data)
        for b in 0..<2 {
            for i in 0..<3 {
                let allowed = min(i + 1, [2, 4][b])
                let row = (0..<4).map { p[b, 0, i, $0] }
                XCTAssertEqual(row[..<allowed].reduce(0, +), 1, accuracy: 1e-6)
                XCTAssertEqual(Array(row[allowed...]), [Float](repeating: 0, count: 4 - allowed))
                XCTAssertTrue(row[..<allowed].allSatisfy { $0 > 0 })
            }
        }
    }

    func testMaskedCrossAttentionGradients() throws {
        let mha = MultiHeadAttention(numHeads: 2, keyDim: 3, valueDim: 2, name: "cross")
        var rng = RandomGenerator(seed: 7)
        _ = try mha.build(queryShape: [3, 4], valueShape: [5, 4], rng: &rng)
        randomize(mha.parameters)
        let q = GradCheck.random([2, 3, 4], seed: 8), m = GradCheck.random([2, 5, 4], seed: 9)
        GradCheck.checkWithParameters(mha.parameters, inputs: [q, m]) { mha(query: $0[0], value: $0[1], keyLengths: [2, 5]) }
    }

    // MARK: decoder block and model

    func testDecoderBlockGradientsWithPaddedMemory() throws {
        let block = TransformerDecoderBlock(embedDim: 6, numHeads: 2, keyDim: 3, ffDim: 5, dropout: 0.3, epsilon: 1e-3, name: "dec")
        XCTAssertEqual(try build(block, [4, 6], seed: 10), [4, 6])
        XCTAssertEqual(block.parameters.count, 2 * 8 + 3 * 2 + 2 * 2)
        block.setTraining(false)
        randomize(block.parameters)
        let x = GradCheck.random([2, 4, 6], seed: 11), memory = GradCheck.random([2, 3, 6], seed: 12)
        GradCheck.checkWithParameters(block.parameters, inputs: [x, memory]) { block.forward($0[0], memory: $0[1], memoryLengths: [2, 3]) }
    }

    func testDecoderPositionsDoNotSeeLaterTargets() throws {
        let block = TransformerDecoderBlock(embedDim: 4, numHeads: 2, keyDim: 2, ffDim: 6, dropout: 0)
        _ = try build(block, [5, 4], seed: 13)
        let x = GradCheck.random([1, 5, 4], seed: 14), memory = Variable(GradCheck.random([1, 3, 4], seed: 15))
        let before = block.forward(Variable(x), memory: memory, memoryLengths: nil).value.copy()
        for c in 0..<4 { x[0, 3, c] = 9 }
        let after = block.forward(Variable(x), memory: memory, memoryLengths: nil).value
        for i in 0..<3 { for c in 0..<4 { XCTAssertEqual(before[0, i, c], after[0, i, c]) } }
        XCTAssertNotEqual(before[0, 3, 0], after[0, 3, 0])
    }

    private func smallModel(dropout: Float = 0) throws -> TransformerSeq2Seq {
        let model = TransformerSeq2Seq(sourceVocabulary: 7, targetVocabulary: 9, sourceLength: 4, targetLength: 5, embedDim: 6,
                                       numHeads: 2, keyDim: 3, ffDim: 8, encoderBlocks: 1, decoderBlocks: 2, dropout: dropout,
                                       epsilon: 1e-3)
        XCTAssertEqual(try build(model, [9], seed: 16), [5, 9])
        return model
    }

    /// Two pairs: sources of 3 and 2 tokens + padding, decoder inputs of 4 and 2 + padding.
    private let ids = Tensor([4, 5, 3, 0, /**/ 2, 6, 7, 1, 8, 
                              6, 3, 0, 0, /**/ 2, 4, 0, 0, 0], shape: [2, 9])

    func testModelGradientsOfEveryParameter() throws {
        let model = try smallModel()
        randomize(model.parameters)
        XCTAssertEqual(model.parameters.count, 2 + 16 + 2 + 2 * 26 + 2)
        GradCheck.checkWithParameters(model.parameters, inputs: [], maxElements: 12) { _ in model(Variable(ids)) }
    }

    func testSourcePaddingDoesNotChangeTheTranslation() throws {
        let model = try smallModel()
        XCTAssertEqual(model.unpaddedLengths(Tensor([4, 5, 3, 0, 6, 0, 0, 0, 0, 0, 0, 0], shape: [3, 4])), [3, 1, 1])
        let before = model(Variable(ids)).value.copy()
        let changed = ids.copy()
        changed[1, 3] = 5  // a padded source position of pair 1: a real id behind the first pad
        let after = model(Variable(changed)).value
        XCTAssertEqual(before.scalars, after.scalars)
    }

    func testGreedyDecodingFollowsTheTeacherForcedArgmax() throws {
        let model = try smallModel(dropout: 0.5)
        randomize(model.parameters, seed: 3)
        let source = Tensor([4, 5, 3, 0, 6, 3, 0, 0], shape: [2, 4])
        let decoded = model.greedyDecode(source, begin: 2, end: 3)
        for (r, tokens) in decoded.enumerated() {
            XCTAssertLessThanOrEqual(tokens.count, 5)
            XCTAssertFalse(tokens.contains(3))
            // Feeding <bos> + the decoded tokens back, each position's argmax is the next token.
            var row = (0..<4).map { source[r, $0] } + [2] + tokens.prefix(4).map(Float.init)
            row += [Float](repeating: 0, count: 9 - row.count)
            model.setTraining(false)
            let logits = withoutGradient { model(Variable(Tensor(row, shape: [1, 9]))) }.value
            model.setTraining(true)
            for (t, token) in tokens.enumerated() {
                XCTAssertEqual(Int32(Metrics.argmax(logits.data + t * 9, 9)), token, "row \(r) position \(t)")
            }
        }
    }

    // MARK: loss and accuracy with padding

    func testMaskedLossLeavesPaddingOutAndDividesByAllPositions() {
        let logits = GradCheck.random([2, 3, 4], low: -2, high: 2, seed: 18)
        let targets = Tensor([1, 2, 0, 3, 0, 0], shape: [2, 3])
        let loss = Loss.maskedSparseCategoricalCrossentropy(ignoreClass: 0)
        var expected = 0.0
        for (row, label) in [(0, 1), (1, 2), (3, 3)] {
            let z = (0..<4).map { Double(logits.data[row * 4 + $0]) }
            expected += log(z.map(exp).reduce(0, +)) - z[label]
        }
        XCTAssertEqual(Double(loss(Variable(logits), targets).value.scalar), expected / 6, accuracy: 1e-5)
        let x = Variable(logits.copy(), requiresGrad: true)
        loss(x, targets).backward()
        for row in [2, 4, 5] { for c in 0..<4 { XCTAssertEqual(x.grad!.data[row * 4 + c], 0) } }
        GradCheck.check([logits]) { v in loss(v[0], targets) }
        let accuracy = Metric.maskedSparseCategoricalAccuracy(ignoreClass: 0).count(logits, targets)
        XCTAssertEqual(accuracy.total, 3)
        let plain = Metrics.sparseCategoricalAccuracy(logits, labels: targets)
        XCTAssertEqual(plain.total, 6)
        XCTAssertLessThanOrEqual(accuracy.correct, plain.correct)
    }

    // MARK: BLEU

    private func words(_ s: String) -> [String] { s.split(separator: " ").map(String.init) }

    private func bleu(_ hypotheses: [String], _ references: [[String]]) -> BLEUStatistics {
        var stats = BLEUStatistics()
        for (h, refs) in zip(hypotheses, references) { stats.add(hypothesis: words(h), references: refs.map(words)) }
        return stats
    }

    /// Expected values from sacrebleu 2.6: `corpus_bleu(hyps, refs, tokenize="none", smooth_method="none")`.
    func testCorpusBLEUMatchesSacrebleu() {
        let multi = bleu(["the cat sat on the mat today", "there is a cat here"],
                         [["the cat is on the mat today", "a cat sat on the mat"], ["a cat is here", "there is a cat right here"]])
        XCTAssertEqual(multi.matches, [12, 9, 6, 4])
        XCTAssertEqual(multi.totals, [12, 10, 8, 6])
        XCTAssertEqual([multi.hypothesisLength, multi.referenceLength], [12, 11], "closest reference length, the shorter on a tie")
        XCTAssertEqual(100 * multi.score, 81.90362588127202, accuracy: 1e-9)
        let short = bleu(["je suis très fatigué .", "il est là"], [["je suis très fatigué aujourd ' hui ."], ["il est là - bas ."]])
        XCTAssertEqual(100 * short.score, 35.317637446547295, accuracy: 1e-9, "brevity penalty exp(1 - 14/8)")
        XCTAssertEqual(100 * bleu(["a b c d e f", "x y z"], [["a b c d e f"], ["x y q"]]).score, 88.35836453663153, accuracy: 1e-9)
        XCTAssertEqual(bleu(["a b c d"], [["a b c d"]]).score, 1)
        XCTAssertEqual(bleu(["a b c"], [["a b c"]]).score, 0, "no 4-gram: unsmoothed BLEU is 0")
        XCTAssertEqual(bleu(["the the the the"], [["the cat"]]).matches[0], 1, "unigram matches are clipped by the reference count")
    }

    func testBLEUStatisticsAddAcrossShards() {
        let all = bleu(["the cat sat on the mat today", "there is a cat here"], [["the cat is on the mat today"], ["a cat is here"]])
        let a = bleu(["the cat sat on the mat today"], [["the cat is on the mat today"]])
        let b = bleu(["there is a cat here"], [["a cat is here"]])
        let summed = BLEUStatistics(values: zip(a.values, b.values).map(+))
        XCTAssertEqual(summed, all)
        XCTAssertEqual(summed.score, all.score)
    }
}
