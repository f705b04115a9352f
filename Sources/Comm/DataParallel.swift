import Autograd
import TensorCore

/// Keeps the replicas of one network identical across ranks: broadcasts rank 0's parameters at
/// start, and after each backward averages the flat gradient arena in fixed-order buckets.
///
/// Buckets are contiguous ranges of the gradient arena made of whole parameters: a small first
/// bucket (so communication starts early), then buckets of `bucketBytes`, as PyTorch DDP does.
/// Parameters are laid out last layer first, so bucket 0 is the first to complete during
/// backward. A bucket is handed to the background reducer as soon as every gradient in it is
/// final and every earlier bucket has been handed over — the same order on every rank, which is
/// what keeps collectives matched and sums reproducible.
public final class DataParallel {
    public let parameters: FlatParameters
    public let comm: Communicator
    /// Element ranges of the gradient arena, reduced in this order.
    public let buckets: [Range<Int>]
    /// Reduce buckets on a background thread during backward (true) or all after backward.
    public let overlap: Bool
    private let bucketOfParameter: [ObjectIdentifier: Int]
    private let bucketSizes: [Int]
    private var missing: [Int]
    private var nextToLaunch = 0
    private var reducer: BucketReducer?

    /// Statistics of the last synchronised step.
    public private(set) var lastStats = Stats()
    /// Where backward, the wait for communication and each bucket's allreduce are recorded (nil: nowhere).
    public private(set) var timeline: Timeline?
    /// This network's index in `timeline` (0 when it has no name).
    public private(set) var timelineNetwork = 0
    private var reducerLane = 0

    public struct Stats: Sendable {
        /// Sum of the buckets' allreduce durations.
        public var allreduceSeconds = 0.0
        /// Time the step waited for communication after its own backward had finished.
        public var exposedSeconds = 0.0
        /// Each bucket's reduction interval in seconds, relative to the start of backward.
        public var bucketIntervals: [BucketInterval] = []
        /// Share of the allreduce time hidden behind backward.
        public var hiddenFraction: Double { allreduceSeconds > 0 ? max(0, 1 - exposedSeconds / allreduceSeconds) : 1 }
    }

    public struct BucketInterval: Sendable {
        public var bucket: Int
        public var start: Double
        public var end: Double
    }

    public init(_ parameters: FlatParameters, comm: Communicator, firstBucketBytes: Int = 1 << 20,
                bucketBytes: Int = 25 << 20, overlap: Bool = true) {
        self.parameters = parameters
        self.comm = comm
        self.overlap = overlap
        var buckets: [Range<Int>] = []
        var owner: [ObjectIdentifier: Int] = [:]
        var sizes: [Int] = []
        var start = 0
        var members: [Variable] = []
        for (i, p) in parameters.parameters.enumerated() {
            members.append(p)
            let end = parameters.range(of: i).upperBound
            let cap = (buckets.isEmpty ? firstBucketBytes : bucketBytes) / 4
            if end - start >= cap || i == parameters.parameters.count - 1 {
                for m in members { owner[ObjectIdentifier(m)] = buckets.count }
                sizes.append(members.count)
                buckets.append(start..<end)
                start = end
                members = []
            }
        }
        self.buckets = buckets
        self.bucketOfParameter = owner
        self.bucketSizes = sizes
        missing = sizes
        if overlap && comm.size > 1 { reducer = BucketReducer(comm: comm, gradients: parameters.grads.base) }
    }

    deinit { reducer?.stop() }

    /// Records this network's backward phases in `timeline` under `network` ("" for a job's
    /// only network), with the bucket reductions on the lane of its reducer thread.
    public func attach(_ timeline: Timeline?, network: String) {
        self.timeline = timeline
        timelineNetwork = timeline?.network(network) ?? 0
        reducerLane = timeline?.lane(network.isEmpty ? "gradient reducer" : "\(network) reducer") ?? 0
    }

    /// Makes every replica start from rank 0's parameters.
    public func broadcastParameters(root: Int = 0) {
        comm.broadcast(parameters.valueBuffer, root: root)
    }

    /// Backward of `loss` with gradient averaging across ranks. With `synchronize: false` (all
    /// but the last micro-batch of gradient accumulation) gradients only accumulate locally.
    public func backward(_ loss: Variable, seed: Tensor? = nil, synchronize: Bool = true) {
        guard synchronize && comm.size > 1 else {
            timeline?.begin(.backward, network: timelineNetwork)
            loss.backward(seed: seed)
            timeline?.end()
            if synchronize { lastStats = Stats() }
            return
        }
        let backwardStart = monotonicSeconds()
        timeline?.begin(.backward, network: timelineNetwork)
        guard let reducer else {
            loss.backward(seed: seed)
            timeline?.end()
            timeline?.begin(.wait, network: timelineNetwork)
            var stats = Stats()
            for (i, r) in buckets.enumerated() {
                let s = monotonicSeconds()
                DataParallel.averageRange(comm, parameters.grads.base, r)
                let e = monotonicSeconds()
                stats.bucketIntervals.append(BucketInterval(bucket: i, start: s - backwardStart, end: e - backwardStart))
                stats.allreduceSeconds += e - s
                timeline?.record(.allreduce, network: timelineNetwork, lane: 0, start: s, end: e, bucket: i, bytes: r.count * 4)
            }
            timeline?.end()
            stats.exposedSeconds = stats.allreduceSeconds
            lastStats = stats
            return
        }
        missing = bucketSizes
        nextToLaunch = 0
        loss.backward(seed: seed) { [self] leaf in
            guard let b = bucketOfParameter[ObjectIdentifier(leaf)] else { return }
            missing[b] -= 1
            while nextToLaunch < buckets.count && missing[nextToLaunch] == 0 { launch(nextToLaunch, reducer) }
        }
        // Buckets whose parameters took no part in this graph (frozen or unused) go last,
        // still in order, so every rank issues the same collectives.
        while nextToLaunch < buckets.count { launch(nextToLaunch, reducer) }
        timeline?.end()
        timeline?.begin(.wait, network: timelineNetwork)
        let waitStart = monotonicSeconds()
        let timings = reducer.waitAll()
        var stats = Stats()
        stats.exposedSeconds = monotonicSeconds() - waitStart
        timeline?.end()
        for t in timings {
            stats.allreduceSeconds += t.end - t.start
            stats.bucketIntervals.append(BucketInterval(bucket: t.bucket, start: t.start - backwardStart, end: t.end - backwardStart))
            timeline?.record(.allreduce, network: timelineNetwork, lane: reducerLane, start: t.start, end: t.end,
                             bucket: t.bucket, bytes: buckets[t.bucket].count * 4)
        }
        lastStats = stats
    }

    private func launch(_ b: Int, _ reducer: BucketReducer) {
        reducer.enqueue(bucket: b, range: buckets[b])
        nextToLaunch = b + 1
    }

    /// Averages one range of a gradient arena across ranks in place.
    static func averageRange(_ comm: Communicator, _ base: UnsafeMutablePointer<Float>, _ range: Range<Int>) {
        comm.allreduceAverage(UnsafeMutableBufferPointer(start: base + range.lowerBound, count: range.count))
    }
}
