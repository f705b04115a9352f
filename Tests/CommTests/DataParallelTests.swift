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

/// The sharded update: each rank averages and updates its chunks, in one node-wide copy of the
/// optimizer state (and of the values when every parameter is trainable); parameters and that
/// state must equal every rank updating everything, also with clipping by global norm (which
/// needs every average) and across a step whose gradients are not finite (every rank must name
/// the same parameter and skip the update).
final class ShardedUpdateTests: XCTestCase {
    private struct Outcome {
        var values: [[Float]]
        var m: [Float]
        var v: [Float]
        /// Each rank's non-finite reports, one per step (the count of non-finite values, 0 when finite).
        var reports: [[Float]]
        /// Each rank's steps, 1 where backward averaged no bucket (the update averages them).
        var averagedInUpdate: [[Float]]
    }

    /// Four steps of a tiny model on `ranks` in-process ranks. At `poisonStep` rank 1's input
    /// is scaled so that its gradient overflows; at `hugeStep` so that it is finite but beyond
    /// `BLAS.checkedBound` (the last step: Adam's second moment then overflows).
    private func train(ranks: Int = 3, sharded: Bool, frozen: Bool, clip: Float? = nil, poisonStep: Int? = nil,
                       hugeStep: Int? = nil) throws -> Outcome {
        let group = InProcessGroup(size: ranks)
        let values = LockedArrays(count: ranks), state = LockedArrays(count: 2), reports = LockedArrays(count: ranks)
        let inUpdate = LockedArrays(count: ranks)
        try group.run { rank, comm in
            let w = Variable(Tensor([0.5, -1, 2, 0.25, 1, -0.5], shape: [3, 2]), requiresGrad: true, name: "w")
            let ice = Variable(Tensor([1, 2, 3], shape: [3]), requiresGrad: !frozen, name: "frozen")
            let b = Variable(Tensor([0.1, 0.2], shape: [2]), requiresGrad: true, name: "b")
            let flat = FlatParameters([w, ice, b])
            let adam = Adam(flat, learningRate: 0.01)
            adam.globalClipNorm = clip
            let parallel = DataParallel(flat, comm: comm, firstBucketBytes: 8, bucketBytes: 8, sharedMemory: sharded,
                                        optimizer: sharded ? adam : nil)
            XCTAssertEqual(parallel.shardsUpdate, sharded)
            XCTAssertEqual(parallel.averagesInUpdate, sharded)
            XCTAssertEqual(flat.valuesSharedAcrossRanks, sharded && !frozen)
            var seen: [Float] = [], averagedInUpdate: [Float] = []
            for step in 0..<4 {
                flat.discardGradients()
                let scale: Float = rank != 1 ? 1 : step == poisonStep ? 1e30 : step == hugeStep ? 3e15 : 1
                let x = Variable(Tensor((0..<6).map { Float($0 + 3 * rank + step) * scale }, shape: [2, 3]))
                let y = x.matmul(w) + b
                parallel.backward((y * y).sum() + (ice * ice).sum())
                averagedInUpdate.append(parallel.lastStats.bucketIntervals.isEmpty ? 1 : 0)
                if let bad = parallel.nonFiniteGradient(prefix: "net/") {
                    XCTAssertEqual(bad.parameter, "net/w", "rank \(rank)")
                    seen.append(Float(bad.count))
                    continue
                }
                seen.append(0)
                parallel.update(adam, learningRate: 0.01)
            }
            values.set(rank, Array(flat.valueBuffer))
            reports.set(rank, seen)
            inUpdate.set(rank, averagedInUpdate)
            if rank == 0 {
                state.set(0, Array(adam.stateBuffer(named: "m")!.buffer))
                state.set(1, Array(adam.stateBuffer(named: "v")!.buffer))
            }
        }
        return Outcome(values: values.all, m: state.all[0], v: state.all[1], reports: reports.all, averagedInUpdate: inUpdate.all)
    }

    private func assertSame(_ sharded: Outcome, _ replicated: Outcome, _ what: String) {
        for r in sharded.values.indices {
            XCTAssertEqual(sharded.values[r], replicated.values[0], "\(what): rank \(r)")
            XCTAssertEqual(sharded.reports[r], replicated.reports[0], "\(what): rank \(r)'s non-finite reports")
        }
        XCTAssertEqual(sharded.m, replicated.m, what)
        XCTAssertEqual(sharded.v, replicated.v, what)
    }

    /// With Adam the update averages in its pass (two ranks, and three in rank order); the
    /// bits are those of every rank averaging and updating everything.
    func testShardedUpdateEqualsEveryRankUpdatingEverything() throws {
        for ranks in [2, 3] {
            for frozen in [true, false] {
                let sharded = try train(ranks: ranks, sharded: true, frozen: frozen)
                let replicated = try train(ranks: ranks, sharded: false, frozen: frozen)
                assertSame(sharded, replicated, "\(ranks) ranks, " + (frozen ? "private values" : "shared values"))
                XCTAssertEqual(sharded.averagedInUpdate, Array(repeating: [1, 1, 1, 1], count: ranks), "backward averaged")
                if frozen { XCTAssertEqual(Array(sharded.values[0][6..<9]), [1, 2, 3], "frozen parameters stay untouched") }
            }
        }
    }

    /// Clipping needs every average first: those steps average during backward.
    func testClippingByGlobalNormSeesEveryAverage() throws {
        for frozen in [true, false] {
            let sharded = try train(sharded: true, frozen: frozen, clip: 1), replicated = try train(sharded: false, frozen: frozen, clip: 1)
            assertSame(sharded, replicated, "clipped")
            XCTAssertEqual(sharded.averagedInUpdate, Array(repeating: [0, 0, 0, 0], count: 3), "clipped steps averaged in the update")
            XCTAssertNotEqual(sharded.values[0], try train(sharded: true, frozen: frozen).values[0], "the clip changed nothing")
        }
    }

    func testEveryRankNamesANonFiniteAverageAndSkipsTheUpdate() throws {
        for ranks in [2, 3] {
            for frozen in [true, false] {
                let sharded = try train(ranks: ranks, sharded: true, frozen: frozen, poisonStep: 2)
                let replicated = try train(ranks: ranks, sharded: false, frozen: frozen, poisonStep: 2)
                XCTAssertEqual(sharded.reports[0].map { $0 > 0 }, [false, false, true, false])
                assertSame(sharded, replicated, "\(ranks) ranks, poisoned")
            }
        }
    }

    /// Every rank's gradient finite, their sum not: only averaging first sees it, as the
    /// all-ranks average does, and every rank names it and skips the update.
    func testFiniteGradientsWhoseSumOverflowsAreNamed() throws {
        for sharded in [true, false] {
            let group = InProcessGroup(size: 2)
            let reports = LockedArrays(count: 2)
            try group.run { rank, comm in
                let w = Variable(Tensor(repeating: 0.5, shape: [20]), requiresGrad: true, name: "w")
                let flat = FlatParameters([w])
                let adam = Adam(flat, learningRate: 0.01)
                let parallel = DataParallel(flat, comm: comm, sharedMemory: sharded, optimizer: sharded ? adam : nil)
                var c = [Float](repeating: 1, count: 20)
                c[3] = 2e38
                flat.discardGradients()
                parallel.backward((w * Variable(Tensor(c, shape: [20]))).sum())
                let bad = parallel.nonFiniteGradient()
                if bad == nil { parallel.update(adam, learningRate: 0.01) }
                reports.set(rank, [Float(bad?.count ?? 0), bad?.example ?? 0] + Array(flat.valueBuffer))
            }
            for r in 0..<2 {
                XCTAssertEqual(Array(reports.all[r][0..<2]), [1, .infinity], "sharded \(sharded), rank \(r)")
                XCTAssertEqual(Array(reports.all[r][2...]), Array(repeating: 0.5, count: 20), "sharded \(sharded): updated")
            }
        }
    }

    /// A finite gradient beyond the bound that makes averages certainly finite: every rank
    /// averages first, finds the averages finite, and updates as without sharding.
    func testAGradientBeyondTheBoundIsAveragedFirstAndApplied() throws {
        for ranks in [2, 3] {
            let sharded = try train(ranks: ranks, sharded: true, frozen: false, hugeStep: 3)
            let replicated = try train(ranks: ranks, sharded: false, frozen: false, hugeStep: 3)
            XCTAssertEqual(sharded.reports[0], [0, 0, 0, 0], "a finite gradient was reported")
            assertSame(sharded, replicated, "\(ranks) ranks, huge gradient")
            XCTAssertNotEqual(sharded.values[0], try train(ranks: ranks, sharded: true, frozen: false).values[0], "the huge step changed nothing")
        }
    }
}

/// The two-rank average of shared-memory averaging (C, AVX-512 where present) against its formula
/// in Swift, bit for bit: both ranks' arenas must hold the same bits as MPI's average would give.
final class PairAverageTests: XCTestCase {
    func testSameBitsAsTheFormula() {
        let n = 16 * 9 + 5
        var a = (0..<n).map { Float(sin(Double($0) * 0.7)) * 3 }, b = (0..<n).map { Float(cos(Double($0) * 1.3)) * 1e-3 }
        let expected = zip(a, b).map { ($0 + $1) * 0.5 }
        XCTAssertEqual(ddp_average_pair(&a, &b, n, 0.5, 1, 1), 1)
        XCTAssertEqual(a.map(\.bitPattern), expected.map(\.bitPattern))
        XCTAssertEqual(b.map(\.bitPattern), expected.map(\.bitPattern))
    }

    /// A reduce-scatter stores the average into one side only, and a non-finite average is
    /// reported wherever it is: in a vector lane or the scalar tail, from a NaN, an infinity, or
    /// two finite values whose sum overflows.
    func testStoresIntoOneSideAndReportsNonFiniteAverages() {
        let n = 16 * 3 + 7
        let a0 = (0..<n).map { Float($0) }, b0 = (0..<n).map { Float(2 * $0) }
        var a = a0, b = b0
        XCTAssertEqual(ddp_average_pair(&a, &b, n, 0.5, 0, 1), 1)
        XCTAssertEqual(a, a0, "a was written")
        XCTAssertEqual(b, zip(a0, b0).map { ($0 + $1) * 0.5 })
        for (i, bad) in [(5, Float.nan), (20, .infinity), (n - 2, -.infinity), (33, .greatestFiniteMagnitude)] {
            var a = a0, b = b0
            a[i] = bad
            if bad.isFinite { b[i] = bad }
            XCTAssertEqual(ddp_average_pair(&a, &b, n, 0.5, 1, 0), 0, "\(bad) at \(i)")
        }
    }
}
