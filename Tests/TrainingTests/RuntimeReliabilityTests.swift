import Foundation
import TestSupport
import Training
import XCTest

/// Failures while a job runs, on the real `ddp` binary and MNIST shrunk with `--set`: a rank
/// killed under mpirun, a stalled collective, a non-finite loss or gradient, ranks started with
/// different configurations. Faults come from `kill -9`, absurd settings, or the test hooks
/// `DDP_TEST_STALL` and `DDP_TEST_NONFINITE_GRADIENT` (see `TestHooks`).
final class RuntimeReliabilityTests: XCTestCase {
    static let config = JobIntegrationTests.repository.appendingPathComponent("configs/cnn_mnist.json").path
    static let gan = JobIntegrationTests.repository.appendingPathComponent("configs/gan_mnist.json").path

    override func setUpWithError() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: JobIntegrationTests.dataDirectory + "/mnist"),
                          "no data at \(JobIntegrationTests.dataDirectory)")
    }

    /// `ddp train` arguments for a few steps of MNIST with 256 training images, logging every
    /// step and checkpointing every `checkpointEvery` steps.
    func trainArguments(_ config: String = config, out: String, steps: Int, checkpointEvery: Int = 2, _ sets: [String] = []) -> [String] {
        var args = ["train", config, "--out", out]
        for s in ["data.train_limit=256", "data.test_limit=64", "training.batch_size=16", "training.max_steps=\(steps)",
                  "training.log_every_steps=1", "checkpoint.every_steps=\(checkpointEvery)", "checkpoint.keep=10"] + sets {
            args += ["--set", s]
        }
        return args
    }

    var environment: [String: String] { ["DDP_DATA_DIR": JobIntegrationTests.dataDirectory, "DDP_PROGRESS": "lines"] }

    func mpirun(ranks: Int, _ args: [String], environment extra: [String: String] = [:], timeout: Double = 120) throws -> MPIRun.Result {
        try XCTSkipUnless(MPIRun.isAvailable, "mpirun not installed")
        return try MPIRun.run(ranks: ranks, executable: "ddp", arguments: args, oversubscribe: ranks > 2,
                              environment: environment.merging(extra) { $1 }, timeout: timeout)
    }

    /// `ddp` on in-process ranks (`--ranks`), no MPI.
    func threads(_ ranks: Int, _ args: [String], environment extra: [String: String] = [:], timeout: Double = 120) throws -> MPIRun.Result {
        var env = ProcessInfo.processInfo.environment.merging(environment) { $1 }.merging(extra) { $1 }
        env["SWIFT_BACKTRACE"] = "enable=no"
        return try MPIRun.runProcess(MPIRun.productsDirectory.appendingPathComponent("ddp").path, args + ["--ranks", "\(ranks)"],
                                     environment: env, timeout: timeout)
    }

    func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "ddp-reliability-\(UUID().uuidString)"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func checkpointSteps(_ out: String) -> [Int] {
        ((try? FileManager.default.contentsOfDirectory(atPath: out + "/checkpoints")) ?? [])
            .compactMap(CheckpointDirectory.step(ofFileName:)).sorted()
    }

    func checkpointPath(_ out: String, step: Int) -> String { out + "/checkpoints/" + CheckpointDirectory.fileName(step: step) }

    // MARK: 2. A rank dies

    /// `kill -9` of one rank: mpirun ends the whole job within 10 s naming the rank, and resuming
    /// from the last checkpoint ends bit-identical to a run never interrupted. Rank 0 sleeps at
    /// step 4 (test hook, watchdog off), so the job is certainly still running when the rank is
    /// killed and no checkpoint after step 2 exists: the outcome does not depend on timing.
    func testKilledRankEndsTheJobWithinTenSecondsAndResumingMatchesAnUninterruptedRun() throws {
        try XCTSkipUnless(MPIRun.isAvailable, "mpirun not installed")
        for (ranks, victim) in [(2, 1), (3, 0)] {
            let base = temporaryDirectory()
            let straight = try mpirun(ranks: ranks, trainArguments(out: base + "/straight", steps: 6))
            XCTAssertEqual(straight.exitCode, 0, "\(ranks) ranks: uninterrupted run failed:\n\(straight.stderr)")

            let out = base + "/killed"
            let job = try MPIRun.start([MPIRun.App(ranks: ranks, executable: "ddp", arguments: trainArguments(out: out, steps: 6))],
                                       oversubscribe: ranks > 2,
                                       environment: environment.merging(["DDP_TEST_STALL": "0:4:60", "DDP_STALL_TIMEOUT": "0"]) { $1 })
            XCTAssertTrue(job.waitUntil(timeout: 90) { checkpointSteps(out) == [2] }, "\(ranks) ranks: no checkpoint at step 2\n\(job.stderr)")
            var pid: pid_t?
            XCTAssertTrue(job.waitUntil(timeout: 10) { pid = job.rankPid(victim); return pid != nil }, "rank \(victim) not found")
            let killed = Date()
            kill(try XCTUnwrap(pid), SIGKILL)
            let result = job.wait(timeout: 200)
            let seconds = Date().timeIntervalSince(killed)
            print("mpirun -np \(ranks): the job ended \(String(format: "%.2f", seconds)) s after kill -9 of rank \(victim)")
            XCTAssertLessThan(seconds, 10, "\(ranks) ranks: the job outlived the killed rank by \(seconds) s")
            XCTAssertNotEqual(result.exitCode, 0)
            let output = result.stdout + result.stderr
            XCTAssertTrue(output.contains("process rank \(victim) ") && output.contains("signal 9"),
                          "\(ranks) ranks: the message does not name rank \(victim):\n\(output)")
            XCTAssertEqual(checkpointSteps(out), [2])

            let resumed = try mpirun(ranks: ranks, trainArguments(out: out, steps: 6) + ["--resume", checkpointPath(out, step: 2)])
            XCTAssertEqual(resumed.exitCode, 0, "\(ranks) ranks: resume failed:\n\(resumed.stderr)")
            let a = try Data(contentsOf: URL(fileURLWithPath: checkpointPath(base + "/straight", step: 6)))
            let b = try Data(contentsOf: URL(fileURLWithPath: checkpointPath(out, step: 6)))
            XCTAssertEqual(a, b, "\(ranks) ranks: the resumed run does not end bit-identical to the uninterrupted one")
        }
    }

    // MARK: 6. Stall watchdog

    func assertStallReport(_ r: MPIRun.Result, _ mode: String, file: StaticString = #filePath, line: UInt = #line) {
        let output = r.stdout + r.stderr
        XCTAssertFalse(r.timedOut, "\(mode): the stalled job was not ended", file: file, line: line)
        XCTAssertEqual(r.exitCode, 1, "\(mode):\n\(output)", file: file, line: line)
        XCTAssertTrue(output.contains("stall: collective #"), "\(mode): no watchdog report:\n\(output)", file: file, line: line)
        // The first collective rank 0 waits in: the gradients' when they are averaged during
        // backward, the step's metrics when the update averages them.
        XCTAssertNotNil(output.range(of: #" at step 3, (allreduce|allgather) of [0-9]+ [KM]?B \("#, options: .regularExpression),
                        "\(mode): step or collective not named:\n\(output)", file: file, line: line)
        XCTAssertTrue(output.contains("late: rank 1 (not yet in collective"), "\(mode): late rank not named:\n\(output)", file: file, line: line)
        print("\(mode): the stalled job ended after \(String(format: "%.2f", r.seconds)) s in all")
    }

    /// Rank 1 sleeps 60 s at step 3; with a 1 s timeout the watchdog ends the job long before.
    func testStalledCollectiveAbortsTheJobNamingTheStepAndTheLateRank() throws {
        let out = temporaryDirectory()
        let stall = ["DDP_TEST_STALL": "1:3:60", "DDP_STALL_TIMEOUT": "1"]
        assertStallReport(try mpirun(ranks: 2, trainArguments(out: out + "/mpi", steps: 6), environment: stall, timeout: 45), "mpirun -np 2")
        assertStallReport(try threads(2, trainArguments(out: out + "/threads", steps: 6), environment: stall, timeout: 45), "2 in-process ranks")
    }

    // MARK: 4. Non-finite values

    /// A NaN put into one rank's gradient before the allreduce reaches every rank, which all
    /// stop at that step naming the parameter; no checkpoint after the last good one is written.
    func testNonFiniteGradientStopsEveryRankNamingTheTensorAndKeepsTheLastGoodCheckpoint() throws {
        let out = temporaryDirectory()
        let r = try mpirun(ranks: 2, trainArguments(out: out, steps: 6), environment: ["DDP_TEST_NONFINITE_GRADIENT": "1:3:dense_1/kernel"],
                           timeout: 60)
        XCTAssertFalse(r.timedOut, "ranks disagreed and the job hung")
        XCTAssertEqual(r.exitCode, 1)
        let expected = "non-finite gradient in dense_1/kernel (1 of 1280 values, e.g. nan) at step 3, epoch 1; the update was not applied; the last good checkpoint is \(checkpointPath(out, step: 2))"
        XCTAssertTrue(r.stderr.contains(expected), r.stderr)
        XCTAssertEqual(checkpointSteps(out), [2])
        let kept = try Checkpoint(contentsOf: checkpointPath(out, step: 2))
        XCTAssertTrue(kept.tensors.allSatisfy { $0.values.allSatisfy(\.isFinite) })
    }

    /// With `training.non_finite: "skip"` the poisoned step changes nothing (its checkpoint
    /// equals the previous one) and training goes on.
    func testSkipPolicySkipsTheStepWithoutChangingParametersAndGoesOn() throws {
        let out = temporaryDirectory()
        let r = try threads(2, trainArguments(out: out, steps: 4, checkpointEvery: 1, ["training.non_finite=skip"]),
                            environment: ["DDP_TEST_NONFINITE_GRADIENT": "1:3:dense_1/kernel"])
        XCTAssertEqual(r.exitCode, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("skipped step 3: non-finite gradient in dense_1/kernel"), r.stdout)
        XCTAssertTrue(r.stdout.contains("1 step skipped (non-finite)"), r.stdout)
        let log = try String(contentsOfFile: out + "/metrics.jsonl", encoding: .utf8)
        XCTAssertTrue(log.contains("\"step\":3,\"epoch\":1,\"event\":\"skipped\""), log)
        let tensors = try (2...4).map { try Checkpoint(contentsOf: checkpointPath(out, step: $0)).tensors }
        XCTAssertEqual(tensors[1], tensors[0], "the skipped step 3 changed parameters or optimizer state")
        XCTAssertNotEqual(tensors[2], tensors[1], "step 4 was not applied")
    }

    /// An absurd learning rate (1e30) makes step 1's update overflow the next forward: the loss
    /// of step 2 is NaN. `stop` ends the run there; `skip` ends it after too many in a row.
    func testNonFiniteLossStopsOrEndsAfterTooManyConsecutiveSkips() throws {
        let out = temporaryDirectory()
        let stop = try threads(2, trainArguments(out: out + "/stop", steps: 6, ["optimizer.learning_rate=1e30"]))
        XCTAssertEqual(stop.exitCode, 1)
        XCTAssertTrue(stop.stderr.contains("non-finite loss (") && stop.stderr.contains(") at step 2, epoch 1; the update was not applied; no checkpoint was written yet"), stop.stderr)
        let skip = try threads(2, trainArguments(out: out + "/skip", steps: 6, ["optimizer.learning_rate=1e30", "training.non_finite=skip",
                                                                                   "training.max_consecutive_skips=2"]))
        XCTAssertEqual(skip.exitCode, 1)
        XCTAssertTrue(skip.stdout.contains("skipped step 2") && skip.stdout.contains("skipped step 3"), skip.stdout)
        XCTAssertTrue(skip.stderr.contains("at step 4, epoch 1: 3 steps in a row skipped (training.max_consecutive_skips 2)"), skip.stderr)
        XCTAssertEqual(checkpointSteps(out + "/skip"), [2], "the checkpoint at step 2 holds the parameters of step 1, which are finite")
    }

    /// The GAN checks each network's gradients: the discriminator's stop the step before its
    /// update, the generator's (named with their checkpoint prefix) before the generator's.
    func testGANNamesTheNetworkOfANonFiniteGradient() throws {
        let out = temporaryDirectory()
        // dense_2 exists in both networks: the discriminator is checked first.
        let d = try threads(2, trainArguments(Self.gan, out: out + "/d", steps: 3), environment: ["DDP_TEST_NONFINITE_GRADIENT": "0:3:dense_2/kernel"])
        XCTAssertEqual(d.exitCode, 1)
        XCTAssertTrue(d.stderr.contains("non-finite gradient in discriminator/dense_2/kernel (1 of 256 values, e.g. nan) at step 3"), d.stderr)
        // dense_3 is the generator's alone.
        let g = try threads(2, trainArguments(Self.gan, out: out + "/g", steps: 2, ["training.non_finite=skip"]),
                            environment: ["DDP_TEST_NONFINITE_GRADIENT": "1:2:dense_3/kernel"])
        XCTAssertEqual(g.exitCode, 0, g.stderr)
        XCTAssertTrue(g.stdout.contains("skipped step 2: non-finite gradient in generator/dense_3/kernel"), g.stdout)
    }

    // MARK: 5. Consistency at start

    /// MPMD: rank 1 is started with another batch size; rank 0 names the rank and the key.
    func testRanksWithDifferentConfigurationsAbortNamingTheRankAndTheKey() throws {
        try XCTSkipUnless(MPIRun.isAvailable, "mpirun not installed")
        let out = temporaryDirectory()
        let args = trainArguments(out: out, steps: 2)
        let job = try MPIRun.start([MPIRun.App(ranks: 1, executable: "ddp", arguments: args),
                                    MPIRun.App(ranks: 1, executable: "ddp", arguments: args + ["--set", "training.batch_size=32"])],
                                   environment: environment)
        let r = job.wait(timeout: 60)
        XCTAssertFalse(r.timedOut)
        XCTAssertEqual(r.exitCode, 1)
        XCTAssertTrue(r.stderr.contains("rank 0: rank 1's config differs from rank 0's: training.batch_size is 32 on rank 1, 16 on rank 0"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/checkpoints"), "training started")
    }
}
