import Autograd
import Comm
import TensorCore
import XCTest

/// `discardGradients()` leaves last step's values in the gradient arena and lets the next
/// backward overwrite them; after `DataParallel.backward` the arena must hold exactly this
/// step's gradients, also for parameters that took no part in the graph.
final class DiscardedGradientTests: XCTestCase {
    /// y = sum(x · w): dL/dw = column sums of x; `unused` is not in the graph.
    private func run(ranks: Int, overlap: Bool) throws -> [[Float]] {
        let group = InProcessGroup(size: ranks)
        let results = LockedArrays(count: ranks)
        try group.run { rank, comm in
            let w = Variable(Tensor([0.5, -1, 2, 0.25, 1, -0.5], shape: [3, 2]), requiresGrad: true, name: "w")
            let unused = Variable(Tensor([1, 2, 3], shape: [3]), requiresGrad: true, name: "unused")
            let b = Variable(Tensor([0.1, 0.2], shape: [2]), requiresGrad: true, name: "b")
            let flat = FlatParameters([w, unused, b])
            let parallel = DataParallel(flat, comm: comm, firstBucketBytes: 8, bucketBytes: 8, overlap: overlap)
            flat.gradBuffer.update(repeating: 7)
            flat.discardGradients()
            let x = Variable(Tensor((0..<6).map { Float($0 + 3 * rank) }, shape: [2, 3]))
            let loss = (x.matmul(w) + b).sum()
            parallel.backward(loss)
            results.set(rank, Array(flat.gradBuffer))
        }
        return results.all
    }

    func testUntouchedGradientsReadAsZeroAndTouchedOnesAreOverwritten() throws {
        // One rank: x rows (0,1,2) and (3,4,5): dw[i][j] = x[0][i] + x[1][i]; db = 2 per unit.
        let expected: [Float] = [3, 3, 5, 5, 7, 7, 0, 0, 0, 2, 2]
        XCTAssertEqual(try run(ranks: 1, overlap: true)[0], expected)
        // Two ranks average their column sums: rank 1's x is rank 0's + 3.
        let averaged: [Float] = [6, 6, 8, 8, 10, 10, 0, 0, 0, 2, 2]
        for overlap in [true, false] {
            for grads in try run(ranks: 2, overlap: overlap) { XCTAssertEqual(grads, averaged, "overlap \(overlap)") }
        }
    }

    func testZeroedGradAfterDiscardIsZeroAndAccumulatesAfterTheFirstContribution() {
        let v = Variable(Tensor([1, 2], shape: [2]), requiresGrad: true)
        let flat = FlatParameters([v])
        flat.gradBuffer.update(repeating: 5)
        flat.discardGradients()
        XCTAssertEqual(Array(UnsafeBufferPointer(start: v.zeroedGrad().data, count: 2)), [0, 0])
        flat.discardGradients()
        v.accumulateGrad(Tensor([1, 1], shape: [2]))
        v.accumulateGrad(Tensor([2, 3], shape: [2]))
        XCTAssertEqual(Array(flat.gradBuffer), [3, 4])
    }
}

/// Per-rank results written from the in-process ranks' threads.
final class LockedArrays: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [[Float]]
    init(count: Int) { values = Array(repeating: [], count: count) }
    func set(_ i: Int, _ v: [Float]) { lock.lock(); values[i] = v; lock.unlock() }
    var all: [[Float]] { lock.lock(); defer { lock.unlock() }; return values }
}
