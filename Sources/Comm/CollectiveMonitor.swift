import Foundation

/// Where one rank is in the job's sequence of collectives — how many it has entered, whether it
/// is inside one and since when, what that one is, and the training step — for the stall
/// watchdog (Horovod's stall inspector, PyTorch's NCCL watchdog). Collectives update it on entry
/// and exit; trainers name the step and the phase ("gradients bucket 2 of 3", "metrics").
///
/// Every rank issues the same collectives in the same order, so the sequence number of a
/// collective is the same on every rank: a rank with a lower number has not yet arrived.
public final class CollectiveMonitor: @unchecked Sendable {
    /// A snapshot, as reported by one rank.
    public struct Position: Sendable, Equatable {
        public var rank: Int
        /// Collectives entered so far, the current one included.
        public var sequence: Int
        public var inside: Bool
        /// Seconds since the current collective was entered (inside) or the last one was left.
        public var seconds: Double
        /// The training step (1-based) this rank is in; 0 before the first one.
        public var step: Int
        /// What the current or last collective is: "allreduce of 0.9 MB (gradients, bucket 1 of 2)".
        public var activity: String

        public init(rank: Int, sequence: Int, inside: Bool, seconds: Double, step: Int, activity: String) {
            self.rank = rank
            self.sequence = sequence
            self.inside = inside
            self.seconds = seconds
            self.step = step
            self.activity = activity
        }
    }

    public enum Operation: String, Sendable {
        case allreduce, broadcast, allgather, barrier
    }

    public let rank: Int
    private let lock = NSLock()
    private var sequence = 0
    private var inside = false
    private var since = monotonicSeconds()
    private var operation = Operation.barrier
    private var bytes = 0
    private var phase = ""
    private var bucket: (index: Int, count: Int)?
    private var enteredPhase = ""
    private var enteredBucket: (index: Int, count: Int)?
    private var currentStep = 0

    public init(rank: Int) { self.rank = rank }

    /// The training step (1-based) that the following collectives belong to.
    public var step: Int {
        get { lock.lock(); defer { lock.unlock() }; return currentStep }
        set { lock.lock(); currentStep = newValue; lock.unlock() }
    }

    /// Names what the following collectives are for, until the next call.
    public func setPhase(_ name: String, bucket: Int? = nil, of buckets: Int = 0) {
        lock.lock()
        phase = name
        self.bucket = bucket.map { ($0, buckets) }
        lock.unlock()
    }

    /// Runs one collective of `bytes` bytes per rank, recording its entry and exit.
    @inline(__always)
    public func track<T>(_ operation: Operation, bytes: Int, _ body: () -> T) -> T {
        lock.lock()
        sequence += 1
        inside = true
        since = monotonicSeconds()
        self.operation = operation
        self.bytes = bytes
        enteredPhase = phase
        enteredBucket = bucket
        lock.unlock()
        let result = body()
        lock.lock()
        inside = false
        since = monotonicSeconds()
        lock.unlock()
        return result
    }

    public var position: Position {
        lock.lock()
        defer { lock.unlock() }
        var activity = "\(operation.rawValue) of \(Self.format(bytes: bytes))"
        if !enteredPhase.isEmpty {
            activity += " (\(enteredPhase)"
            if let b = enteredBucket { activity += ", bucket \(b.index + 1) of \(b.count)" }
            activity += ")"
        }
        return Position(rank: rank, sequence: sequence, inside: inside, seconds: monotonicSeconds() - since,
                        step: currentStep, activity: activity)
    }

    static func format(bytes: Int) -> String {
        if bytes < 1024 { return "\(bytes) B" }
        if bytes < 1 << 20 { return String(format: "%.1f KB", Double(bytes) / 1024) }
        return String(format: "%.1f MB", Double(bytes) / 1_048_576)
    }
}
