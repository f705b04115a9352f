import Foundation
import Autograd
import Optim
import TensorCore

/// Keeps the replicas of one network identical across ranks: broadcasts rank 0's parameters at
/// start, and after each backward averages the flat gradient arena in fixed-order buckets.
///
/// Buckets are contiguous ranges of the gradient arena made of whole parameters: a small first
/// bucket (so communication starts early), then buckets of `bucketBytes`, as PyTorch DDP does,
/// and a last bucket no larger than the first. Parameters are laid out last layer first, so
/// bucket 0 is the first to complete during backward; the last bucket completes when backward
/// ends, nothing is left to hide its reduction behind, and keeping it small keeps that exposed
/// time small (the GAN generator's first layers: 0.6 MB instead of 2.6 MB with 25 MB buckets).
/// A bucket is handed over as soon as every gradient in it is final and every earlier bucket
/// has been handed over — the same order on every rank, which is what keeps collectives matched
/// and sums reproducible.
///
/// When all ranks share a node, the gradient arena moves into memory they all map and buckets
/// are averaged there, on the training thread between steps of backward (`SharedGradients`,
/// `InlineSharedAveraging`); otherwise, or with `sharedMemory: false`, by the communicator's
/// allreduce on a background thread (`BucketReducer`). Both give the same bits. Given the
/// optimizer, ranks sharing memory also shard its update: each averages and updates only its
/// share of the parameters, in a single node-wide copy of the optimizer state, and takes the
/// others' new values (`update`); same bits again. The values themselves are then one copy
/// for the node when every parameter is trainable: non-trainable ones (batch-norm moving
/// statistics) are written by each rank's forward, and need each rank's own copy. With an
/// optimizer that can average in its own pass (Adam) and no clipping by global norm, backward
/// does not average at all: it publishes its buckets, and each rank's update reads its share
/// of every rank's gradients and averages them in registers — the reduce-scatter fused into
/// the update, which neither writes the averages nor reads them back (`SharedGradients`).
public final class DataParallel {
    public let parameters: FlatParameters
    public let comm: Communicator
    /// Element ranges of the gradient arena, reduced in this order.
    public let buckets: [Range<Int>]
    /// Reduce buckets on a background thread during backward (true) or all after backward.
    public let overlap: Bool
    /// What the stall watchdog calls these gradients: "gradients", "generator gradients".
    let label: String
    private let bucketOfParameter: [ObjectIdentifier: Int]
    private let bucketSizes: [Int]
    private var missing: [Int]
    private var nextToLaunch = 0
    /// Averages the buckets backward hands over (nil: all are averaged after backward).
    private var averaging: BucketAveraging?
    private let shared: SharedGradients?
    /// The optimizer whose update is sharded across the node's ranks (nil: every rank updates everything).
    private let shardedOptimizer: Optimizer?
    /// The same when it can average the gradients in its own pass, and backward hands buckets
    /// over on the training thread (nil: the gradients are averaged first).
    private let averagingOptimizer: GradientAveragingOptimizer?
    /// Indices into `parameters.parameters` of each bucket's parameters.
    private let bucketParameters: [Range<Int>]
    /// Every rank's share of a sharded update, indexed by rank, rebuilt each step
    /// (trainability can change) in storage kept from step to step.
    private var updateRanges: [[Range<Int>]]
    /// Averages one bucket (index, range) across ranks.
    private let averageBucket: (Int, Range<Int>) -> Void
    /// Synchronised backward passes so far (the step numbers of `TestHooks`).
    private var synchronisedSteps = 0
    /// Start time of a backward whose buckets are still being reduced.
    private var pending: Double?
    /// Where the gradients of the last synchronised backward stand.
    private var reduction = Reduction.local

    private enum Reduction {
        /// This rank's own, or averaged by the communicator: finiteness is found by reading them.
        case local
        /// Averaged in shared memory, with the averages' finiteness flags.
        case averaged
        /// In every rank's arena for an update that averages them in its pass; not waited for yet.
        case published
        /// Every rank's are published and within ±`BLAS.checkedBound`: their averages are finite.
        case averageInUpdate
    }

    /// Statistics of the last synchronised step.
    public private(set) var lastStats = Stats()
    /// Where backward, the wait for communication and each bucket's allreduce are recorded (nil: nowhere).
    public private(set) var timeline: Timeline?
    /// This network's index in `timeline` (0 when it has no name).
    public private(set) var timelineNetwork = 0
    private var reducerLane = 0

    public struct Stats: Sendable {
        /// Sum of the buckets' allreduce durations, and with a sharded update the exchange of
        /// updated parameters.
        public var allreduceSeconds = 0.0
        /// Time the step waited for communication after its own backward had finished, and
        /// the exchange of updated parameters.
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
                bucketBytes: Int = 25 << 20, overlap: Bool = true, sharedMemory: Bool = true,
                optimizer: Optimizer? = nil, name: String = "") {
        self.parameters = parameters
        self.comm = comm
        self.overlap = overlap
        self.label = name.isEmpty ? "gradients" : "\(name) gradients"
        var buckets: [Range<Int>] = []
        var owner: [ObjectIdentifier: Int] = [:]
        var sizes: [Int] = [], members: [Range<Int>] = []
        var start = 0, first = 0
        let count = parameters.parameters.count
        // The last bucket: the trailing parameters that fit in `firstBucketBytes` (at least one).
        var tail = count - 1
        while tail > 1 && parameters.count - parameters.offsets[tail - 1] <= firstBucketBytes / 4 { tail -= 1 }
        for i in parameters.parameters.indices {
            let end = parameters.range(of: i).upperBound
            let cap = (buckets.isEmpty ? firstBucketBytes : bucketBytes) / 4
            if end - start >= cap || i == tail - 1 || i == count - 1 {
                for m in parameters.parameters[first...i] { owner[ObjectIdentifier(m)] = buckets.count }
                sizes.append(i + 1 - first)
                members.append(first..<(i + 1))
                buckets.append(start..<end)
                start = end
                first = i + 1
            }
        }
        self.buckets = buckets
        self.bucketOfParameter = owner
        self.bucketSizes = sizes
        bucketParameters = members
        missing = sizes
        shared = sharedMemory && comm.size > 1
            ? SharedGradients(comm: comm, floats: parameters.count, buckets: buckets, label: label,
                              stateBuffers: optimizer?.stateBuffers.count,
                              sharedValues: parameters.parameters.allSatisfy(\.requiresGrad)) : nil
        shardedOptimizer = shared == nil ? nil : optimizer
        averagingOptimizer = overlap ? shardedOptimizer as? GradientAveragingOptimizer : nil
        updateRanges = Array(repeating: [], count: comm.size)
        if let shared {
            let arena = { (base: UnsafeMutablePointer<Float>) in Storage(external: base, count: parameters.count, owner: shared.owner) }
            parameters.moveGradients(to: arena(shared.arenas[comm.rank]))
            if let optimizer {
                parameters.moveValues(to: arena(shared.values[comm.rank]), shared: shared.sharedValues,
                                      keep: !shared.sharedValues || comm.rank == 0)
                for (b, base) in zip(optimizer.stateBuffers, shared.states) {
                    b.move(to: arena(base), sharedAcrossRanks: true, copy: comm.rank == 0)
                }
                comm.barrier()
            }
            averageBucket = { b, _ in shared.average(bucket: b) }
            // A full average reads each gradient as soon as backward has written it and writes
            // it back to every arena: sent past the caches, it would come back from memory
            // (GAN 2x1: averaging 0.26 -> 0.30 ms a step). The reduce-scatter of a sharded
            // update writes half as much, and the step is faster streamed (GAN 2x1: +3%).
            BLAS.streamLargeWeightGradients(shared.scatterOnly)
        } else {
            let base = parameters.grads.base, label = label, count = buckets.count
            averageBucket = { b, r in DataParallel.averageRange(comm, base, r, label: label, bucket: b, of: count) }
        }
        if overlap && comm.size > 1 { averaging = shared.map(InlineSharedAveraging.init) ?? BucketReducer(average: averageBucket) }
    }

    /// How gradients are averaged: "shared memory" (ranks on one node), else the communicator's
    /// backend ("mpi", "in-process"); "none" for a single rank.
    public var allreduceMethod: String { comm.size == 1 ? "none" : shared != nil ? "shared memory" : comm.backend }

    /// Whether the update averages the gradients in its own pass (unless clipping by global
    /// norm, or a gradient out of bound, makes a step average them first).
    public var averagesInUpdate: Bool { averagingOptimizer != nil }

    deinit { averaging?.stop() }

    /// Records this network's backward phases in `timeline` under `network` ("" for a job's
    /// only network), with the bucket reductions on the lane of the thread that runs them.
    public func attach(_ timeline: Timeline?, network: String) {
        self.timeline = timeline
        timelineNetwork = timeline?.network(network) ?? 0
        reducerLane = 0
        if let averaging, !averaging.onTrainingThread {
            reducerLane = timeline?.lane(network.isEmpty ? "gradient reducer" : "\(network) reducer") ?? 0
        }
    }

    /// Whether the optimizer's update is split across the node's ranks.
    public var shardsUpdate: Bool { shardedOptimizer != nil }

    /// The optimizer step after `backward`: `optimizer.step`, or with a sharded update this
    /// rank's share of it followed by the exchange of new values, which leaves every rank with
    /// the parameters a full update would have given.
    public func update(_ optimizer: Optimizer, learningRate: Float) {
        // Sharded, this rank's arena holds only its share of the averages, or none of them.
        precondition(shardedOptimizer == nil || shardedOptimizer === optimizer,
                     "DataParallel.update: the \(label) are sharded for the optimizer given at init, not this one")
        guard let shared, shardedOptimizer != nil else { return optimizer.step(learningRate: learningRate) }
        // Only trainable elements travel: non-trainable ones (batch-norm moving statistics)
        // stay each rank's own, as without sharding.
        for q in updateRanges.indices { updateRanges[q].removeAll(keepingCapacity: true) }
        parameters.forEachTrainableRange { run in
            for (q, shard) in shared.shards.enumerated() {
                for part in shard where run.overlaps(part) { updateRanges[q].append(run.clamped(to: part)) }
            }
        }
        if reduction == .published { resolvePublished() }
        if reduction == .averageInUpdate, let averagingOptimizer {
            // Each range lies in one bucket's chunk: the timeline shows that bucket averaged
            // inside the optimizer phase.
            averagingOptimizer.step(learningRate: learningRate, ranges: updateRanges[comm.rank],
                                    averaging: shared.gradientArenas) { range, update in
                guard let timeline else { return update() }
                let start = monotonicSeconds()
                update()
                let b = buckets.firstIndex { $0.contains(range.lowerBound) } ?? -1
                timeline.record(.allreduce, network: timelineNetwork, lane: 0, start: start, end: monotonicSeconds(),
                                bucket: b, bytes: range.count * 4 * comm.size)
            }
        } else {
            // The global norm is over every gradient, not only this rank's averages.
            if optimizer.globalClipNorm != nil { communicate(.allgather) { shared.gatherAverages() } }
            optimizer.step(learningRate: learningRate, ranges: updateRanges[comm.rank])
        }
        communicate(.allgather) { shared.shareUpdate(updateRanges) }
    }

    /// Waits until every rank has published this step's gradients. If all are within bound,
    /// the update will average them; otherwise every rank averages them now, which checks
    /// each average exactly, and the step goes on as one that averaged during backward.
    private func resolvePublished() {
        guard let shared else { return }
        communicate(.wait) { shared.waitReady() }
        if !shared.anyOutOfBound() { return reduction = .averageInUpdate }
        communicate(.wait) {
            for b in buckets.indices { shared.average(bucket: b) }
            shared.waitAveraged()
        }
        reduction = .averaged
    }

    /// Runs communication outside backward (nothing hides it) as timeline phase `phase`: its
    /// time counts in the step's communication and exposed communication.
    private func communicate(_ phase: Timeline.Phase, _ body: () -> Void) {
        let start = monotonicSeconds()
        timeline?.begin(phase, network: timelineNetwork)
        body()
        timeline?.end()
        let seconds = monotonicSeconds() - start
        lastStats.allreduceSeconds += seconds
        lastStats.exposedSeconds += seconds
    }

    /// The first parameter whose averaged gradient is not finite, as
    /// `FlatParameters.nonFiniteGradient` finds it, or nil. It reads as little as it can: a
    /// single rank only the gradients no kernel checked as it stored them; after a shared-memory
    /// average, the flags the averaging set; for an update that averages in its pass, every
    /// rank's out-of-bound flag. Only when something is amiss does it gather the averages and
    /// search them. Every rank must call it at the same point (it synchronises then).
    public func nonFiniteGradient(prefix: String = "") -> NonFiniteGradient? {
        // The checked flags describe this rank's own gradients, which are the averages only alone.
        if comm.size == 1 && parameters.gradientsWithinCheckedBound() { return nil }
        if let shared {
            if reduction == .published { resolvePublished() }
            if reduction == .averageInUpdate { return nil }
            if reduction == .averaged {
                if shared.averagesFinite() { return nil }
                communicate(.allgather) { shared.gatherAverages() }
            }
        }
        return parameters.nonFiniteGradient(prefix: prefix)
    }

    /// Makes every replica start from rank 0's parameters (with one shared copy, they already do).
    public func broadcastParameters(root: Int = 0) {
        comm.monitor.setPhase("initial parameter broadcast")
        if parameters.valuesSharedAcrossRanks { return comm.barrier() }
        comm.broadcast(parameters.valueBuffer, root: root)
    }

    /// Backward of `loss` with gradient averaging across ranks. With `synchronize: false` (all
    /// but the last micro-batch of gradient accumulation) gradients only accumulate locally.
    public func backward(_ loss: Variable, seed: Tensor? = nil, synchronize: Bool = true) {
        startBackward(loss, seed: seed, synchronize: synchronize)
        finishGradients()
    }

    /// Backward of `loss` that hands buckets to the reducer but does not wait for them: the
    /// caller may compute something that does not read these gradients or write these
    /// parameters (the GAN's next generator forward) before `finishGradients()`.
    public func startBackward(_ loss: Variable, seed: Tensor? = nil, synchronize: Bool = true) {
        pending = nil
        if !synchronize || shared == nil {
            reduction = .local
        } else if let averagingOptimizer, averagingOptimizer.globalClipNorm == nil {
            reduction = .published
        } else {
            reduction = .averaged
        }
        let fault = synchronize ? injectTestFaults() : nil
        guard synchronize && comm.size > 1 else {
            timeline?.begin(.backward, network: timelineNetwork)
            loss.backward(seed: seed)
            parameters.settleGradients()
            fault?.poison()
            timeline?.end()
            if synchronize { lastStats = Stats() }
            return
        }
        shared?.beginStep()
        let backwardStart = monotonicSeconds()
        timeline?.begin(.backward, network: timelineNetwork)
        guard let averaging else {
            loss.backward(seed: seed)
            parameters.settleGradients()
            fault?.poison()
            timeline?.end()
            timeline?.begin(.wait, network: timelineNetwork)
            for b in buckets.indices { shared?.publishReady(b) }
            var stats = Stats()
            for (i, r) in buckets.enumerated() {
                let s = monotonicSeconds()
                averageBucket(i, r)
                let e = monotonicSeconds()
                stats.bucketIntervals.append(BucketInterval(bucket: i, start: s - backwardStart, end: e - backwardStart))
                stats.allreduceSeconds += e - s
                timeline?.record(.allreduce, network: timelineNetwork, lane: 0, start: s, end: e, bucket: i, bytes: r.count * 4)
            }
            let waitStart = monotonicSeconds()
            shared?.waitAveraged()
            stats.allreduceSeconds += monotonicSeconds() - waitStart
            timeline?.end()
            stats.exposedSeconds = stats.allreduceSeconds
            lastStats = stats
            return
        }
        missing = bucketSizes
        nextToLaunch = 0
        loss.backward(seed: seed) { [self] leaf in
            if let fault, fault.parameter === leaf { fault.poison() }
            guard let b = bucketOfParameter[ObjectIdentifier(leaf)] else { return }
            missing[b] -= 1
            while nextToLaunch < buckets.count && missing[nextToLaunch] == 0 { launch(nextToLaunch, averaging) }
        }
        // Buckets whose parameters took no part in this graph (frozen or unused) go last,
        // still in order, so every rank issues the same collectives. Their gradients are
        // zeroed first; no bucket holding them has been launched yet.
        parameters.settleGradients()
        while nextToLaunch < buckets.count { launch(nextToLaunch, averaging) }
        timeline?.end()
        pending = backwardStart
    }

    /// Waits until the gradients of the last `startBackward` are averaged; the wait is the
    /// step's exposed communication.
    public func finishGradients() {
        guard let backwardStart = pending, let averaging else { return }
        pending = nil
        // Nothing was averaged, nothing to wait for yet: `resolvePublished` waits for the other ranks.
        if reduction == .published { return lastStats = Stats() }
        timeline?.begin(.wait, network: timelineNetwork)
        let waitStart = monotonicSeconds()
        let (timings, duringBackward) = averaging.finish()
        var stats = Stats()
        // Averaging on the training thread during backward is not hidden behind anything.
        stats.exposedSeconds = monotonicSeconds() - waitStart + duringBackward
        timeline?.end()
        for t in timings {
            stats.allreduceSeconds += t.end - t.start
            stats.bucketIntervals.append(BucketInterval(bucket: t.bucket, start: t.start - backwardStart, end: t.end - backwardStart))
            timeline?.record(.allreduce, network: timelineNetwork, lane: reducerLane, start: t.start, end: t.end,
                             bucket: t.bucket, bytes: buckets[t.bucket].count * 4)
        }
        lastStats = stats
    }

    /// Hands bucket `b` to `averaging`, or for an update that averages in its pass publishes
    /// it (after its out-of-bound flag, if raised) for the other ranks' updates to read.
    private func launch(_ b: Int, _ averaging: BucketAveraging) {
        nextToLaunch = b + 1
        guard reduction == .published, let shared else { return averaging.launch(b, buckets[b]) }
        if !parameters.gradientsWithinCheckedBound(bucketParameters[b]) { shared.publishOutOfBound() }
        shared.publishReady(b)
    }

    /// Test faults (`TestHooks`) due in this synchronised step: sleeps now for a stall; returns
    /// the parameter whose gradient must turn NaN and the action doing it, to run once that
    /// gradient is final and before it is reduced.
    private func injectTestFaults() -> (parameter: Variable, poison: () -> Void)? {
        synchronisedSteps += 1
        let hooks = TestHooks.current
        if let s = hooks.stall, s.rank == comm.rank, s.step == synchronisedSteps { Thread.sleep(forTimeInterval: s.seconds) }
        guard let f = hooks.nonFiniteGradient, f.rank == comm.rank, f.step == synchronisedSteps,
              let i = parameters.parameters.firstIndex(where: { $0.name == f.parameter }) else { return nil }
        let p = parameters.parameters[i]
        return (p, { p.gradSlot().grad.data[0] = .nan })
    }

    /// Averages one range (bucket `bucket` of `count`) of a gradient arena across ranks in place.
    static func averageRange(_ comm: Communicator, _ base: UnsafeMutablePointer<Float>, _ range: Range<Int>,
                             label: String, bucket: Int, of count: Int) {
        comm.monitor.setPhase(label, bucket: bucket, of: count)
        comm.allreduceAverage(UnsafeMutableBufferPointer(start: base + range.lowerBound, count: range.count))
    }
}
