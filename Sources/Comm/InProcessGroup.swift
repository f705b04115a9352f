import Foundation
import TensorCore

/// N ranks as N threads of one process, reducing through shared memory: the single-node debug
/// mode. The same training code runs as under `mpirun`, with no MPI, deterministically, and
/// steppable in a debugger; unit tests use it to run several ranks in milliseconds.
///
/// Each allreduce is a reduce-scatter plus allgather done directly in the ranks' buffers: rank r
/// sums chunk r of every rank's buffer in rank order and writes the result back to every
/// buffer. Reads and writes of different ranks touch disjoint chunks, so two barriers suffice.
public final class InProcessGroup: @unchecked Sendable {
    public let size: Int
    private let lock = NSCondition()
    private var arrived = 0
    private var generation = 0
    private var slots: [UnsafeMutableRawPointer?]
    private var doubles: [[Double]]
    private var segment: SharedSegment?
    private(set) var abortMessage: String?
    private let finished = DispatchGroup()

    public init(size: Int) {
        precondition(size >= 1, "InProcessGroup needs at least one rank")
        self.size = size
        slots = Array(repeating: nil, count: size)
        doubles = Array(repeating: [], count: size)
    }

    /// The communicator of each rank.
    public lazy var communicators: [InProcessCommunicator] = (0..<size).map { InProcessCommunicator(group: self, rank: $0) }

    /// Runs `body(rank, communicator)` on `size` threads and waits for all of them. A rank
    /// that throws aborts the group; the first error is rethrown here.
    public func run(stackSize: Int = 16 << 20, _ body: @escaping @Sendable (Int, InProcessCommunicator) throws -> Void) throws {
        let errors = ErrorBox()
        for _ in 0..<size { finished.enter() }
        for r in 0..<size {
            let comm = communicators[r]
            let t = Thread {
                do { try BufferPool.$current.withValue(BufferPool()) { try body(r, comm) } } catch {
                    errors.set(error)
                    self.markAborted("rank \(r): \(error)")
                }
                self.finished.leave()
            }
            t.stackSize = stackSize
            t.name = "rank \(r)"
            t.start()
        }
        finished.wait()
        if let e = errors.first { throw e }
    }

    /// Waits for all ranks. When another rank has failed, this rank's thread ends here
    /// instead (it cannot continue a collective the failed rank will never join).
    func barrier() {
        lock.lock()
        let gen = generation
        arrived += 1
        if arrived == size {
            arrived = 0
            generation += 1
            lock.broadcast()
        } else {
            while gen == generation && abortMessage == nil { lock.wait() }
        }
        let aborted = abortMessage != nil && gen == generation
        lock.unlock()
        if aborted { leaveAborted() }
    }

    /// Ends the calling thread when a rank has failed (it would wait for that rank forever).
    func exitIfAborted() {
        lock.lock()
        let aborted = abortMessage != nil
        lock.unlock()
        if aborted { leaveAborted() }
    }

    private func leaveAborted() -> Never {
        finished.leave()
        Thread.exit()
        fatalError("Thread.exit returned")
    }

    func markAborted(_ message: String) {
        lock.lock()
        if abortMessage == nil { abortMessage = message }
        lock.broadcast()
        lock.unlock()
    }

    func publish(_ rank: Int, _ p: UnsafeMutableRawPointer) { lock.lock(); slots[rank] = p; lock.unlock() }
    func slot(_ rank: Int) -> UnsafeMutableRawPointer { lock.lock(); defer { lock.unlock() }; return slots[rank]! }
    func publish(_ segment: SharedSegment?) { lock.lock(); self.segment = segment; lock.unlock() }
    func sharedSegment() -> SharedSegment? { lock.lock(); defer { lock.unlock() }; return segment }
    func publish(_ rank: Int, doubles v: [Double]) { lock.lock(); doubles[rank] = v; lock.unlock() }
    func allDoubles() -> [[Double]] { lock.lock(); defer { lock.unlock() }; return doubles }
}

/// One rank's view of an `InProcessGroup`.
public final class InProcessCommunicator: Communicator, @unchecked Sendable {
    public let rank: Int
    public var size: Int { group.size }
    public var backend: String { "in-process" }
    public let monitor: CollectiveMonitor
    private unowned let group: InProcessGroup

    init(group: InProcessGroup, rank: Int) {
        self.group = group
        self.rank = rank
        monitor = CollectiveMonitor(rank: rank)
    }

    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) {
        guard size > 1 else { return }
        monitor.track(.allreduce, bytes: buffer.count * 4) { reduceScatterAllgather(buffer) }
    }

    private func reduceScatterAllgather(_ buffer: UnsafeMutableBufferPointer<Float>) {
        group.publish(rank, UnsafeMutableRawPointer(buffer.baseAddress!))
        group.barrier()
        let mine = chunkRange(buffer.count, rank: rank, of: size)
        if !mine.isEmpty {
            let ranks = (0..<size).map { group.slot($0).assumingMemoryBound(to: Float.self) }
            let n = mine.count
            let acc = UnsafeMutablePointer<Float>.allocate(capacity: n)
            defer { acc.deallocate() }
            acc.update(from: ranks[0] + mine.lowerBound, count: n)
            for r in 1..<size {
                let src = ranks[r] + mine.lowerBound
                for i in 0..<n { acc[i] += src[i] }
            }
            for r in 0..<size { (ranks[r] + mine.lowerBound).update(from: acc, count: n) }
        }
        group.barrier()
    }

    public func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int) {
        broadcast(bytes: UnsafeMutableRawBufferPointer(buffer), root: root)
    }

    public func broadcast(bytes: UnsafeMutableRawBufferPointer, root: Int) {
        guard size > 1 else { return }
        monitor.track(.broadcast, bytes: bytes.count) { copyFromRoot(bytes, root: root) }
    }

    private func copyFromRoot(_ bytes: UnsafeMutableRawBufferPointer, root: Int) {
        if rank == root, let base = bytes.baseAddress { group.publish(rank, base) }
        group.barrier()
        if rank != root, let dst = bytes.baseAddress { dst.copyMemory(from: group.slot(root), byteCount: bytes.count) }
        group.barrier()
    }

    public func allgather(_ values: [Double]) -> [[Double]] {
        guard size > 1 else { return [values] }
        return monitor.track(.allgather, bytes: values.count * 8) {
            group.publish(rank, doubles: values)
            group.barrier()
            let all = group.allDoubles()
            group.barrier()
            return all
        }
    }

    public func barrier() { monitor.track(.barrier, bytes: 0) { group.barrier() } }

    /// The ranks are threads: rank 0 allocates the block and every rank holds the same segment.
    public func mapSharedMemory(bytes: Int) -> SharedSegment? {
        guard size > 1, bytes > 0 else { return nil }
        if rank == 0 {
            let base = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            base.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
            let address = UInt(bitPattern: base)
            let group = group
            group.publish(SharedSegment(base: base, bytes: bytes,
                                        release: { UnsafeMutableRawPointer(bitPattern: address)?.deallocate() },
                                        onWaitTimeout: { group.exitIfAborted() }))
        }
        group.barrier()
        let segment = group.sharedSegment()
        group.barrier()
        if rank == 0 { group.publish(nil) }
        return segment
    }

    public func abort(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data("rank \(rank): \(message)\n".utf8))
        group.markAborted(message)
        exit(code)
    }
}

private final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var error: Error?
    func set(_ e: Error) { lock.lock(); if error == nil { error = e }; lock.unlock() }
    var first: Error? { lock.lock(); defer { lock.unlock() }; return error }
}

/// In-process ranks share memory: every rank's position is read directly.
extension InProcessGroup: PeerProbe {
    public func serve(_ mine: CollectiveMonitor.Position) {}

    public func collect(_ mine: CollectiveMonitor.Position, wait: Double) -> [CollectiveMonitor.Position?] {
        communicators.map { $0.monitor.position }
    }

    public func close() {}

    /// One watchdog for all the group's ranks; a stall ends the process (exit code 1) with the report.
    public func startStallWatchdog(timeout: Double) -> StallWatchdog {
        let comms = communicators
        return StallWatchdog(timeout: timeout, monitors: comms.map(\.monitor), probe: self) { stalled, report in
            comms[stalled.rank].abort(report, code: 1)
        }
    }
}
