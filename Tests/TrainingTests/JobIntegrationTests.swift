import Foundation
import TestSupport
import Training
import XCTest

/// The `ddp` command on the real data sets, shrunk with `--set`: every config trains under
/// `mpirun -np 2`, writes a checkpoint and resumes from it; the in-process mode gives the same
/// bits; a resumed run ends exactly where an uninterrupted one does.
final class JobIntegrationTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let dataDirectory = repository.deletingLastPathComponent().appendingPathComponent("shared/data").path

    static let shrink: [String: [String]] = [
        "cnn_fashion_mnist": ["data.train_limit=256", "data.test_limit=64", "training.batch_size=16"],
        "cnn_cifar10": ["data.train_limit=256", "data.test_limit=64", "training.batch_size=16"],
        // Two residual blocks (padding and projection shortcuts) stand in for the nine.
        "resnet20_cifar10": ["data.train_limit=256", "data.test_limit=64", "training.batch_size=8", "schedule.warmup_steps=1",
                             "schedule.decay_steps=10",
                             "model.layers=[" + ["{\"type\":\"Conv2D\",\"filters\":4,\"kernel_size\":3,\"padding\":\"same\",\"use_bias\":false}",
                                                 "{\"type\":\"BatchNormalization\"}", "{\"type\":\"Activation\",\"activation\":\"relu\"}",
                                                 "{\"type\":\"ResidualBlock\",\"filters\":6,\"strides\":2,\"shortcut\":\"padding\"}",
                                                 "{\"type\":\"ResidualBlock\",\"filters\":8,\"strides\":2}",
                                                 "{\"type\":\"GlobalAveragePooling2D\"}", "{\"type\":\"Dense\",\"units\":10}"].joined(separator: ",") + "]"],
        "transformer_shakespeare": ["data.sequence_length=32", "data.validation_fraction=0.005", "model.embed_dim=32",
                                    "model.num_heads=2", "model.key_dim=16", "model.ff_dim=64", "model.num_blocks=1",
                                    "training.batch_size=4", "schedule.warmup_steps=1", "schedule.decay_steps=10"],
        "gan_mnist": ["training.batch_size=16", "training.sample_every_steps=2"],
        "lstm_shakespeare": ["data.sequence_length=16", "data.validation_fraction=0.005", "model.embed_dim=8", "model.units=16",
                             "training.batch_size=4", "training.eval_batch_size=8", "schedule.warmup_steps=1", "schedule.decay_steps=10"],
        "mlp_fraud": [],
        "gnn_karate": [],
    ]

    static func ddp(_ args: [String], ranks: Int?, timeout: Double = 300) throws -> MPIRun.Result {
        let env = ["DDP_DATA_DIR": Self.dataDirectory]
        if let ranks {
            return try MPIRun.run(ranks: ranks, executable: "ddp", arguments: args, environment: env, timeout: timeout)
        }
        var full = ProcessInfo.processInfo.environment
        for (k, v) in env { full[k] = v }
        full["SWIFT_BACKTRACE"] = "enable=no"
        return try MPIRun.runProcess(MPIRun.productsDirectory.appendingPathComponent("ddp").path, args, environment: full, timeout: timeout)
    }

    func train(_ config: String, steps: Int, out: String, mpiRanks: Int? = 2, extra: [String] = []) throws -> MPIRun.Result {
        var args = ["train", Self.repository.appendingPathComponent("configs/\(config).json").path, "--out", out]
        for s in Self.shrink[config]! + ["training.max_steps=\(steps)", "training.log_every_steps=1", "checkpoint.every_steps=\(steps <= 3 ? steps : 3)"] {
            args += ["--set", s]
        }
        let r = try Self.ddp(args + extra, ranks: mpiRanks)
        XCTAssertFalse(r.timedOut, "\(config) timed out")
        XCTAssertEqual(r.exitCode, 0, "\(config) failed:\n\(r.stdout)\n\(r.stderr)")
        return r
    }

    func checkpoint(_ out: String, step: Int) -> String { "\(out)/checkpoints/ckpt-\(String(format: "%09d", step)).safetensors" }

    func testEveryConfigTrainsCheckpointsAndResumesUnderMPI() throws {
        try XCTSkipUnless(MPIRun.isAvailable, "mpirun not installed")
        try XCTSkipUnless(FileManager.default.fileExists(atPath: Self.dataDirectory + "/mnist"), "no data at \(Self.dataDirectory)")
        for config in ["cnn_fashion_mnist", "cnn_cifar10", "resnet20_cifar10", "transformer_shakespeare", "gan_mnist", "lstm_shakespeare",
                       "mlp_fraud", "gnn_karate"] {
            if config == "cnn_fashion_mnist" && !FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist") { continue }
            let out = NSTemporaryDirectory() + "ddp-\(config)-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: out) }
            _ = try train(config, steps: 3, out: out)
            XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint(out, step: 3)), "\(config): no checkpoint at step 3")
            let resumed = try train(config, steps: 5, out: out, extra: ["--resume", checkpoint(out, step: 3)])
            XCTAssertTrue(resumed.stdout.contains("resumed from"), "\(config): \(resumed.stdout)")
            XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint(out, step: 5)), "\(config): no checkpoint at step 5")
            let log = try String(contentsOfFile: out + "/metrics.jsonl", encoding: .utf8)
            XCTAssertTrue(log.contains("\"event\":\"final\""), "\(config): metrics log has no final line")
            for svg in ["loss.svg"] { XCTAssertTrue(FileManager.default.fileExists(atPath: "\(out)/\(svg)"), "\(config): no \(svg)") }
            if config == "gan_mnist" {
                let samples = try FileManager.default.contentsOfDirectory(atPath: out + "/samples")
                XCTAssertTrue(samples.contains { $0.hasSuffix(".png") }, "GAN wrote no sample grid")
            }
            if ["mlp_fraud", "gnn_karate", "resnet20_cifar10"].contains(config) { try checkEvalAndSummary(config, resumed: resumed, checkpoint: checkpoint(out, step: 5)) }
        }
    }

    /// `ddp eval` of the final checkpoint under mpirun reports the metrics the run ended with (for
    /// the ResNet: its moving statistics were checkpointed), and `ddp summary` builds the model.
    func checkEvalAndSummary(_ config: String, resumed: MPIRun.Result, checkpoint: String) throws {
        let path = Self.repository.appendingPathComponent("configs/\(config).json").path
        let eval = try Self.ddp(["eval", path, "--checkpoint", checkpoint] + Self.shrink[config]!.flatMap { ["--set", $0] }, ranks: 2)
        XCTAssertEqual(eval.exitCode, 0, "\(config) eval failed:\n\(eval.stdout)\n\(eval.stderr)")
        // "…; test loss 0.61, test accuracy 0.72, …" after training; "…: 344 samples, loss 0.61, accuracy 0.72, …" from eval.
        let trained = resumed.stdout.components(separatedBy: "; test ").last?.split(separator: "\n").first?
            .replacingOccurrences(of: "test ", with: "")
        let evaluated = eval.stdout.components(separatedBy: " samples, ").last?.split(separator: "\n").first.map(String.init)
        XCTAssertNotNil(trained, resumed.stdout)
        XCTAssertEqual(evaluated, trained, "\(config): eval of the last checkpoint differs from the run's final evaluation")
        if config == "mlp_fraud" { XCTAssertTrue(eval.stdout.contains("precision") && eval.stdout.contains("auc"), eval.stdout) }
        let summary = try Self.ddp(["summary", path], ranks: nil)
        XCTAssertEqual(summary.exitCode, 0, summary.stderr)
        let total = ["mlp_fraud": "4,097", "gnn_karate": "594", "resnet20_cifar10": "271,098"][config]!
        XCTAssertTrue(summary.stdout.contains("Total params: \(total)"), summary.stdout)
    }

    /// The CNN, the stateful LSTM whose carried state must be in the checkpoint (step 3 is
    /// mid-epoch, so without it the resumed run would restart its streams from zeros), and the
    /// ResNet, whose batch-norm moving statistics must be, with and without SyncBatchNorm.
    func testResumedRunEqualsUninterruptedRunAndInProcessEqualsMPI() throws {
        try XCTSkipUnless(MPIRun.isAvailable, "mpirun not installed")
        try XCTSkipUnless(FileManager.default.fileExists(atPath: Self.dataDirectory + "/cifar10"), "no data at \(Self.dataDirectory)")
        for (config, set) in [("cnn_cifar10", []), ("lstm_shakespeare", []), ("resnet20_cifar10", []),
                              ("resnet20_cifar10", ["--set", "parallel.sync_batch_norm=true"])] {
            let base = NSTemporaryDirectory() + "ddp-resume-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: base) }
            _ = try train(config, steps: 5, out: base + "/straight", extra: set)
            _ = try train(config, steps: 3, out: base + "/split", extra: set)
            _ = try train(config, steps: 5, out: base + "/split", extra: set + ["--resume", checkpoint(base + "/split", step: 3)])
            _ = try train(config, steps: 5, out: base + "/threads", mpiRanks: nil, extra: set + ["--ranks", "2"])
            let straight = try Data(contentsOf: URL(fileURLWithPath: checkpoint(base + "/straight", step: 5)))
            let split = try Data(contentsOf: URL(fileURLWithPath: checkpoint(base + "/split", step: 5)))
            let threads = try Data(contentsOf: URL(fileURLWithPath: checkpoint(base + "/threads", step: 5)))
            XCTAssertEqual(split, straight, "\(config): a run resumed at step 3 does not end bit-identical to an uninterrupted one")
            XCTAssertEqual(threads, straight, "\(config): 2 in-process ranks and mpirun -np 2 end with different checkpoints")
        }
    }

    /// Truncated backpropagation through time splits streams across ranks: 2 ranks × 2 streams
    /// train like 1 rank × 4 streams (without dropout, whose masks depend on the rank).
    func testStatefulLanguageModelRanksMatchOneRank() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: Self.dataDirectory + "/tinyshakespeare"), "no data at \(Self.dataDirectory)")
        let base = NSTemporaryDirectory() + "ddp-tbptt-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: base) }
        _ = try train("lstm_shakespeare", steps: 4, out: base + "/two", mpiRanks: nil, extra: ["--ranks", "2", "--set", "training.batch_size=2", "--set", "model.dropout=0"])
        let run = try train("lstm_shakespeare", steps: 4, out: base + "/one", mpiRanks: nil,
                            extra: ["--ranks", "1", "--set", "training.batch_size=4", "--set", "model.dropout=0"])
        // A language model is evaluated on its validation split, and its last line says so.
        XCTAssertTrue(run.stdout.contains("4 steps in") && run.stdout.contains("; validation loss "), run.stdout)
        let two = try Checkpoint(contentsOf: checkpoint(base + "/two", step: 4))
        let one = try Checkpoint(contentsOf: checkpoint(base + "/one", step: 4))
        XCTAssertEqual(two.names, one.names)
        for name in one.names where !name.hasPrefix("optimizer") {
            let a = two[name]!.values, b = one[name]!.values
            let scale = max(b.map { abs($0) }.max() ?? 0, 1e-3)
            let diff = zip(a, b).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThanOrEqual(diff / scale, 1e-4, "\(name): 2 ranks × 2 streams vs 1 rank × 4 streams differ by \(diff)")
        }
    }
}
