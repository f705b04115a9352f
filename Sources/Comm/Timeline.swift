/// A per-rank record of what a training step spent its time on (forward, backward, each
/// bucket's allreduce, the wait for communication, the optimizer update, evaluation, ...), for
/// the Chrome trace-event file `--timeline FILE` writes (Horovod's timeline idea).
///
/// One `Timeline` per rank, used only from that rank's training thread: spans on the main lane
/// nest through `begin`/`end`; bucket reductions, which run on the reducer thread, are recorded
/// afterwards from their measured intervals (`record`) on that reducer's lane. Events go to an
/// array that grows by doubling (amortised, no per-event allocation) up to `capacity`; later
/// events are counted in `dropped`. Components hold a `Timeline?`, so with no timeline a hook is
/// one nil check.
///
/// Times are seconds since `origin`. `synchronized(_:)` takes the origin right after a barrier,
/// so all ranks share one time base to within the barrier's skew, even across hosts whose
/// monotonic clocks are unrelated.
public final class Timeline {
    public enum Phase: Int, Sendable, CaseIterable {
        case step, forward, backward, wait, allreduce, optimizer, metrics, generate, evaluation, checkpoint, sample, benchmark, allgather

        /// The name shown in the trace.
        public var name: String {
            switch self {
            case .wait: return "wait for allreduce"
            case .generate: return "generate fakes"
            case .allgather: return "allgather updated parameters"
            default: return String(describing: self)
            }
        }
    }

    public struct Event: Sendable, Equatable {
        public var phase: Phase
        /// Index into `networks` (0: no network, e.g. the whole step).
        public var network: Int
        /// Index into `lanes` (0: the rank's training thread).
        public var lane: Int
        /// Seconds since the origin.
        public var start: Double
        public var end: Double
        /// Bucket index and size for allreduce events, -1 otherwise.
        public var bucket: Int
        public var bytes: Int
    }

    public let rank: Int
    /// The monotonic time (`monotonicSeconds()`) that is 0 in this timeline.
    public let origin: Double
    public let capacity: Int
    public private(set) var events: [Event] = []
    public private(set) var dropped = 0
    /// Names of the networks events belong to; index 0 is the empty name.
    public private(set) var networks: [String] = [""]
    /// Names of the lanes (threads); index 0 is the training thread.
    public private(set) var lanes: [String] = ["training"]
    private var open: [(phase: Phase, network: Int, start: Double)] = []

    public init(rank: Int, origin: Double = monotonicSeconds(), capacity: Int = 1 << 20) {
        self.rank = rank
        self.origin = origin
        self.capacity = capacity
        events.reserveCapacity(min(capacity, 4096))
        open.reserveCapacity(8)
    }

    /// A timeline whose origin every rank takes right after a barrier. Collective.
    public static func synchronized(_ comm: Communicator, capacity: Int = 1 << 20) -> Timeline {
        comm.barrier()
        return Timeline(rank: comm.rank, capacity: capacity)
    }

    /// The index of network `name`, registered on first use. Every rank registers the same names
    /// in the same order, so indices agree across ranks.
    public func network(_ name: String) -> Int { index(of: name, in: &networks) }

    /// The index of lane `name`, registered on first use.
    public func lane(_ name: String) -> Int { index(of: name, in: &lanes) }

    private func index(of name: String, in table: inout [String]) -> Int {
        if let i = table.firstIndex(of: name) { return i }
        table.append(name)
        return table.count - 1
    }

    /// Opens a span on the training lane; `end()` closes the innermost open one.
    public func begin(_ phase: Phase, network: Int = 0) {
        open.append((phase, network, monotonicSeconds()))
    }

    public func end() {
        guard let span = open.popLast() else { return }
        append(Event(phase: span.phase, network: span.network, lane: 0, start: span.start - origin,
                     end: monotonicSeconds() - origin, bucket: -1, bytes: 0))
    }

    /// An interval measured elsewhere, in absolute `monotonicSeconds()`.
    public func record(_ phase: Phase, network: Int = 0, lane: Int, start: Double, end: Double, bucket: Int = -1, bytes: Int = 0) {
        append(Event(phase: phase, network: network, lane: lane, start: start - origin, end: end - origin,
                     bucket: bucket, bytes: bytes))
    }

    private func append(_ e: Event) {
        guard events.count < capacity else { dropped += 1; return }
        events.append(e)
    }

    /// Every rank's events and the number dropped on all ranks together, on rank 0 (nil on the
    /// others). Collective: an allgather of the counts, then of the events encoded as doubles
    /// (padded to the longest rank).
    public func gather(_ comm: Communicator) -> (events: [[Event]], dropped: Int)? {
        let width = 7
        let sizes = comm.allgather([Double(events.count), Double(dropped)])
        let counts = sizes.map { Int($0[0]) }
        let longest = counts.max() ?? 0
        var flat = [Double](repeating: 0, count: longest * width)
        for (i, e) in events.enumerated() {
            let fields = [Double(e.phase.rawValue), Double(e.network), Double(e.lane), e.start, e.end, Double(e.bucket), Double(e.bytes)]
            for (k, v) in fields.enumerated() { flat[i * width + k] = v }
        }
        let all = comm.allgather(flat)
        guard comm.rank == 0 else { return nil }
        let perRank = all.enumerated().map { r, f in
            (0..<counts[r]).map { i in
                let o = i * width
                return Event(phase: Phase(rawValue: Int(f[o])) ?? .step, network: Int(f[o + 1]), lane: Int(f[o + 2]),
                             start: f[o + 3], end: f[o + 4], bucket: Int(f[o + 5]), bytes: Int(f[o + 6]))
            }
        }
        return (perRank, sizes.reduce(0) { $0 + Int($1[1]) })
    }
}

extension Optional where Wrapped == Timeline {
    /// `body`, recorded as a span of `phase` when there is a timeline.
    @inline(__always)
    public func span<T>(_ phase: Timeline.Phase, network: Int = 0, _ body: () throws -> T) rethrows -> T {
        guard let timeline = self else { return try body() }
        timeline.begin(phase, network: network)
        defer { timeline.end() }
        return try body()
    }
}
