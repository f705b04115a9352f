import Autograd
import Comm
import TensorCore
import XCTest

final class InProcessCommunicatorTests: XCTestCase {
    func testAllreduceSumsInRankOrderOnEveryRank() throws {
        for n in [1, 2, 3, 4] {
            let group = InProcessGroup(size: n)
            let results = ResultBox<[Float]>(count: n)
            try group.run { rank, comm in
                // 7 elements over n ranks exercises uneven chunks.
                var v = (0..<7).map { Float(rank * 10 + $0) + 0.1 }
                v.withUnsafeMutableBufferPointer { comm.allreduceSum($0) }
                results.set(rank, v)
            }
            var expected = [Float](repeating: 0, count: 7)
            for i in 0..<7 {
                for r in 0..<n {
                    let v = Float(r * 10 + i) + 0.1
                    expected[i] += v
                }
            }
            for r in 0..<n { XCTAssertEqual(results.get(r), expected, "n=\(n) rank \(r)") }
        }
    }

    func testEachRankAllocatesFromItsOwnBufferPool() throws {
        let group = InProcessGroup(size: 2)
        let pools = ResultBox<BufferPool>(count: 2)
        let escaped = ResultBox<Tensor>(count: 2)
        try group.run { rank, comm in
            let pool = BufferPool.current
            pools.set(rank, pool)
            // The same request twice: the second is served from this rank's free list.
            for _ in 0..<2 { _ = Tensor(uninitialized: [64]) }
            XCTAssertEqual(pool.allocationCount, 1, "rank \(rank)")
            comm.barrier()
            escaped.set(rank, Tensor(uninitialized: [100 + rank]))
        }
        let (p0, p1) = (pools.get(0), pools.get(1))
        XCTAssertFalse(p0 === p1)
        XCTAssertFalse(p0 === BufferPool.shared || p1 === BufferPool.shared)
        // A tensor released on another thread goes back to the pool it came from.
        let cached = p1.bytesCached
        escaped.set(1, Tensor(zeros: [1]))
        XCTAssertEqual(p1.bytesCached, cached + 101 * 4)
        XCTAssertEqual(p0.bytesInUse, 100 * 4)
    }

    func testBroadcastAllgatherAndMetricsSum() throws {
        let group = InProcessGroup(size: 3)
        let results = ResultBox<([Float], [[Double]], [Double])>(count: 3)
        try group.run { rank, comm in
            var v = [Float](repeating: Float(rank), count: 5)
            v.withUnsafeMutableBufferPointer { comm.broadcast($0, root: 1) }
            let g = comm.allgather([Double(rank), 1])
            let s = comm.allreduceSum([Double(rank), 2])
            comm.barrier()
            results.set(rank, (v, g, s))
        }
        for r in 0..<3 {
            let (v, g, s) = results.get(r)
            XCTAssertEqual(v, [1, 1, 1, 1, 1])
            XCTAssertEqual(g, [[0, 1], [1, 1], [2, 1]])
            XCTAssertEqual(s, [3, 6])
        }
    }

    func testFailingRankDoesNotHangTheOthers() {
        let group = InProcessGroup(size: 3)
        struct Boom: Error {}
        XCTAssertThrowsError(try group.run { rank, comm in
            if rank == 2 { throw Boom() }
            comm.barrier()
            comm.barrier()
        })
    }

    /// A rank that fails before handing over its gradients: the others, waiting for its bucket
    /// flags in shared memory, end instead of waiting forever (reduced on the reducer thread or
    /// after backward).
    func testFailingRankDoesNotHangSharedMemoryAveraging() {
        for overlap in [true, false] {
            let group = InProcessGroup(size: 2)
            struct Boom: Error {}
            XCTAssertThrowsError(try group.run { rank, comm in
                let w = Variable(Tensor([1, 2], shape: [2]), requiresGrad: true)
                let flat = FlatParameters([w])
                let parallel = DataParallel(flat, comm: comm, overlap: overlap)
                XCTAssertEqual(parallel.allreduceMethod, "shared memory")
                if rank == 1 { throw Boom() }
                parallel.backward((w * w).sum())
            }, "overlap \(overlap)")
        }
    }

    func testChunksCoverTheBufferInOrder() {
        for count in [0, 1, 5, 10, 11] {
            for n in 1...4 {
                let chunks = (0..<n).map { chunkRange(count, rank: $0, of: n) }
                XCTAssertEqual(chunks.first?.lowerBound, 0)
                XCTAssertEqual(chunks.last?.upperBound, count)
                for i in 1..<n { XCTAssertEqual(chunks[i - 1].upperBound, chunks[i].lowerBound) }
            }
        }
    }
}

/// Collects one value per rank from rank threads.
final class ResultBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [T?]
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ v: T) { lock.lock(); values[i] = v; lock.unlock() }
    func get(_ i: Int) -> T { lock.lock(); defer { lock.unlock() }; return values[i]! }
}
