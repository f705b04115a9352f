import Foundation
import TestSupport
import XCTest

/// `ddp bench` prints one JSON line per model with the figures issue 6 asks for, on several
/// ranks; `ddp train --timeline` writes one trace with every rank's steps, evaluation and
/// checkpoint. No timing is asserted: the figures only have to be there and make sense.
final class BenchAndTimelineCommandTests: XCTestCase {
    static let dataDirectory = ProcessInfo.processInfo.environment["DDP_DATA_DIR"] ?? JobIntegrationTests.dataDirectory

    func ddp(_ args: [String]) throws -> MPIRun.Result {
        var env = ProcessInfo.processInfo.environment
        env["SWIFT_BACKTRACE"] = "enable=no"
        env["DDP_DATA_DIR"] = Self.dataDirectory
        let r = try MPIRun.runProcess(MPIRun.productsDirectory.appendingPathComponent("ddp").path, args, environment: env, timeout: 300)
        XCTAssertFalse(r.timedOut, "ddp \(args) timed out")
        return r
    }

    func testBenchGANOnTwoRanksPrintsOneJSONLineWithTheRequiredFields() throws {
        let timeline = NSTemporaryDirectory() + "bench-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: timeline) }
        let r = try ddp(["bench", "--model", "gan", "--steps", "2", "--warmup", "1", "--ranks", "2", "--timeline", timeline])
        XCTAssertEqual(r.exitCode, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, r.stdout)
        let object = try JSONSerialization.jsonObject(with: Data((lines.first ?? "").utf8))
        let line = try XCTUnwrap(object as? [String: Any], "not a JSON object: \(r.stdout)")
        let numbers = ["median_step_ms", "samples_per_s", "gflops", "gflop_per_step", "sgemm_1t_gflops", "fraction_of_sgemm_peak",
                       "allreduce_ms", "exposed_comm_ms", "exposed_share", "max_rank_wait_ms", "discriminator_allreduce_ms", "generator_allreduce_ms",
                       "discriminator_exposed_comm_ms", "generator_exposed_comm_ms", "peak_rss_mib", "median_step_cpu_ms",
                       "other_cores"]
        for key in numbers { XCTAssertNotNil(line[key] as? Double, "\(key) missing or not a number in \(line)") }
        XCTAssertEqual(line["model"] as? String, "gan")
        XCTAssertEqual(line["ranks"] as? Int, 2)
        XCTAssertEqual(line["threads_per_rank"] as? Int, 1)
        XCTAssertEqual(line["batch_per_rank"] as? Int, 64)
        XCTAssertEqual(line["params"] as? Int, 2_019_857)
        XCTAssertNotNil(line["pool_allocations_after_warmup"] as? Int)
        // models.md: B × (8·G + 16·D) per rank, times 2 ranks.
        XCTAssertEqual(line["gflop_per_step"] as? Double ?? 0, 2 * 1.3052, accuracy: 1e-3)
        XCTAssertGreaterThan(line["allreduce_ms"] as? Double ?? 0, 0, "two ranks reduce gradients")
        XCTAssertEqual(line["allreduce"] as? String, "shared memory", "in-process ranks average in shared memory")
        let step = line["median_step_ms"] as? Double ?? 0, rate = line["samples_per_s"] as? Double ?? 0
        XCTAssertEqual(rate, 2 * 64 / (step / 1000), accuracy: 0.01 * rate + 1, "samples/s counts the B real samples of both ranks")

        let trace = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: timeline))) as? [String: Any]
        let events = trace?["traceEvents"] as? [[String: Any]] ?? []
        XCTAssertEqual(Set(events.compactMap { $0["pid"] as? Int }), [0, 1])
        XCTAssertTrue(events.contains { $0["name"] as? String == "gan benchmark" })
    }

    func testBenchRejectsAnUnknownModel() throws {
        let r = try ddp(["bench", "--model", "resnet"])
        XCTAssertEqual(r.exitCode, 2)
        XCTAssertTrue(r.stderr.contains("transformer-k64"), r.stderr)
    }

    func testTrainTimelineHoldsEveryRanksStepsEvaluationAndCheckpoint() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: Self.dataDirectory + "/cifar10"), "no data at \(Self.dataDirectory)")
        let out = NSTemporaryDirectory() + "ddp-timeline-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let config = JobIntegrationTests.repository.appendingPathComponent("configs/cnn_cifar10.json").path
        var args = ["train", config, "--out", out, "--ranks", "2", "--timeline", out + "/timeline.json"]
        for s in JobIntegrationTests.shrink["cnn_cifar10"]! + ["training.max_steps=2"] { args += ["--set", s] }
        let r = try ddp(args)
        XCTAssertEqual(r.exitCode, 0, r.stderr)
        let trace = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/timeline.json"))) as? [String: Any]
        let events = (trace?["traceEvents"] as? [[String: Any]] ?? []).filter { $0["ph"] as? String == "X" }
        func count(_ name: String, pid: Int) -> Int { events.filter { $0["name"] as? String == name && $0["pid"] as? Int == pid }.count }
        for pid in [0, 1] {
            XCTAssertEqual(count("step", pid: pid), 2, "rank \(pid)")
            XCTAssertEqual(count("evaluation", pid: pid), 1, "rank \(pid)")
            XCTAssertGreaterThan(count("allreduce bucket 0", pid: pid), 0, "rank \(pid)")
        }
        XCTAssertEqual(count("checkpoint", pid: 0), 1, "rank 0 writes the checkpoint")
    }
}
