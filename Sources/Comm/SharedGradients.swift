import SharedMemorySync
import TensorCore

/// Gradient averaging for ranks that share a node, without MPI: every rank's gradient arena
/// lives in one shared segment, so backward writes straight into memory the other ranks read.
/// For bucket b, rank r waits until every rank has published b as final, sums chunk r of b over
/// all arenas in rank order, scales by 1/N and writes the result into every arena, then
/// publishes that chunk as done — the reduce-scatter + allgather of `InProcessGroup`, with
/// per-bucket flags instead of barriers. Each rank reads N·(bucket/N) floats and writes as many;
/// Open MPI's allreduce copies each bucket through its own buffers (8 MB: 3–5 ms here against
/// well under 1 ms this way, docs/performance.md). Sums are in rank order, scaled as
/// `allreduceAverage` scales, so results equal the MPI and in-process collectives bit for bit.
/// Whether each average is finite is checked in the same pass and published with the chunk, so
/// the step's finiteness check reads flags instead of the whole arena again.
///
/// With a sharded update (`stateBuffers` > 0) the averaging is a reduce-scatter only: rank r
/// writes its chunks' averages into its own arena, the only one its update reads (a gradient
/// arena then holds the average in its rank's shard and that rank's own gradients elsewhere;
/// `gatherAverages` completes it when every average is needed: clipping by global norm, or
/// naming a non-finite gradient). The optimizer state is one copy for the node, and so, when
/// nothing but the optimizer writes them (`sharedValues`), are the parameter values: rank r
/// updates only its chunks in place and publishes `updated`, and the others read the new values
/// where they are. Otherwise each rank keeps its own value arena in the segment, and copies the
/// others' new values into it. ZeRO stage 1 inside a node: each rank reads and writes 1/N of
/// the optimizer state per step instead of all of it (Adam: 7 floats of traffic per
/// parameter), and the node holds one copy of that state (and of the values) instead of N.
///
/// With an optimizer that averages in its own pass (`GradientAveragingOptimizer`), even the
/// reduce-scatter goes: backward only publishes its buckets, and rank r's update reads its
/// chunks of every arena and averages them in registers (`waitReady`, `gradientArenas`). The
/// finiteness of those averages must then be known before any rank writes: each rank raises
/// `outOfBound` when one of its own gradients is not within ±`BLAS.checkedBound` (N values
/// within it have a finite sum), and when any rank did, every rank falls back to averaging
/// first, which checks each average exactly. The update reads the other ranks' arenas, and
/// they are not written again before every rank has published `updated` after its update.
///
/// Layout: one flag block per rank — `ready[bucket]`, `done[bucket]`, `updated`, `nonFinite`,
/// `gathered`, `outOfBound` — padded to 64 bytes so that a rank writes only its own cache lines; then the N
/// gradient arenas, the N value arenas (one when shared) and the state buffers, each 64-byte
/// aligned. A flag holds the number of the last synchronised step that reached it.
final class SharedGradients: @unchecked Sendable {
    let rank: Int
    let size: Int
    /// Every rank's gradient arena, indexed by rank.
    let arenas: [UnsafeMutablePointer<Float>]
    /// The same, read-only, for an update that averages them in its pass.
    let gradientArenas: [UnsafePointer<Float>]
    private let segment: SharedSegment
    /// Every rank's parameter value arena (sharded update only), all the same one with `sharedValues`.
    let values: [UnsafeMutablePointer<Float>]
    /// Whether the ranks use one copy of the parameter values.
    let sharedValues: Bool
    /// The node's single copy of each optimizer state buffer (sharded update only).
    let states: [UnsafeMutablePointer<Float>]
    /// Every rank's chunk of every bucket, indexed by rank: the elements it averages and,
    /// sharded, updates.
    let shards: [[Range<Int>]]
    /// Whether a rank writes its chunks' averages into its own arena only (sharded update).
    let scatterOnly: Bool
    private let ready: [UnsafeMutablePointer<UInt32>]
    private let done: [UnsafeMutablePointer<UInt32>]
    private let updated: [UnsafeMutablePointer<UInt32>]
    private let nonFinite: [UnsafeMutablePointer<UInt32>]
    private let gathered: [UnsafeMutablePointer<UInt32>]
    private let outOfBound: [UnsafeMutablePointer<UInt32>]
    private let buckets: [Range<Int>]
    private let monitor: CollectiveMonitor
    private let label: String
    /// What the stall watchdog calls the exchange of updated parameters (built once: a step allocates nothing).
    private let updatePhase: String
    /// The current synchronised step; set on the training thread before its buckets are handed over.
    private(set) var step: UInt32 = 0

    /// Maps the segment for `floats` gradients per rank, and for a sharded update the value
    /// arenas (one with `sharedValues`) and `stateBuffers` state buffers (collective); nil when
    /// the ranks cannot share memory.
    init?(comm: Communicator, floats: Int, buckets: [Range<Int>], label: String, stateBuffers: Int? = nil,
          sharedValues: Bool = false) {
        let flagBytes = ((2 * buckets.count + 4) * 4 + 63) / 64 * 64
        let arenaBytes = (floats * 4 + 63) / 64 * 64
        let oneCopy = stateBuffers != nil && sharedValues
        let valueArenas = stateBuffers == nil ? 0 : oneCopy ? 1 : comm.size, stateCount = stateBuffers ?? 0
        let bytes = comm.size * (flagBytes + arenaBytes) + (valueArenas + stateCount) * arenaBytes
        guard let segment = comm.mapSharedMemory(bytes: bytes) else { return nil }
        self.segment = segment
        rank = comm.rank
        size = comm.size
        self.buckets = buckets
        monitor = comm.monitor
        self.label = label
        updatePhase = "\(label): updated parameters"
        let flags = (0..<size).map { (segment.base + $0 * flagBytes).assumingMemoryBound(to: UInt32.self) }
        ready = flags
        done = flags.map { $0 + buckets.count }
        updated = flags.map { $0 + 2 * buckets.count }
        nonFinite = flags.map { $0 + 2 * buckets.count + 1 }
        gathered = flags.map { $0 + 2 * buckets.count + 2 }
        outOfBound = flags.map { $0 + 2 * buckets.count + 3 }
        scatterOnly = stateBuffers != nil
        let arena = { (i: Int) in (segment.base + comm.size * flagBytes + i * arenaBytes).assumingMemoryBound(to: Float.self) }
        let n = comm.size
        arenas = (0..<n).map(arena)
        gradientArenas = arenas.map { UnsafePointer($0) }
        self.sharedValues = oneCopy
        values = (0..<(stateBuffers == nil ? 0 : n)).map { arena(n + (oneCopy ? 0 : $0)) }
        states = (0..<stateCount).map { arena(n + valueArenas + $0) }
        shards = (0..<n).map { r in
            buckets.map { b in
                let c = chunkRange(b.count, rank: r, of: n)
                return (b.lowerBound + c.lowerBound)..<(b.lowerBound + c.upperBound)
            }.filter { !$0.isEmpty }
        }
    }

    /// Keeps the segment mapped as long as a storage uses this rank's arena.
    var owner: AnyObject { segment }

    /// Starts a synchronised step (training thread, before any `publishReady`).
    func beginStep() { step &+= 1 }

    /// Marks bucket `b` of this rank final for the current step (training thread).
    func publishReady(_ b: Int) { ddp_flag_publish(ready[rank] + b, step) }

    /// Records that one of this rank's gradients of the current step is not within
    /// ±`BLAS.checkedBound` (training thread, before the `publishReady` of its bucket).
    func publishOutOfBound() { ddp_flag_publish(outOfBound[rank], step) }

    /// Returns when every rank has marked every bucket final for the current step: all
    /// gradients are in the arenas, and every `publishOutOfBound` of the step is visible.
    func waitReady() { waitForEveryBucket(ready) }

    /// Whether some rank's gradients of the current step are not all within
    /// ±`BLAS.checkedBound` (after `waitReady`).
    func anyOutOfBound() -> Bool { raisedThisStep(outOfBound) }

    /// Whether every other rank has marked bucket `b` final for the current step (no waiting).
    func isReady(_ b: Int) -> Bool {
        (0..<size).allSatisfy { q in q == rank || Int32(bitPattern: ddp_flag_load(ready[q] + b) &- step) >= 0 }
    }

    /// Averages this rank's chunk of bucket `b` (into every arena, or with `scatterOnly` into
    /// this rank's) once every rank has marked `b` final. Called for each bucket in order, from one thread.
    func average(bucket b: Int) {
        let range = buckets[b], s = step
        monitor.setPhase(label, bucket: b, of: buckets.count)
        monitor.track(.allreduce, bytes: range.count * 4) {
            for q in 0..<size where q != rank { wait(ready[q] + b, s) }
            let mine = chunkRange(range.count, rank: rank, of: size)
            if !sumInRankOrder(from: range.lowerBound + mine.lowerBound, count: mine.count) {
                ddp_flag_publish(nonFinite[rank], s)
            }
            ddp_flag_publish(done[rank] + b, s)
        }
    }

    /// Returns when every rank has averaged its chunk of every bucket: this rank's arena holds
    /// the average (with `scatterOnly`, in its shard), and no rank touches it again before this
    /// rank's next `publishReady`.
    func waitAveraged() { waitForEveryBucket(done) }

    /// Whether every average of the current step is finite (after `waitAveraged`: the flags
    /// were published before the chunks' `done`).
    func averagesFinite() -> Bool { !raisedThisStep(nonFinite) }

    /// Waits until every other rank's per-bucket `flags` reached the current step.
    private func waitForEveryBucket(_ flags: [UnsafeMutablePointer<UInt32>]) {
        let s = step
        monitor.setPhase(label)
        monitor.track(.allreduce, bytes: 0) {
            for q in 0..<size where q != rank {
                for b in buckets.indices { wait(flags[q] + b, s) }
            }
        }
    }

    /// Whether some rank raised its one-word `flags` in the current step.
    private func raisedThisStep(_ flags: [UnsafeMutablePointer<UInt32>]) -> Bool {
        (0..<size).contains { ddp_flag_load(flags[$0]) == step }
    }

    /// With `scatterOnly`, copies the other ranks' averaged chunks into this rank's arena, so
    /// that it holds every average, and waits until every rank has done so (no rank writes its
    /// arena before the others have read it). Every rank calls it at the same point of a step.
    func gatherAverages() {
        guard scatterOnly else { return }
        let s = step
        for q in 0..<size where q != rank {
            for r in shards[q] { (arenas[rank] + r.lowerBound).update(from: arenas[q] + r.lowerBound, count: r.count) }
        }
        monitor.setPhase("\(label): gathered averages")
        monitor.track(.allgather, bytes: 0) {
            ddp_flag_publish(gathered[rank], s)
            for q in 0..<size where q != rank { wait(gathered[q], s) }
        }
    }

    /// After every rank updated `ranges[rank]` (within its shard) in its value arena: publishes
    /// that, waits for the others, and unless the values are shared copies their new values
    /// into this rank's arena, so every arena holds the whole update. Reading the others'
    /// values rather than writing into their arenas moves each line once, from the core that
    /// wrote it. No rank writes its trainable values again before every rank's next gradients
    /// are averaged.
    func shareUpdate(_ ranges: [[Range<Int>]]) {
        let s = step
        monitor.setPhase(updatePhase)
        var pulled = 0
        for q in 0..<size where q != rank && !sharedValues { for r in ranges[q] { pulled += r.count } }
        monitor.track(.allgather, bytes: pulled * 4) {
            ddp_flag_publish(updated[rank], s)
            for q in 0..<size where q != rank { wait(updated[q], s) }
        }
        guard !sharedValues else { return }
        for q in 0..<size where q != rank {
            for r in ranges[q] { (values[rank] + r.lowerBound).update(from: values[q] + r.lowerBound, count: r.count) }
        }
    }

    /// Averages `count` elements from `start` over the arenas in rank order — arena[0] +=
    /// arena[1] + …, then × 1/N — and stores the average into every arena, or with `scatterOnly`
    /// into this rank's (and, past two ranks, arena 0, the accumulator); blocks stay small enough for L1 between the passes, and two ranks take
    /// one pass. Returns whether every average is finite.
    private func sumInRankOrder(from start: Int, count: Int) -> Bool {
        let inverse = 1 / Float(size), block = 4096
        if size == 2 {
            let all: Int32 = scatterOnly ? 0 : 1
            return ddp_average_pair(arenas[0] + start, arenas[1] + start, count, inverse,
                                    rank == 0 ? 1 : all, rank == 1 ? 1 : all) != 0
        }
        var offset = start, finite = true
        while offset < start + count {
            let n = min(block, start + count - offset)
            let acc = arenas[0] + offset
            for q in 1..<size {
                let src = arenas[q] + offset
                for i in 0..<n { acc[i] += src[i] }
            }
            for i in 0..<n { acc[i] *= inverse }
            finite = finite && VectorMath.allFinite(acc, count: n)
            for q in 1..<size where !scatterOnly || q == rank { (arenas[q] + offset).update(from: acc, count: n) }
            offset += n
        }
        return finite
    }

    private func wait(_ flag: UnsafeMutablePointer<UInt32>, _ target: UInt32) {
        while ddp_flag_wait(flag, target, 100) == 0 { segment.onWaitTimeout() }
    }
}
