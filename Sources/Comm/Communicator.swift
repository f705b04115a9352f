/// What data-parallel training needs from a group of ranks. Two implementations: Open MPI
/// (`MPICommunicator`, one process per rank) and in-process threads (`InProcessGroup`, the
/// single-node debug mode). Both sum in rank order 0, 1, …, N−1, so for the same N they give
/// bitwise-identical results, and a run is reproducible bit for bit.
///
/// Collectives are called by every rank in the same order (a rank that skips one hangs the
/// others, which is why gradient buckets are reduced in a fixed order).
public protocol Communicator: AnyObject, Sendable {
    var rank: Int { get }
    var size: Int { get }
    /// Human-readable backend name ("mpi", "in-process").
    var backend: String { get }
    /// This rank's position in the sequence of collectives, for the stall watchdog.
    var monitor: CollectiveMonitor { get }

    /// In-place element-wise sum across ranks, accumulated in rank order.
    func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>)
    /// Copies root's buffer into every rank's buffer.
    func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int)
    /// Copies root's bytes into every rank's buffer (checkpoint metadata, RNG state).
    func broadcast(bytes: UnsafeMutableRawBufferPointer, root: Int)
    /// Every rank's small vector, indexed by rank (digests, timings, sample counts).
    func allgather(_ values: [Double]) -> [[Double]]
    func barrier()
    /// A block of `bytes` bytes that every rank maps (collective). Nil on every rank when the
    /// ranks do not all share one node or the memory cannot be had; callers then use the
    /// collectives above.
    func mapSharedMemory(bytes: Int) -> SharedSegment?
    /// Ends the whole job from this rank: prints `message` and makes every rank exit with
    /// `code`, so no rank waits forever in a collective.
    func abort(_ message: String, code: Int32) -> Never
}

extension Communicator {
    public func mapSharedMemory(bytes: Int) -> SharedSegment? { nil }

    /// Sum of small Double vectors across ranks (metrics: loss·count, correct, count), added in
    /// rank order on every rank, so every rank gets the same bits.
    public func allreduceSum(_ values: [Double]) -> [Double] {
        var out = [Double](repeating: 0, count: values.count)
        for v in allgather(values) { for i in 0..<out.count { out[i] += v[i] } }
        return out
    }

    /// In-place average across ranks.
    public func allreduceAverage(_ buffer: UnsafeMutableBufferPointer<Float>) {
        allreduceSum(buffer)
        if size > 1 {
            let s = 1 / Float(size)
            for i in buffer.indices { buffer[i] *= s }
        }
    }

    /// True on the rank that speaks and writes (logs, metrics files, checkpoints).
    public var isRoot: Bool { rank == 0 }
}

/// The chunk of `count` elements that rank `r` of `n` owns in a reduce-scatter: contiguous,
/// sizes differing by at most one, in rank order.
@inline(__always)
public func chunkRange(_ count: Int, rank r: Int, of n: Int) -> Range<Int> {
    let base = count / n, extra = count % n
    let start = r * base + min(r, extra)
    return start..<(start + base + (r < extra ? 1 : 0))
}
