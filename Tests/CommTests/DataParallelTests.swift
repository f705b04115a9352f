import Autograd
import Comm
import Optim
import SharedMemorySync
import TensorCore
import XCTest

/// Bucket layout: a small first bucket, `bucketBytes` buckets, and a last bucket no larger than
/// the first (its reduction cannot hide behind backward).
final class BucketLayoutTests: XCTestCase {
    func testFirstAndLastBucketsAreSmall() {
        let sizes = [10, 1000, 200, 50, 20]
        let flat = FlatParameters(sizes.map { Variable(Tensor(zeros: [$0]), requiresGrad: true) })
        let group = InProcessGroup(size: 1)
        let comm = group.communicators[0]
        let parallel = DataParallel(flat, comm: comm, firstBucketBytes: 4 * 100, bucketBytes: 4 * 10_000)
        XCTAssertEqual(parallel.buckets, [0..<1010, 1010..<1210, 1210..<1280])
        let one = DataParallel(FlatParameters([Variable(Tensor(zeros: [3]), requiresGrad: true)]), comm: comm)
        XCTAssertEqual(one.buckets, [0..<3])
        withExtendedLifetime(group) {}
    }
}

/// The sharded update: each rank updates its chunks in one node-wide copy of the optimizer
/// state; parameters and that state must equal every rank updating everything.
final class ShardedUpdateTests: XCTestCase {
    private func train(sharded: Bool) throws -> (values: [[Float]], m: [Float], v: [Float]) {
        let group = InProcessGroup(size: 3)
        let values = LockedArrays(count: 3), state = LockedArrays(count: 2)
        try group.run { rank, comm in
            let w = Variable(Tensor([0.5, -1, 2, 0.25, 1, -0.5], shape: [3, 2]), requiresGrad: true, name: "w")
            let frozen = Variable(Tensor([1, 2, 3], shape: [3]), requiresGrad: false, name: "frozen")
            let b = Variable(Tensor([0.1, 0.2], shape: [2]), requiresGrad: true, name: "b")
            let flat = FlatParameters([w, frozen, b])
            let adam = Adam(flat, learningRate: 0.01)
            let parallel = DataParallel(flat, comm: comm, firstBucketBytes: 8, bucketBytes: 8, sharedMemory: sharded,
                                        optimizer: sharded ? adam : nil)
            XCTAssertEqual(parallel.shardsUpdate, sharded)
            for step in 0..<3 {
                flat.discardGradients()
                let x = Variable(Tensor((0..<6).map { Float($0 + 3 * rank + step) }, shape: [2, 3]))
                parallel.backward(((x.matmul(w) + b) * (x.matmul(w) + b)).sum())
                parallel.update(adam, learningRate: 0.01)
            }
            values.set(rank, Array(flat.valueBuffer))
            if rank == 0 {
                state.set(0, Array(adam.stateBuffer(named: "m")!.buffer))
                state.set(1, Array(adam.stateBuffer(named: "v")!.buffer))
            }
        }
        return (values.all, state.all[0], state.all[1])
    }

    func testShardedUpdateEqualsEveryRankUpdatingEverything() throws {
        let sharded = try train(sharded: true), replicated = try train(sharded: false)
        for r in 0..<3 { XCTAssertEqual(sharded.values[r], replicated.values[0], "rank \(r)") }
        XCTAssertEqual(sharded.m, replicated.m)
        XCTAssertEqual(sharded.v, replicated.v)
        XCTAssertEqual(Array(sharded.values[0][6..<9]), [1, 2, 3], "frozen parameters stay untouched")
    }
}

/// The two-rank average of shared-memory averaging (C, AVX-512 where present) against its formula
/// in Swift, bit for bit: both ranks' arenas must hold the same bits as MPI's average would give.
final class PairAverageTests: XCTestCase {
    func testSameBitsAsTheFormula() {
        let n = 16 * 9 + 5
        var a = (0..<n).map { Float(sin(Double($0) * 0.7)) * 3 }, b = (0..<n).map { Float(cos(Double($0) * 1.3)) * 1e-3 }
        let expected = zip(a, b).map { ($0 + $1) * 0.5 }
        ddp_average_pair(&a, &b, n, 0.5)
        XCTAssertEqual(a.map(\.bitPattern), expected.map(\.bitPattern))
        XCTAssertEqual(b.map(\.bitPattern), expected.map(\.bitPattern))
    }
}
