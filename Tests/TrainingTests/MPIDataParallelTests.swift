import Comm
import Foundation
import Scenarios
import TestSupport
import XCTest

/// Data parallelism under real `mpirun` with 2 and 3 ranks (3 oversubscribes the 2 cores):
/// replicas end bit-identical, match the in-process mode with the same N bit for bit, and
/// match one rank with the whole batch.
final class MPIDataParallelTests: XCTestCase {
    /// The final parameters of every rank; `method` receives how gradients were averaged.
    func runWorker(_ scenario: Scenario, ranks: Int, perRankBatch: Int, steps: Int, extra: [String] = [],
                   environment: [String: String] = [:], method: ((String) -> Void)? = nil) throws -> [[Float]] {
        try XCTSkipUnless(MPIRun.isAvailable, "mpirun not installed (apt-get install openmpi-bin)")
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("params-\(UUID().uuidString)").path
        let result = try MPIRun.run(ranks: ranks, executable: "MPIWorker",
                                    arguments: [scenario.rawValue, "\(perRankBatch)", "\(steps)", out] + extra,
                                    oversubscribe: ranks > 2, environment: environment)
        XCTAssertFalse(result.timedOut, "mpirun timed out\n\(result.stderr)")
        XCTAssertEqual(result.exitCode, 0, "mpirun failed:\n\(result.stdout)\n\(result.stderr)")
        let announced = result.stdout.split(separator: "\n").first { $0.hasPrefix("allreduce: ") }
        method?(announced.map { String($0.dropFirst("allreduce: ".count)) } ?? "")
        return try (0..<ranks).map { r in
            let path = "\(out).rank\(r)"
            defer { try? FileManager.default.removeItem(atPath: path) }
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        }
    }

    func testMPIRanksMatchOneRankAndTheInProcessMode() throws {
        for scenario in Scenario.allCases {
            let single = try DataParallelEquivalenceTests.runInProcess(scenario, ranks: 1, perRankBatch: 6, steps: 4)[0]
            for ranks in [2, 3] {
                let mpi = try runWorker(scenario, ranks: ranks, perRankBatch: 6 / ranks, steps: 4)
                for r in 1..<ranks { XCTAssertEqual(mpi[r], mpi[0], "\(scenario): mpirun rank \(r) differs from rank 0") }
                let inProcess = try DataParallelEquivalenceTests.runInProcess(scenario, ranks: ranks, perRankBatch: 6 / ranks, steps: 4)
                XCTAssertEqual(mpi[0], inProcess[0], "\(scenario): mpirun -np \(ranks) and \(ranks) in-process ranks differ")
                let diff = maxRelativeDifference(mpi[0], single)
                XCTAssertLessThanOrEqual(diff, 1e-5, "\(scenario): mpirun -np \(ranks) vs 1 rank, max relative difference \(diff)")
            }
        }
    }

    func testMPIBroadcastSynchronisesRanksStartingFromDifferentSeeds() throws {
        let mpi = try runWorker(.cnn, ranks: 2, perRankBatch: 3, steps: 2, extra: ["--per-rank-seeds"])
        let reference = try DataParallelEquivalenceTests.runInProcess(.cnn, ranks: 2, perRankBatch: 3, steps: 2)
        XCTAssertEqual(mpi[0], reference[0])
        XCTAssertEqual(mpi[1], reference[0])
    }

    /// With two ranks Open MPI's own allreduce is used; it must give the bits of the
    /// rank-ordered reduce-scatter + allgather scheme.
    func testTwoRankNativeAllreduceMatchesTheOrderedScheme() throws {
        for scenario in Scenario.allCases {
            let native = try runWorker(scenario, ranks: 2, perRankBatch: 3, steps: 3, extra: ["--no-shared-memory"])
            let ordered = try runWorker(scenario, ranks: 2, perRankBatch: 3, steps: 3, extra: ["--no-shared-memory"],
                                        environment: ["DDP_ALLREDUCE": "ordered"])
            XCTAssertEqual(native[0], ordered[0], "\(scenario): native and ordered allreduce differ")
        }
    }

    /// Ranks of one node average in shared memory by default; MPI's allreduce gives the same bits.
    func testSharedMemoryAveragingMatchesMPIAllreduce() throws {
        for ranks in [2, 3] {
            for scenario in Scenario.allCases {
                var shared = "", collective = ""
                let a = try runWorker(scenario, ranks: ranks, perRankBatch: 2, steps: 3) { shared = $0 }
                let b = try runWorker(scenario, ranks: ranks, perRankBatch: 2, steps: 3, extra: ["--no-shared-memory"]) { collective = $0 }
                XCTAssertEqual(shared, "shared memory")
                XCTAssertEqual(collective, "mpi")
                XCTAssertEqual(a[0], b[0], "\(scenario), \(ranks) ranks: shared-memory and MPI averaging differ")
                for r in 1..<ranks { XCTAssertEqual(a[r], a[0], "\(scenario): rank \(r) differs from rank 0") }
            }
        }
    }
}
