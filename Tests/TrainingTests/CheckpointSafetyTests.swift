import Foundation
import TestSupport
import Training
import XCTest

/// Checkpoint safety: a process killed while writing a checkpoint leaves the previous one
/// loadable, every flipped byte of a checkpoint is caught on load and named, a checkpoint of
/// another model is refused naming the tensor and both shapes, and only the last K are kept.
final class CheckpointSafetyTests: XCTestCase {
    private var root = ""

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "checkpoint-safety-\(UUID().uuidString)"
        try SyntheticData.write(to: root + "/data")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: root)
    }

    /// `ddp` as one process (no mpirun): the process the test kills is the one writing.
    func ddp(_ args: [String], environment extra: [String: String] = [:]) throws -> MPIRun.Result {
        var env = ProcessInfo.processInfo.environment
        env["SWIFT_BACKTRACE"] = "enable=no"
        env["OPENBLAS_NUM_THREADS"] = "1"
        for (k, v) in extra { env[k] = v }
        return try MPIRun.runProcess(MPIRun.productsDirectory.appendingPathComponent("ddp").path, args, environment: env, timeout: 120)
    }

    /// The tiny MNIST job of `BadInputJobTests` (hidden layer of `hidden` units) for `steps`
    /// steps with a checkpoint every 2, the last 2 kept; output in `out`.
    func train(_ out: String, steps: Int, hidden: Int = 16, extra: [String] = [],
               environment: [String: String] = [:]) throws -> MPIRun.Result {
        let config = root + "/tiny-\(hidden).json"
        try SyntheticData.save(Array(BadInputJobTests.config.replacingOccurrences(of: "\"units\": 16", with: "\"units\": \(hidden)").utf8), to: config)
        var args = ["train", config, "--data-dir", root + "/data", "--out", out]
        for s in ["training.epochs=5", "training.max_steps=\(steps)", "checkpoint.every_steps=2", "checkpoint.keep=2"] { args += ["--set", s] }
        return try ddp(args + extra, environment: environment)
    }

    func checkpoint(_ out: String, step: Int) -> String { "\(out)/checkpoints/\(CheckpointDirectory.fileName(step: step))" }

    func testKillDuringACheckpointWriteLeavesThePreviousOneLoadable() throws {
        let out = root + "/killed"
        let killed = try train(out, steps: 6, environment: ["DDP_TEST_KILL_DURING_WRITE": CheckpointDirectory.fileName(step: 4)])
        XCTAssertFalse(killed.timedOut)
        XCTAssertEqual(killed.exitCode, SIGKILL, "the process was meant to die by SIGKILL while writing step 4:\n\(killed.stderr)")

        let dir = try CheckpointDirectory(path: out + "/checkpoints", keepLast: 2)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        XCTAssertEqual(names.count, 2, "\(names)")
        XCTAssertTrue(names.contains(CheckpointDirectory.fileName(step: 2)), "\(names)")
        let partial = try XCTUnwrap(names.first { $0.hasPrefix(".\(CheckpointDirectory.fileName(step: 4)).tmp.") }, "\(names)")
        let partialSize = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: "\(dir.path)/\(partial)")[.size] as? Int)
        let fullSize = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: checkpoint(out, step: 2))[.size] as? Int)
        XCTAssertEqual(partialSize, fullSize / 2, "the kill was meant to come halfway through the write")

        let latest = try XCTUnwrap(try dir.latest())
        XCTAssertEqual(latest.step, 2)
        XCTAssertEqual(try CheckpointInfo(latest.checkpoint).step, 2)

        let resumed = try train(out, steps: 6, extra: ["--resume", latest.path])
        XCTAssertEqual(resumed.exitCode, 0, resumed.stderr)
        XCTAssertEqual(try dir.steps(), [4, 6], "the last 2 checkpoints are kept")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(dir.path)/\(partial)"), "the dead writer's temporary file was left behind")

        let straight = root + "/straight"
        XCTAssertEqual(try train(straight, steps: 6).exitCode, 0)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: checkpoint(out, step: 6))),
                       try Data(contentsOf: URL(fileURLWithPath: checkpoint(straight, step: 6))),
                       "resuming after the kill does not end where an uninterrupted run does")
    }

    /// Every single-bit change anywhere in a checkpoint file — length prefix, header, padding,
    /// data — is an error on load; in the data it names the tensor the byte belongs to.
    func testEveryFlippedBitIsCaughtAndADamagedTensorIsNamed() throws {
        var c = Checkpoint(metadata: CheckpointInfo(step: 12, epoch: 1, configDigest: "0123456789abcdef", modelName: "m").metadata)
        try c.add("dense/kernel", shape: [3, 2], values: [0.5, -1, 2, 0, 1.5, -0.25])
        try c.add("dense/bias", shape: [2], values: [0.1, 0.2])
        try c.add("empty", shape: [0], values: [])
        let bytes = c.encoded()
        let dataStart = bytes.count - 4 * 8
        var missed: [String] = []
        for i in bytes.indices {
            for bit in [0, 5, 7] {
                var damaged = bytes
                damaged[i] ^= UInt8(1 << bit)
                do {
                    _ = try Checkpoint(decoding: damaged, source: "damaged.safetensors")
                    missed.append("byte \(i) bit \(bit)")
                } catch let error as ArtifactError {
                    XCTAssertTrue(error.description.hasPrefix("damaged.safetensors: "), error.description)
                    if i >= dataStart {
                        XCTAssertEqual(error.kind, .corrupt, error.description)
                        let tensor = i - dataStart < 24 ? "\"dense/kernel\"" : "\"dense/bias\""
                        XCTAssertTrue(error.message.contains("tensor \(tensor)"), "byte \(i): \(error.message)")
                    }
                }
            }
        }
        XCTAssertEqual(missed, [], "changes that loaded without an error")
    }

    func testHeaderDamageIsNamed() throws {
        var c = Checkpoint(metadata: CheckpointInfo(step: 12, epoch: 1).metadata)
        try c.add("dense/kernel", shape: [3, 2], values: [0.5, -1, 2, 0, 1.5, -0.25])
        let file = root + "/header.safetensors"
        func load(_ edit: (inout String) -> Void) throws -> ArtifactError? {
            let bytes = c.encoded()
            let n = Int(bytes[0])
            var header = String(decoding: bytes[8..<(8 + n)], as: UTF8.self)
            edit(&header)
            XCTAssertEqual(header.utf8.count, n)
            try Data(Array(bytes[..<8]) + Array(header.utf8) + Array(bytes[(8 + n)...])).write(to: URL(fileURLWithPath: file))
            do { _ = try Checkpoint(contentsOf: file) } catch let e as ArtifactError { return e }
            return nil
        }
        let shape = try XCTUnwrap(try load { $0 = $0.replacingOccurrences(of: "\"shape\":[3,2]", with: "\"shape\":[3,3]") })
        XCTAssertEqual(shape.kind, .invalidOffsets)
        XCTAssertTrue(shape.description.hasPrefix(file + ": tensor \"dense/kernel\": "), shape.description)
        XCTAssertTrue(shape.message.contains("F32 [3, 3] needs 36"), shape.message)
        let step = try XCTUnwrap(try load { $0 = $0.replacingOccurrences(of: "\"step\":\"12\"", with: "\"step\":\"13\"") })
        XCTAssertEqual(step.kind, .corrupt)
        XCTAssertTrue(step.description.hasPrefix(file + ": corrupt checkpoint header: "), step.description)
    }

    /// `ddp eval` with a checkpoint of a model with another hidden size: exit code 2 and an
    /// error naming the file, the tensor and both shapes.
    func testACheckpointOfAnotherModelIsRefusedNamingTensorAndShapes() throws {
        let out = root + "/wide"
        XCTAssertEqual(try train(out, steps: 2, hidden: 32).exitCode, 0)
        let config = root + "/tiny-16.json"
        try SyntheticData.save(Array(BadInputJobTests.config.utf8), to: config)
        let file = checkpoint(out, step: 2)
        let r = try ddp(["eval", config, "--checkpoint", file, "--data-dir", root + "/data"])
        XCTAssertEqual(r.exitCode, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("\(file): tensor \"dense_1/kernel\" has shape [32, 10] in the checkpoint but [16, 10] in the model"),
                      r.stderr)
    }
}
