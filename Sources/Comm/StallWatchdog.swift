import Foundation

/// Finds out where the other ranks are when this one is stuck in a collective. Under MPI no
/// collective can run while one is stuck, so the MPI probe asks each rank point to point on a
/// separate communicator, and every rank's watchdog thread answers; in-process ranks share memory.
public protocol PeerProbe: AnyObject {
    /// Answers other ranks' queries; the watchdog thread calls it on every poll.
    func serve(_ mine: CollectiveMonitor.Position)
    /// Every rank's position, indexed by rank; nil for a rank that did not answer within `wait` seconds.
    func collect(_ mine: CollectiveMonitor.Position, wait: Double) -> [CollectiveMonitor.Position?]
    /// Releases what the probe holds; called on every rank at the same point of the run.
    func close()
}

/// A thread that aborts the job when a collective has not completed within `timeout` seconds,
/// after printing which collective it is (step, operation, bucket), where every rank is, and
/// which ranks are late — those that have not entered it (NCCL's timeout, Horovod's stall
/// inspector). Without it a rank that stops calling collectives (a hang, a dead peer the
/// launcher did not notice) leaves the others waiting forever.
public final class StallWatchdog: @unchecked Sendable {
    public let timeout: Double
    private let monitors: [CollectiveMonitor]
    private let probe: PeerProbe
    private let abort: @Sendable (CollectiveMonitor.Position, String) -> Void
    private let cond = NSCondition()
    private var stopping = false
    private let finished = DispatchSemaphore(value: 0)

    /// Watches `monitors` (this process's ranks) every `poll` seconds; `abort` ends the job
    /// with the report, on behalf of the stalled rank.
    public init(timeout: Double, monitors: [CollectiveMonitor], probe: PeerProbe,
         abort: @escaping @Sendable (CollectiveMonitor.Position, String) -> Void) {
        self.timeout = timeout
        self.monitors = monitors
        self.probe = probe
        self.abort = abort
        let t = Thread { self.loop() }
        t.name = "stall watchdog"
        t.start()
    }

    /// How often the thread looks: often enough to react within a quarter of the timeout, at
    /// most once a second (each look is a lock and, under MPI, one `MPI_Test`).
    var poll: Double { min(1, max(0.02, timeout / 4)) }

    private func loop() {
        defer { finished.signal() }
        while true {
            cond.lock()
            if !stopping { _ = cond.wait(until: Date(timeIntervalSinceNow: poll)) }
            let done = stopping
            cond.unlock()
            if done { return }
            probe.serve(monitors[0].position)
            for m in monitors {
                let p = m.position
                guard p.inside && p.seconds > timeout else { continue }
                let all = probe.collect(p, wait: min(2, max(0.5, timeout)))
                abort(p, StallWatchdog.report(stalled: p, positions: all, timeout: timeout))
                return
            }
        }
    }

    /// Ends the thread, then releases the probe. Call it on every rank before MPI ends.
    public func stop() {
        cond.lock()
        stopping = true
        cond.broadcast()
        cond.unlock()
        finished.wait()
        probe.close()
    }

    /// The message: the stalled collective, the late ranks, then one line per rank.
    public static func report(stalled s: CollectiveMonitor.Position, positions: [CollectiveMonitor.Position?], timeout: Double) -> String {
        var late: [Int] = [], ahead: [Int] = []
        var lines: [String] = []
        for (r, p) in positions.enumerated() {
            guard let p else {
                late.append(r)
                lines.append("  rank \(r): no answer (stopped, or not progressing MPI)")
                continue
            }
            if p.sequence < s.sequence { late.append(r) }
            if p.sequence > s.sequence { ahead.append(r) }
            let seconds = String(format: "%.1f s", p.seconds)
            if p.inside {
                lines.append("  rank \(r): step \(p.step), in collective #\(p.sequence) for \(seconds): \(p.activity)")
            } else {
                lines.append("  rank \(r): step \(p.step), not in a collective; left #\(p.sequence) (\(p.activity)) \(seconds) ago")
            }
        }
        var head = "stall: collective #\(s.sequence) at step \(s.step), \(s.activity), has not completed within "
            + "\(secondsText(timeout)) (parallel.stall_timeout_s, DDP_STALL_TIMEOUT); "
        if !late.isEmpty {
            head += "late: " + late.map { "rank \($0)" }.joined(separator: ", ") + " (not yet in collective #\(s.sequence))"
        } else if !ahead.isEmpty {
            head += "ranks issued collectives in different orders: " + ahead.map { "rank \($0)" }.joined(separator: ", ")
                + " already passed collective #\(s.sequence)"
        } else {
            head += "every rank is inside it, so the communication itself is stuck (network, dead peer)"
        }
        return ([head] + lines).joined(separator: "\n")
    }
}

/// Seconds as a message shows them: "300 s", "0.5 s".
private func secondsText(_ s: Double) -> String { s == s.rounded() ? "\(Int(s)) s" : "\(s) s" }
