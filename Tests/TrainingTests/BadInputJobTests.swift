import Datasets
import Foundation
import TestSupport
import XCTest

/// `ddp train` on bad input under `mpirun`: each case exits with code 2 and prints one message
/// naming the file, the key path or byte offset, and what was expected; and the whole job ends
/// (each launch has a time limit that must not be hit). Data errors are found by the ranks after
/// MPI has started, including by one rank alone.
final class BadInputJobTests: XCTestCase {
    private var root = ""
    private var data: String { root + "/data" }

    /// A valid job: a small MLP on MNIST, 2 steps per epoch on 2 ranks of the synthetic data.
    static let config = """
    {
      "name": "tiny",
      "task": "classification",
      "data": { "dataset": "mnist" },
      "model": {
        "input_shape": [28, 28, 1],
        "layers": [
          { "type": "Flatten" },
          { "type": "Dense", "units": 16, "activation": "relu" },
          { "type": "Dense", "units": 10 }
        ]
      },
      "loss": { "name": "sparse_categorical_crossentropy", "from_logits": true },
      "optimizer": { "name": "sgd", "learning_rate": 0.1 },
      "training": { "epochs": 1, "batch_size": 4, "shuffle": true }
    }
    """

    override func setUpWithError() throws {
        try XCTSkipUnless(MPIRun.isAvailable, "mpirun not installed")
        root = NSTemporaryDirectory() + "bad-input-\(UUID().uuidString)"
        try SyntheticData.write(to: data)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: root)
    }

    /// `config` with each `old` text replaced by its `new` one (each must occur), written as `name`.
    func configFile(_ name: String, _ edits: [(old: String, new: String)] = []) throws -> String {
        var text = Self.config
        for (old, new) in edits {
            XCTAssertTrue(text.contains(old), old)
            text = text.replacingOccurrences(of: old, with: new)
        }
        let path = "\(root)/\(name).json"
        try SyntheticData.save(Array(text.utf8), to: path)
        return path
    }

    func train(_ config: String, ranks: Int = 2, dataDir: String? = nil, extra: [String] = []) throws -> MPIRun.Result {
        try MPIRun.run(ranks: ranks, executable: "ddp", arguments: arguments(config, dataDir: dataDir) + extra,
                       oversubscribe: ranks > 2, timeout: 60)
    }

    func arguments(_ config: String, dataDir: String? = nil) -> [String] {
        ["train", config, "--data-dir", dataDir ?? data, "--out", root + "/out"]
    }

    /// Exit code 2, the job ended before its time limit, and `expected` printed exactly once.
    func assertRejected(_ r: MPIRun.Result, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(r.timedOut, "the job hung:\n\(r.stderr)", file: file, line: line)
        XCTAssertEqual(r.exitCode, 2, r.stderr, file: file, line: line)
        XCTAssertEqual(r.stderr.components(separatedBy: expected).count - 1, 1, "expected once: \(expected)\nstderr:\n\(r.stderr)",
                       file: file, line: line)
        XCTAssertEqual(r.stderr.components(separatedBy: "ddp: ").count - 1, 1, "one message expected:\n\(r.stderr)", file: file, line: line)
    }

    func testTheValidJobTrains() throws {
        let r = try train(try configFile("valid"))
        XCTAssertFalse(r.timedOut)
        XCTAssertEqual(r.exitCode, 0, r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: root + "/out/checkpoints/ckpt-000000002.safetensors"), r.stdout)
    }

    func testConfigErrorsUnderMPI() throws {
        let cases: [(name: String, old: String, new: String, message: String)] = [
            ("unknown-key", "\"shuffle\": true", "\"shufle\": true",
             "training.shufle: unknown key for task \"classification\" (allowed: batch_size, drop_last, epochs, eval_batch_size, "
             + "gradient_accumulation, log_every_steps, max_consecutive_skips, max_steps, non_finite, shuffle); did you mean \"shuffle\"?"),
            ("wrong-type", "\"batch_size\": 4", "\"batch_size\": \"4\"", "training.batch_size: expected an integer, found string \"4\""),
            ("negative-lr", "\"learning_rate\": 0.1", "\"learning_rate\": -0.1",
             "optimizer.learning_rate: expected a real > 0, found real -0.1"),
            ("batch-zero", "\"batch_size\": 4", "\"batch_size\": 0", "training.batch_size: expected an integer ≥ 1, found integer 0"),
            ("unknown-layer", "\"type\": \"Flatten\"", "\"type\": \"Flaten\"",
             "model.layers[0].type: unknown layer type \"Flaten\" (valid: "),
            ("unknown-activation", "\"activation\": \"relu\"", "\"activation\": \"relu6\"",
             "model.layers[1].activation: unknown activation \"relu6\" (valid: \"linear\", \"relu\", "),
        ]
        for c in cases {
            let path = try configFile(c.name, [(c.old, c.new)])
            assertRejected(try train(path), "ddp: \(path): \(c.message)")
        }
    }

    /// Shapes are checked when the model is built, after MPI has started, on every rank.
    func testLayersWhoseShapesDoNotFitUnderMPI() throws {
        let conv = try configFile("conv", [("{ \"type\": \"Flatten\" }",
                                            "{ \"type\": \"Conv2D\", \"filters\": 2, \"kernel_size\": 29 }, { \"type\": \"Flatten\" }")])
        assertRejected(try train(conv), "ddp: \(conv): model.layers[0] (Conv2D): does not fit its input shape [28, 28, 1]: ")
        let classes = try configFile("classes", [("\"units\": 10", "\"units\": 9")])
        assertRejected(try train(classes), "ddp: \(classes): model.layers[2] (Dense): output shape [9] does not fit the 10 classes of mnist: expected [10]")
        let residual = try configFile("residual", [("{ \"type\": \"Dense\", \"units\": 16, \"activation\": \"relu\" }",
                                                    "{ \"type\": \"ResidualBlock\", \"filters\": 16 }")])
        assertRejected(try train(residual), "ddp: \(residual): model.layers[1] (ResidualBlock): does not fit its input shape [784]: "
                       + "input [784] should be [height, width, channels] per sample")
        let norm = try configFile("norm", [("\"layers\": [", "\"layers\": [ { \"type\": \"Reshape\", \"target_shape\": [1, 28, 28, 1] }, "
                                            + "{ \"type\": \"BatchNormalization\" },")])
        assertRejected(try train(norm), "ddp: \(norm): model.layers[1] (BatchNormalization): does not fit its input shape [1, 28, 28, 1]: "
                       + "input [1, 28, 28, 1] should be [features], [steps, channels] or [height, width, channels] per sample")
        let momentum = try configFile("momentum", [("{ \"type\": \"Flatten\" }", "{ \"type\": \"BatchNormalization\", \"momentum\": 1 }, { \"type\": \"Flatten\" }")])
        assertRejected(try train(momentum), "ddp: \(momentum): model.layers[0].momentum: expected a real in [0, 1), found integer 1")
    }

    func testConfigErrorWithThreeRanks() throws {
        let path = try configFile("three", [("\"learning_rate\": 0.1", "\"learning_rate\": -1")])
        assertRejected(try train(path, ranks: 3), "ddp: \(path): optimizer.learning_rate: expected a real > 0, found integer -1")
    }

    /// Found before MPI starts, from the command line every rank shares: rank 0 alone reports it.
    func testUsageErrorUnderMPI() throws {
        assertRejected(try train(try configFile("valid"), extra: ["--epochs", "3"]), "ddp: unknown option '--epochs' (known: ")
    }

    func testDamagedDataFilesUnderMPI() throws {
        let images = data + "/mnist/train-images-idx3-ubyte"
        let full = try SyntheticData.load(images)
        try SyntheticData.save(Array(full.dropLast(100)), to: images)
        assertRejected(try train(try configFile("valid")),
                       "ddp: \(images): truncated: header says 16 images of 28x28 (12,560 bytes) but file has 12,460 bytes")

        let batch = data + "/cifar10/data_batch_3.bin.gz"
        var gz = try SyntheticData.load(batch)
        for i in 20..<40 { gz[i] ^= 0x5a }
        try SyntheticData.save(gz, to: batch)
        let cifar = try configFile("cifar", [("\"mnist\"", "\"cifar10\""), ("[28, 28, 1]", "[32, 32, 3]")])
        let r = try train(cifar, ranks: 3)
        assertRejected(r, "ddp: \(batch): compressed offset ")
        XCTAssertTrue(r.stderr.contains(": corrupt gzip stream: "), r.stderr)
    }

    /// A data folder that only one rank sees damaged (per-node copies): that rank's error is
    /// reported, naming the rank, and every rank ends.
    func testADataErrorOnOneRankOnlyEndsEveryRank() throws {
        let bad = root + "/bad"
        try SyntheticData.write(to: bad)
        let labels = bad + "/mnist/train-labels-idx1-ubyte"
        try SyntheticData.save(SyntheticData.idx(magic: IDX.imagesMagic, sizes: [16, 1, 1]), to: labels)
        let config = try configFile("valid")
        let expected = "\(labels): byte 0: magic number 0x00000801 expected for IDX labels, found 0x00000803 (IDX images)"
        let two = try MPIRun.run(apps: [(1, arguments(config)), (1, arguments(config, dataDir: bad))], executable: "ddp", timeout: 60)
        assertRejected(two, "ddp: rank 1 of 2: \(expected)")
        let three = try MPIRun.run(apps: [(1, arguments(config, dataDir: bad)), (2, arguments(config))], executable: "ddp",
                                   oversubscribe: true, timeout: 60)
        assertRejected(three, "ddp: rank 0 of 3: \(expected)")
    }

    /// `--data-dir` names the only folder searched, even when DDP_DATA_DIR holds the data.
    func testAnExplicitDataDirectoryWithoutTheDataSetIsNamed() throws {
        let empty = root + "/empty"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let r = try MPIRun.run(ranks: 2, executable: "ddp", arguments: arguments(try configFile("valid"), dataDir: empty),
                               environment: ["DDP_DATA_DIR": data], timeout: 60)
        assertRejected(r, "ddp: data set 'mnist' not found; looked in:\n  \(empty)/mnist (--data-dir): no such folder\n")
    }
}
