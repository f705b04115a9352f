import Datasets
import TensorCore
import XCTest

final class DistributedSamplerTests: XCTestCase {
    private func samplers(_ n: Int, _ replicas: Int, shuffle: Bool = true, seed: UInt64 = 42, dropLast: Bool = false) -> [DistributedSampler] {
        (0..<replicas).map { DistributedSampler(datasetCount: n, replicas: replicas, rank: $0, shuffle: shuffle, seed: seed, dropLast: dropLast) }
    }

    /// Values torch.utils.data.DistributedSampler(range(10), num_replicas=3, shuffle=False) gives.
    func testUnshuffledShardsMatchPyTorch() {
        XCTAssertEqual(samplers(10, 3, shuffle: false).map { $0.indices(epoch: 0) }, [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]])
        XCTAssertEqual(samplers(10, 3, shuffle: false, dropLast: true).map { $0.indices(epoch: 0) }, [[0, 3, 6], [1, 4, 7], [2, 5, 8]])
        // Padding longer than the data: the list repeats as often as needed.
        XCTAssertEqual(samplers(2, 5, shuffle: false).map { $0.indices(epoch: 0) }, [[0], [1], [0], [1], [0]])
    }

    func testCountsFollowPyTorchFormulas() {
        for n in [0, 1, 2, 7, 10, 11, 60_000, 60_001] {
            for replicas in 1...8 {
                let padded = Int((Double(n) / Double(replicas)).rounded(.up))
                let dropped = n % replicas != 0 ? Int((Double(n - replicas) / Double(replicas)).rounded(.up)) : n / replicas
                XCTAssertEqual(DistributedSampler.countPerRank(datasetCount: n, replicas: replicas, dropLast: false), padded, "n \(n) N \(replicas)")
                XCTAssertEqual(DistributedSampler.countPerRank(datasetCount: n, replicas: replicas, dropLast: true), max(dropped, 0), "n \(n) N \(replicas)")
                if n <= 11 {
                    for s in samplers(n, replicas) { XCTAssertEqual(s.indices(epoch: 3).count, padded) }
                    for s in samplers(n, replicas, dropLast: true) { XCTAssertEqual(s.indices(epoch: 3).count, s.countPerRank) }
                }
            }
        }
    }

    func testShardsAreDisjointAndCover() {
        for (n, replicas) in [(1000, 4), (1003, 4), (17, 3)] {
            let dropped = samplers(n, replicas, dropLast: true).map { $0.indices(epoch: 1) }
            let all = dropped.flatMap { $0 }
            XCTAssertEqual(Set(all).count, all.count, "drop-last shards overlap")
            XCTAssertEqual(all.count, n / replicas * replicas)
            let padded = samplers(n, replicas).map { $0.indices(epoch: 1) }
            XCTAssertEqual(Set(padded.flatMap { $0 }), Set(0..<n), "padded shards cover every index")
            XCTAssertEqual(padded.flatMap { $0 }.count, (n + replicas - 1) / replicas * replicas)
        }
    }

    func testSamePermutationOnAllRanksDifferentAcrossEpochs() {
        let ranks = samplers(500, 4, seed: 7)
        for epoch in 0..<3 {
            let p = ranks[0].permutation(epoch: epoch)
            XCTAssertEqual(p.sorted(), Array(0..<500))
            for s in ranks { XCTAssertEqual(s.permutation(epoch: epoch), p) }
            // Rank r holds positions r, r + N, … of the epoch's list.
            for s in ranks { XCTAssertEqual(s.indices(epoch: epoch), stride(from: s.rank, to: 500, by: 4).map { p[$0] }) }
        }
        XCTAssertNotEqual(ranks[0].permutation(epoch: 0), ranks[0].permutation(epoch: 1))
        XCTAssertNotEqual(ranks[0].permutation(epoch: 0), samplers(500, 4, seed: 8)[0].permutation(epoch: 0))
        XCTAssertNotEqual(ranks[0].permutation(epoch: 0), Array(0..<500))
    }

    func testDeterministic() {
        let a = DistributedSampler(datasetCount: 1000, replicas: 3, rank: 2, seed: 5)
        let b = DistributedSampler(datasetCount: 1000, replicas: 3, rank: 2, seed: 5)
        XCTAssertEqual(a.indices(epoch: 4), b.indices(epoch: 4))
        XCTAssertEqual(Array(a.batches(epoch: 4, batchSize: 64)), Array(b.batches(epoch: 4, batchSize: 64)))
    }

    func testBatches() {
        let s = DistributedSampler(datasetCount: 100, replicas: 2, rank: 1, shuffle: false)
        let batches = s.batches(epoch: 0, batchSize: 16)
        XCTAssertEqual(batches.count, 4)
        XCTAssertEqual(batches.map(\.count), [16, 16, 16, 2])
        XCTAssertEqual(Array(batches[0].prefix(3)), [1, 3, 5])
        XCTAssertEqual(batches.flatMap { $0 }, s.indices(epoch: 0))
        let full = s.batches(epoch: 0, batchSize: 16, dropLastBatch: true)
        XCTAssertEqual(full.map(\.count), [16, 16, 16])
        XCTAssertEqual(s.batchCount(batchSize: 50), 1)
        XCTAssertEqual(s.batchCount(batchSize: 51, dropLastBatch: true), 0)
    }

    func testRankStreamsDifferByRankPurposeAndStep() {
        var seen = Set<[UInt64]>()
        for rank in 0..<4 {
            for purpose in [StreamPurpose.dropout, .noise, .augmentation, .sampling] {
                for step in [nil, 0, 1] as [Int?] {
                    var g = RandomGenerator(seed: 1, rank: rank, purpose: purpose, step: step)
                    XCTAssertTrue(seen.insert([g.next(), g.next()]).inserted)
                }
            }
        }
        XCTAssertEqual(RandomGenerator(seed: 1, rank: 2, purpose: .dropout), RandomGenerator(seed: 1, rank: 2, purpose: .dropout))
    }
}
