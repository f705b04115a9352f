import SharedMemorySync

/// Gradient averaging for ranks that share a node, without MPI: every rank's gradient arena
/// lives in one shared segment, so backward writes straight into memory the other ranks read.
/// For bucket b, rank r waits until every rank has published b as final, sums chunk r of b over
/// all arenas in rank order, scales by 1/N and writes the result into every arena, then
/// publishes that chunk as done — the reduce-scatter + allgather of `InProcessGroup`, with
/// per-bucket flags instead of barriers. Each rank reads N·(bucket/N) floats and writes as many;
/// Open MPI's allreduce copies each bucket through its own buffers (8 MB: 3–5 ms here against
/// well under 1 ms this way, docs/performance.md). Sums are in rank order, scaled as
/// `allreduceAverage` scales, so results equal the MPI and in-process collectives bit for bit.
///
/// With a sharded update (`stateBuffers` > 0), the parameter value arenas are shared too, and
/// the optimizer state is one copy for the node: rank r updates only its chunks (those it
/// averaged), writes the new values into every rank's value arena and publishes `updated` —
/// ZeRO stage 1 inside a node. Each rank then reads and writes 1/N of the optimizer state per
/// step instead of all of it (Adam: 7 floats of traffic per parameter), and the node holds one
/// copy of that state instead of N.
///
/// Layout: one flag block per rank — `ready[bucket]`, `done[bucket]`, `updated` — padded to 64
/// bytes so that a rank writes only its own cache lines; then the N gradient arenas, the N value
/// arenas and the state buffers, each 64-byte aligned. A flag holds the number of the last
/// synchronised step that reached it.
final class SharedGradients: @unchecked Sendable {
    let rank: Int
    let size: Int
    /// Every rank's gradient arena, indexed by rank.
    let arenas: [UnsafeMutablePointer<Float>]
    private let segment: SharedSegment
    /// Every rank's parameter value arena (sharded update only).
    let values: [UnsafeMutablePointer<Float>]
    /// The node's single copy of each optimizer state buffer (sharded update only).
    let states: [UnsafeMutablePointer<Float>]
    /// This rank's chunk of every bucket: the elements it averages and, sharded, updates.
    let shard: [Range<Int>]
    private let ready: [UnsafeMutablePointer<UInt32>]
    private let done: [UnsafeMutablePointer<UInt32>]
    private let updated: [UnsafeMutablePointer<UInt32>]
    private let buckets: [Range<Int>]
    private let monitor: CollectiveMonitor
    private let label: String
    /// The current synchronised step; set on the training thread before its buckets are handed over.
    private(set) var step: UInt32 = 0

    /// Maps the segment for `floats` gradients per rank, and for a sharded update the value
    /// arenas and `stateBuffers` state buffers (collective); nil when the ranks cannot share memory.
    init?(comm: Communicator, floats: Int, buckets: [Range<Int>], label: String, stateBuffers: Int? = nil) {
        let flagBytes = ((2 * buckets.count + 1) * 4 + 63) / 64 * 64
        let arenaBytes = (floats * 4 + 63) / 64 * 64
        let valueArenas = stateBuffers == nil ? 0 : comm.size, stateCount = stateBuffers ?? 0
        let bytes = comm.size * (flagBytes + arenaBytes) + (valueArenas + stateCount) * arenaBytes
        guard let segment = comm.mapSharedMemory(bytes: bytes) else { return nil }
        self.segment = segment
        rank = comm.rank
        size = comm.size
        self.buckets = buckets
        monitor = comm.monitor
        self.label = label
        let flags = (0..<size).map { (segment.base + $0 * flagBytes).assumingMemoryBound(to: UInt32.self) }
        ready = flags
        done = flags.map { $0 + buckets.count }
        updated = flags.map { $0 + 2 * buckets.count }
        let arena = { (i: Int) in (segment.base + comm.size * flagBytes + i * arenaBytes).assumingMemoryBound(to: Float.self) }
        let n = comm.size
        arenas = (0..<n).map(arena)
        values = (0..<valueArenas).map { arena(n + $0) }
        states = (0..<stateCount).map { arena(n + valueArenas + $0) }
        let r = comm.rank
        shard = buckets.map { b in
            let c = chunkRange(b.count, rank: r, of: n)
            return (b.lowerBound + c.lowerBound)..<(b.lowerBound + c.upperBound)
        }.filter { !$0.isEmpty }
    }

    /// Keeps the segment mapped as long as a storage uses this rank's arena.
    var owner: AnyObject { segment }

    /// Starts a synchronised step (training thread, before any `publishReady`).
    func beginStep() { step &+= 1 }

    /// Marks bucket `b` of this rank final for the current step (training thread).
    func publishReady(_ b: Int) { ddp_flag_publish(ready[rank] + b, step) }

    /// Whether every other rank has marked bucket `b` final for the current step (no waiting).
    func isReady(_ b: Int) -> Bool {
        (0..<size).allSatisfy { q in q == rank || Int32(bitPattern: ddp_flag_load(ready[q] + b) &- step) >= 0 }
    }

    /// Averages this rank's chunk of bucket `b` in every arena once every rank has marked `b`
    /// final. Called for each bucket in order, from one thread.
    func average(bucket b: Int) {
        let range = buckets[b], s = step
        monitor.setPhase(label, bucket: b, of: buckets.count)
        monitor.track(.allreduce, bytes: range.count * 4) {
            for q in 0..<size where q != rank { wait(ready[q] + b, s) }
            let mine = chunkRange(range.count, rank: rank, of: size)
            sumInRankOrder(from: range.lowerBound + mine.lowerBound, count: mine.count)
            ddp_flag_publish(done[rank] + b, s)
        }
    }

    /// Returns when every rank has averaged its chunk of every bucket: this rank's arena holds
    /// the average, and no rank touches it again before this rank's next `publishReady`.
    func waitAveraged() {
        let s = step
        monitor.setPhase(label)
        monitor.track(.allreduce, bytes: 0) {
            for q in 0..<size where q != rank {
                for b in buckets.indices { wait(done[q] + b, s) }
            }
        }
    }

    /// After this rank updated `ranges` (within its shard) in its own value arena: copies the
    /// new values into every other rank's arena, publishes that, and waits until every rank has
    /// done the same, so every arena holds the whole update. No rank reads parameters between
    /// its gradients being averaged and this point, which is what lets the others write them.
    func shareUpdate(_ ranges: [Range<Int>]) {
        let s = step
        for q in 0..<size where q != rank {
            for r in ranges { (values[q] + r.lowerBound).update(from: values[rank] + r.lowerBound, count: r.count) }
        }
        monitor.setPhase("\(label): updated parameters")
        monitor.track(.allgather, bytes: ranges.reduce(0) { $0 + $1.count } * 4) {
            ddp_flag_publish(updated[rank], s)
            for q in 0..<size where q != rank { wait(updated[q], s) }
        }
    }

    /// arena[0] += arena[1] + … in rank order, then × 1/N, then copied to the other arenas, over
    /// blocks small enough to stay in L1 between the passes; one pass for two ranks.
    private func sumInRankOrder(from start: Int, count: Int) {
        let inverse = 1 / Float(size), block = 4096
        if size == 2 { return ddp_average_pair(arenas[0] + start, arenas[1] + start, count, inverse) }
        var offset = start
        while offset < start + count {
            let n = min(block, start + count - offset)
            let acc = arenas[0] + offset
            for q in 1..<size {
                let src = arenas[q] + offset
                for i in 0..<n { acc[i] += src[i] }
            }
            for i in 0..<n { acc[i] *= inverse }
            for q in 1..<size { (arenas[q] + offset).update(from: acc, count: n) }
            offset += n
        }
    }

    private func wait(_ flag: UnsafeMutablePointer<UInt32>, _ target: UInt32) {
        while ddp_flag_wait(flag, target, 100) == 0 { segment.onWaitTimeout() }
    }
}
