import Autograd
import Comm
import Datasets
import Foundation
import NN
import TensorCore

/// Translation with an encoder-decoder Transformer: a training sample is one sentence pair,
/// trained with teacher forcing (the decoder reads `<bos>` and the reference prefix and
/// predicts each next reference token) and the token cross-entropy with padding left out.
/// Losses are reported per real token, accuracy over real tokens.
///
/// Evaluation scores one held-out set (validation during training, test for the final figure
/// and `ddp eval`): the teacher-forced loss and accuracy over its pairs, and the corpus BLEU-4
/// of greedy translations of its distinct source sentences against all their references.
/// Ranks take pairs and sentences round robin and sum their statistics.
public final class TranslationWorkload: SingleNetworkWorkload {
    public enum HeldOutSet: String, Sendable { case validation, test }

    public let trainer: DataParallelTrainer
    public let model: TransformerSeq2Seq
    public let data: TranslationData
    public let microBatch: Int
    public let evaluationBatch: Int
    public let seed: UInt64
    public var evaluationSet = HeldOutSet.validation
    /// Validation sentences translated for the sample at each evaluation.
    public var sampleCount = 6
    public var trainSampleCount: Int { data.train.count }
    public var samplesPerStep: Int { microBatch * trainer.options.gradientAccumulation }

    public init(trainer: DataParallelTrainer, model: TransformerSeq2Seq, data: TranslationData, microBatch: Int,
                evaluationBatch: Int, seed: UInt64) {
        self.trainer = trainer
        self.model = model
        self.data = data
        self.microBatch = microBatch
        self.evaluationBatch = evaluationBatch
        self.seed = seed
    }

    public func trainStep(_ indices: ArraySlice<Int>, step: Int) -> StepLog {
        let batches = microBatches(indices, size: microBatch) { data.batch($0.map { data.train[$0] }) }
        model.reseedDropout(seed: seed, stream: [UInt64(comm.rank), UInt64(step)])
        let r = trainer.step(batches)
        let tokens = r.metric?.total ?? 0
        return StepLog(loss: perToken(r.loss, samples: r.samples, tokens: tokens), metrics: [("accuracy", r.metric?.value ?? 0)],
                       samples: r.samples, learningRate: r.learningRate, seconds: r.seconds, allreduceSeconds: r.allreduceSeconds,
                       exposedCommunicationSeconds: r.exposedCommunicationSeconds, nonFinite: r.nonFinite)
    }

    /// The trainer's loss is the token cross-entropy summed and divided by all target positions
    /// (`Loss.maskedSparseCategoricalCrossentropy`); this is the mean over real tokens.
    func perToken(_ meanLoss: Double, samples: Int, tokens: Int) -> Double {
        tokens == 0 ? 0 : meanLoss * Double(samples * data.targetLength) / Double(tokens)
    }

    var heldOut: [Int] { evaluationSet == .validation ? data.validation : data.test }
    public var evaluationSplit: String { evaluationSet == .validation ? "validation" : "test" }

    public func evaluate() -> EvaluationLog? {
        let pairs = heldOut
        guard !pairs.isEmpty else { return nil }
        let mine = rankShare(of: pairs.count).map { pairs[$0] }
        let batches = stride(from: 0, to: mine.count, by: evaluationBatch).lazy.map { s in
            self.data.batch(mine[s..<min(s + self.evaluationBatch, mine.count)])
        }
        let r = trainer.evaluate(batches)
        let tokens = r.metric?.total ?? 0
        return EvaluationLog(loss: perToken(r.loss, samples: r.samples, tokens: tokens),
                             metrics: [("accuracy", r.metric?.value ?? 0), ("bleu", 100 * bleu(of: pairs).score)], samples: r.samples)
    }

    /// Corpus BLEU of greedy translations of the distinct sources among `pairs`, each rank
    /// translating its share of the sentences.
    func bleu(of pairs: [Int]) -> BLEUStatistics {
        let sentences = data.sentences(pairs)
        let mine = rankShare(of: sentences.count).map { sentences[$0] }
        var stats = BLEUStatistics()
        for (s, hypothesis) in zip(mine, translate(mine.map(\.source))) { stats.add(hypothesis: hypothesis, references: s.references) }
        comm.monitor.setPhase("bleu")
        return BLEUStatistics(values: comm.allreduceSum(stats.values))
    }

    /// Greedy translations of tokenised source sentences, `evaluationBatch` at a time.
    public func translate(_ sources: [[String]]) -> [[String]] {
        stride(from: 0, to: sources.count, by: evaluationBatch).flatMap { s -> [[String]] in
            let chunk = sources[s..<min(s + evaluationBatch, sources.count)]
            let ids = Tensor(chunk.flatMap { data.sourceIDs($0).map(Float.init) }, shape: [chunk.count, data.sourceLength])
            return model.greedyDecode(ids, begin: WordVocabulary.begin, end: WordVocabulary.end).map(data.targetVocabulary.decode)
        }
    }

    /// The first `sampleCount` validation sentences, translated.
    public func sample(step: Int) -> Sample? {
        .text(translations(of: Array(data.sentences(data.validation).prefix(sampleCount))))
    }

    /// One line per sentence: "source → translation   [reference | reference…]".
    public func translations(of sentences: [(source: [String], references: [[String]])]) -> String {
        zip(sentences, translate(sentences.map(\.source))).map { s, t in
            "\(s.source.joined(separator: " ")) → \(t.joined(separator: " "))   [\(s.references.map { $0.joined(separator: " ") }.joined(separator: " | "))]"
        }.joined(separator: "\n")
    }

    /// The test figures after training: loss, accuracy and BLEU on the test set, next to two
    /// trivial baselines (copying the source; always answering the most frequent training
    /// translation). Rank 0 prints them and writes every test translation to
    /// `directory/translations-test.tsv` (source, translation, references). Every rank calls it.
    public func reportTest(outputDirectory directory: String, name: String) throws {
        let saved = evaluationSet
        evaluationSet = .test
        defer { evaluationSet = saved }
        guard let e = evaluate() else { return }
        let sentences = data.sentences(data.test)
        let hypotheses = comm.rank == 0 ? translate(sentences.map(\.source)) : []
        guard comm.rank == 0 else { return }
        var copy = BLEUStatistics(), constant = BLEUStatistics()
        let frequent = Dictionary(data.train.map { (data.pairs[$0].target, 1) }, uniquingKeysWith: +)
            .max { $0.value != $1.value ? $0.value < $1.value : $0.key.lexicographicallyPrecedes($1.key) }!.key
        for s in sentences {
            copy.add(hypothesis: s.source, references: s.references)
            constant.add(hypothesis: frequent, references: s.references)
        }
        let figures = e.metrics.map { "\($0.name) \(ProgressFormat.value($0.value))" }.joined(separator: ", ")
        say("\(name): test set (\(data.test.count) pairs, \(sentences.count) sentences): loss \(ProgressFormat.value(e.loss)), \(figures); "
            + "baselines: copy the source BLEU \(String(format: "%.2f", 100 * copy.score)), "
            + "always \"\(frequent.joined(separator: " "))\" BLEU \(String(format: "%.2f", 100 * constant.score))")
        let lines = zip(sentences, hypotheses).map { s, h in
            ([s.source, h] + s.references).map { $0.joined(separator: " ") }.joined(separator: "\t")
        }
        try AtomicFile.write(Array(("source\ttranslation\treferences\n" + lines.joined(separator: "\n") + "\n").utf8),
                             to: directory + "/translations-test.tsv")
    }
}
