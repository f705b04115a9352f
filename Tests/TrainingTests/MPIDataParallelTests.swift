import Comm
import Foundation
import Scenarios
import TestSupport
import XCTest

/// Data parallelism under real `mpirun` with 2 and 3 ranks (3 oversubscribes the 2 cores):
/// replicas end bit-identical, match the in-process mode with the same N bit for bit, and
/// match one rank with the whole batch.
final class MPIDataParallelTests: XCTestCase {
    func runWorker(_ scenario: Scenario, ranks: Int, perRankBatch: Int, steps: Int, extra: [String] = [],
                   environment: [String: String] = [:]) throws -> [[Float]] {
        try XCTSkipUnless(MPIRun.isAvailable, "mpirun not installed (apt-get install openmpi-bin)")
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("params-\(UUID().uuidString)").path
        let result = try MPIRun.run(ranks: ranks, executable: "MPIWorker",
                                    arguments: [scenario.rawValue, "\(perRankBatch)", "\(steps)", out] + extra,
                                    oversubscribe: ranks > 2, environment: environment)
        XCTAssertFalse(result.timedOut, "mpirun timed out\n\(result.stderr)")
        XCTAssertEqual(result.exitCode, 0, "mpirun failed:\n\(result.stdout)\n\(result.stderr)")
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
            let native = try runWorker(scenario, ranks: 2, perRankBatch: 3, steps: 3)
            let ordered = try runWorker(scenario, ranks: 2, perRankBatch: 3, steps: 3, environment: ["DDP_ALLREDUCE": "ordered"])
            XCTAssertEqual(native[0], ordered[0], "\(scenario): native and ordered allreduce differ")
        }
    }
}
