import Comm
import Datasets
import Foundation
import NN
import Scenarios
import TestSupport
import Training
import XCTest

/// The translation job (`configs/transformer_translate_en_fr.json`) shrunk with `--set`: its
/// config and errors, N ranks × b training like 1 rank × N·b, exact resume, and the `ddp`
/// commands under `mpirun -np 2`.
final class TranslationJobTests: XCTestCase {
    static let config = "transformer_translate_en_fr.json"
    static let dataDirectory = JobIntegrationTests.dataDirectory
    /// A model of a few thousand parameters, shorter sequences, 1% of the sources (26) held out
    /// for validation and for test each.
    static let shrink = ["model.embed_dim=16", "model.num_heads=2", "model.key_dim=8", "model.ff_dim=32", "model.encoder_blocks=1",
                         "model.decoder_blocks=1", "data.source_length=6", "data.target_length=8",
                         "data.validation_fraction=0.01", "data.test_fraction=0.01",
                         "training.eval_batch_size=64", "schedule.warmup_steps=1", "schedule.decay_steps=10"]

    private func skipWithoutData() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: Self.dataDirectory + "/tatoeba-eng-fra/eng-fra.txt"), "no data at \(Self.dataDirectory)")
    }

    private func error(_ overrides: [String]) -> String {
        do {
            _ = try ConfigTests.load(Self.config, overrides: overrides)
        } catch {
            return "\(error)"
        }
        return "no error"
    }

    func testConfigParsesAndStrictKeysAreChecked() throws {
        let config = try ConfigTests.load(Self.config)
        XCTAssertEqual(config.task, .translation)
        XCTAssertEqual(config.loss, .maskedSparseCategoricalCrossentropy(ignoreClass: 0))
        XCTAssertEqual(config.data.translation?.sourceLength, 8)
        guard case .transformerSeq2Seq(let spec)? = config.model else { return XCTFail("model type \(String(describing: config.model))") }
        XCTAssertEqual([spec.embedDim, spec.encoderBlocks, spec.decoderBlocks], [128, 2, 2])
        XCTAssertEqual(error(["model.type=transformer_lm"]),
                       "--set model.type=transformer_lm: model.type: task \"translation\" needs model type \"transformer_seq2seq\", not \"transformer_lm\"")
        XCTAssertTrue(error(["loss={\"name\":\"sparse_categorical_crossentropy\"}"]).hasPrefix(
            "--set loss={\"name\":\"sparse_categorical_crossentropy\"}: loss: unknown key for task \"translation\" (allowed: "))
        XCTAssertEqual(error(["data.sequence_length=8"]),
                       "--set data.sequence_length=8: data.sequence_length: unknown key for dataset \"tatoeba-eng-fra\" (allowed: dataset, "
                       + "dir, max_vocabulary, min_count, source_length, target_length, test_fraction, validation_fraction)")
        XCTAssertEqual(error(["model.num_blocks=2"]),
                       "--set model.num_blocks=2: model.num_blocks: unknown key for model type \"transformer_seq2seq\" (allowed: "
                       + "decoder_blocks, dropout, embed_dim, encoder_blocks, epsilon, ff_dim, key_dim, num_heads, type)")
        XCTAssertTrue(error(["data.source_length=1"]).hasPrefix("--set data.source_length=1: data.source_length: "), error(["data.source_length=1"]))
        XCTAssertEqual(error(["data.test_fraction=0.5", "data.validation_fraction=0.5"]),
                       "--set data.test_fraction=0.5: data.test_fraction: validation_fraction 0.5 + test_fraction 0.5 leaves no "
                       + "training data: expected a sum below 1")
        XCTAssertTrue(error(["data.dataset=tinyshakespeare"]).contains("dataset \"tinyshakespeare\" does not fit task \"translation\" (datasets for it: \"tatoeba-eng-fra\")"))
    }

    func testBadDataFileIsADataErrorNamingTheLine() throws {
        let dir = NSTemporaryDirectory() + "ddp-tatoeba-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/tatoeba-eng-fra", withIntermediateDirectories: true)
        try Data("Go.\tVa !\nHi.\n".utf8).write(to: URL(fileURLWithPath: dir + "/tatoeba-eng-fra/eng-fra.txt"))
        let config = try ConfigTests.load(Self.config)
        let expected = "\(dir)/tatoeba-eng-fra/eng-fra.txt: line 2: expected source<TAB>target[<TAB>...], found 1 field (\"Hi.\")"
        XCTAssertThrowsError(try JobFactory.prepare(config, dataDirectory: dir)) { e in
            XCTAssertTrue(e is DataError, "\(e)")
            XCTAssertEqual("\(e)", expected)
        }
        // Under mpirun: exit code 2 and the message once.
        try XCTSkipUnless(MPIRun.isAvailable, "mpirun not installed")
        let path = JobIntegrationTests.repository.appendingPathComponent("configs/\(Self.config)").path
        let r = try MPIRun.run(ranks: 2, executable: "ddp", arguments: ["train", path, "--data-dir", dir, "--out", dir + "/out"], timeout: 60)
        XCTAssertFalse(r.timedOut, r.stderr)
        XCTAssertEqual(r.exitCode, 2, r.stderr)
        XCTAssertEqual(r.stderr.components(separatedBy: "ddp: " + expected).count - 1, 1, r.stderr)
    }

    func testTwoRanksTrainLikeOneRankWithTheWholeBatch() throws {
        try skipWithoutData()
        // Dropout draws per-rank masks, so it is off for the comparison; plain SGD, because Adam
        // blows the rounding noise of gradients that are zero in exact arithmetic (the attention
        // key biases') up to whole learning-rate steps.
        let overrides = Self.shrink + ["model.dropout=0", "optimizer={\"name\":\"sgd\",\"learning_rate\":0.5}"]
        let (single, e1) = try DataShapedJobTests.train(Self.config, ranks: 1, batch: 8, steps: 4, overrides)
        let (two, e2) = try DataShapedJobTests.train(Self.config, ranks: 2, batch: 4, steps: 4, overrides)
        XCTAssertEqual(two[1], two[0], "the replicas differ")
        let diff = maxRelativeDifference(two[0], single[0])
        XCTAssertLessThanOrEqual(diff, 1e-5, "2 ranks × 4 pairs vs 1 rank × 8 pairs: max relative difference \(diff)")
        XCTAssertGreaterThan(maxRelativeDifference(single[0], try DataShapedJobTests.train(Self.config, ranks: 1, batch: 8, steps: 3, overrides).0[0]), 1e-4,
                             "one more step should move the parameters")
        let (one, both) = (try XCTUnwrap(e1), try XCTUnwrap(e2))
        XCTAssertEqual(one.samples, both.samples)
        XCTAssertEqual(one.loss, both.loss, accuracy: 1e-4)
        XCTAssertEqual(one.metrics.map(\.name), ["accuracy", "bleu"])
        for (a, b) in zip(one.metrics, both.metrics) { XCTAssertEqual(a.value, b.value, accuracy: 1e-6, a.name) }
    }

    func testAResumedRunEndsWhereAnUninterruptedOneDoes() throws {
        try skipWithoutData()
        let out = NSTemporaryDirectory() + "ddp-translate-resume-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let straight = try DataShapedJobTests.train(Self.config, ranks: 2, batch: 4, steps: 5, Self.shrink).0
        _ = try DataShapedJobTests.train(Self.config, ranks: 2, batch: 4, steps: 3, Self.shrink, out: out)
        let resumed = try DataShapedJobTests.train(Self.config, ranks: 2, batch: 4, steps: 5, Self.shrink, out: out,
                                                   resume: out + "/checkpoints/ckpt-000000003.safetensors").0
        XCTAssertEqual(resumed[0], straight[0], "with dropout on: its masks come from (seed, rank, step)")
    }

    /// train (checkpoint at step 3) → resume to step 5 → eval, sample and summary, under mpirun -np 2.
    func testTrainResumeEvalAndSampleUnderMPI() throws {
        try XCTSkipUnless(MPIRun.isAvailable, "mpirun not installed")
        try skipWithoutData()
        let out = NSTemporaryDirectory() + "ddp-translate-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let path = JobIntegrationTests.repository.appendingPathComponent("configs/\(Self.config)").path
        let settings = (Self.shrink + ["training.batch_size=8", "checkpoint.every_steps=3", "training.log_every_steps=1"]).flatMap { ["--set", $0] }
        func train(_ steps: Int, _ extra: [String] = []) throws -> MPIRun.Result {
            let r = try JobIntegrationTests.ddp(["train", path, "--out", out, "--set", "training.max_steps=\(steps)"] + settings + extra, ranks: 2)
            XCTAssertEqual(r.exitCode, 0, "\(r.stdout)\n\(r.stderr)")
            return r
        }
        _ = try train(3)
        let checkpoint3 = out + "/checkpoints/" + CheckpointDirectory.fileName(step: 3), checkpoint5 = out + "/checkpoints/" + CheckpointDirectory.fileName(step: 5)
        XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint3))
        let resumed = try train(5, ["--resume", checkpoint3])
        XCTAssertTrue(resumed.stdout.contains("resumed from"), resumed.stdout)
        XCTAssertTrue(resumed.stdout.contains("baselines: copy the source BLEU"), resumed.stdout)
        let table = try String(contentsOfFile: out + "/translations-test.tsv", encoding: .utf8)
        XCTAssertTrue(table.hasPrefix("source\ttranslation\treferences\n"), table)
        // The test figures printed after training are what `ddp eval` of the last checkpoint reports.
        let printed = try XCTUnwrap(resumed.stdout.components(separatedBy: " sentences): ").last?.components(separatedBy: "; baselines").first)
        let eval = try JobIntegrationTests.ddp(["eval", path, "--checkpoint", checkpoint5] + settings, ranks: 2)
        XCTAssertEqual(eval.exitCode, 0, eval.stderr)
        XCTAssertTrue(eval.stdout.contains(" samples, " + printed), "eval: \(eval.stdout)\ntrain: \(printed)")
        let sample = try JobIntegrationTests.ddp(["sample", path, "--checkpoint", checkpoint5, "--count", "3"] + settings, ranks: nil)
        XCTAssertEqual(sample.exitCode, 0, sample.stderr)
        XCTAssertEqual(sample.stdout.split(separator: "\n").filter { $0.contains(" → ") }.count, 3, sample.stdout)
        let summary = try JobIntegrationTests.ddp(["summary", path] + settings, ranks: nil)
        XCTAssertEqual(summary.exitCode, 0, summary.stderr)
        XCTAssertTrue(summary.stdout.contains("decoder/block_0") && summary.stdout.contains("Total params: "), summary.stdout)
    }
}
