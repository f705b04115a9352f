import Comm
import Scenarios
import TestSupport
import Training
import XCTest

/// N in-process ranks × per-rank batch b must train like one rank × batch N·b, keep every
/// replica bit-identical, and be reproducible bit for bit.
final class DataParallelEquivalenceTests: XCTestCase {
    /// Runs `scenario` on `ranks` in-process ranks and returns each rank's final parameters.
    static func runInProcess(_ scenario: Scenario, ranks: Int, perRankBatch: Int, steps: Int,
                             perRankSeeds: Bool = false, accumulation: Int = 1, overlap: Bool = true,
                             syncBatchNorm: Bool = true, sharedMemory: Bool = true,
                             shardedUpdate: Bool = true) throws -> [[Float]] {
        let group = InProcessGroup(size: ranks)
        let results = Collected<[Float]>(count: ranks)
        try group.run { rank, comm in
            results.set(rank, try scenario.run(comm: comm, perRankBatch: perRankBatch, steps: steps, perRankSeeds: perRankSeeds,
                                               gradientAccumulation: accumulation, overlap: overlap, syncBatchNorm: syncBatchNorm,
                                               sharedMemory: sharedMemory, shardedUpdate: shardedUpdate))
        }
        return (0..<ranks).map { results.get($0) }
    }

    func testRanksTimesBatchEqualsOneRankWithTheWholeBatch() throws {
        for scenario in Scenario.allCases {
            let single = try Self.runInProcess(scenario, ranks: 1, perRankBatch: 6, steps: 4)[0]
            for ranks in [2, 3] {
                let parallel = try Self.runInProcess(scenario, ranks: ranks, perRankBatch: 6 / ranks, steps: 4)
                let diff = maxRelativeDifference(parallel[0], single)
                XCTAssertLessThanOrEqual(diff, 1e-5, "\(scenario): \(ranks) ranks vs 1 rank, max relative difference \(diff)")
                for r in 1..<ranks { XCTAssertEqual(parallel[r], parallel[0], "\(scenario): rank \(r) differs from rank 0") }
            }
        }
    }

    func testSameSeedSameBitsAndOverlapDoesNotChangeTheResult() throws {
        for scenario in Scenario.allCases {
            let a = try Self.runInProcess(scenario, ranks: 2, perRankBatch: 3, steps: 3)
            let b = try Self.runInProcess(scenario, ranks: 2, perRankBatch: 3, steps: 3)
            let c = try Self.runInProcess(scenario, ranks: 2, perRankBatch: 3, steps: 3, overlap: false)
            XCTAssertEqual(a[0], b[0], "\(scenario): two runs differ")
            XCTAssertEqual(a[0], c[0], "\(scenario): overlapped and sequential reduction differ")
        }
    }

    /// The shared-memory bucket averaging and the communicator's allreduce give the same bits,
    /// with buckets overlapped with backward or reduced after it.
    func testSharedMemoryAveragingEqualsTheCollectiveBitForBit() throws {
        for scenario in Scenario.allCases {
            for overlap in [true, false] {
                let shared = try Self.runInProcess(scenario, ranks: 3, perRankBatch: 2, steps: 3, overlap: overlap)
                let collective = try Self.runInProcess(scenario, ranks: 3, perRankBatch: 2, steps: 3, overlap: overlap, sharedMemory: false)
                XCTAssertEqual(shared[0], collective[0], "\(scenario), overlap \(overlap): shared memory and allreduce differ")
                XCTAssertEqual(shared[2], shared[0], "\(scenario): rank 2 differs from rank 0")
                if overlap {
                    // Shared-memory averaging with every rank running the whole update (the default).
                    let whole = try Self.runInProcess(scenario, ranks: 3, perRankBatch: 2, steps: 3, shardedUpdate: false)
                    XCTAssertEqual(whole[0], collective[0], "\(scenario): shared memory without sharding and allreduce differ")
                    XCTAssertEqual(whole[2], whole[0], "\(scenario): unsharded rank 2 differs from rank 0")
                }
            }
        }
        // Batch norm without sync: each rank's moving statistics stay its own until rank 0's are
        // broadcast; the sharded update must not mix them.
        let shared = try Self.runInProcess(.resnet, ranks: 2, perRankBatch: 3, steps: 3, syncBatchNorm: false)
        let collective = try Self.runInProcess(.resnet, ranks: 2, perRankBatch: 3, steps: 3, syncBatchNorm: false, sharedMemory: false)
        XCTAssertTrue(shared[0] == collective[0], "resnet without sync batch norm: shared memory and allreduce differ")
    }

    func testDifferentInitialSeedsAreMadeIdenticalByTheBroadcast() throws {
        for scenario in Scenario.allCases {
            let same = try Self.runInProcess(scenario, ranks: 3, perRankBatch: 2, steps: 2)
            let different = try Self.runInProcess(scenario, ranks: 3, perRankBatch: 2, steps: 2, perRankSeeds: true)
            for r in 0..<3 { XCTAssertEqual(different[r], same[0], "\(scenario): rank \(r) not synchronised by the broadcast") }
        }
    }

    /// Without SyncBatchNorm each rank normalises with its own batch's statistics (so the run no
    /// longer equals one rank × the whole batch), yet the replicas, moving statistics included,
    /// stay identical: rank 0's are broadcast after every step.
    func testBatchNormWithoutSyncUsesLocalStatisticsAndKeepsReplicasIdentical() throws {
        let synced = try Self.runInProcess(.resnet, ranks: 2, perRankBatch: 3, steps: 3)
        let local = try Self.runInProcess(.resnet, ranks: 2, perRankBatch: 3, steps: 3, syncBatchNorm: false)
        XCTAssertEqual(local[1], local[0], "replicas differ without SyncBatchNorm")
        XCTAssertGreaterThan(maxRelativeDifference(local[0], synced[0]), 1e-3, "local and synchronised statistics gave the same run")
        let oneRank = try Self.runInProcess(.resnet, ranks: 1, perRankBatch: 6, steps: 3, syncBatchNorm: false)
        XCTAssertLessThanOrEqual(maxRelativeDifference(synced[0], oneRank[0]), 1e-5)
    }

    func testGradientAccumulationMatchesOneLargeBatch() throws {
        for scenario in [Scenario.cnn, .transformer] {
            let whole = try Self.runInProcess(scenario, ranks: 2, perRankBatch: 4, steps: 3)
            let accumulated = try Self.runInProcess(scenario, ranks: 2, perRankBatch: 4, steps: 3, accumulation: 2)
            let diff = maxRelativeDifference(accumulated[0], whole[0])
            XCTAssertLessThanOrEqual(diff, 1e-5, "\(scenario): 2 micro-batches vs one batch, max relative difference \(diff)")
            XCTAssertEqual(accumulated[0], accumulated[1])
        }
    }
}

/// One value per rank, written from rank threads.
final class Collected<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [T?]
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ v: T) { lock.lock(); values[i] = v; lock.unlock() }
    func get(_ i: Int) -> T { lock.lock(); defer { lock.unlock() }; return values[i]! }
}
