import Foundation

/// A background thread that reduces gradient buckets in the order they are handed to it
/// (Horovod's background thread, PyTorch DDP's reducer). Backward enqueues a bucket the moment
/// its last gradient is final and goes on computing; `finish` blocks only for what has not yet
/// finished — the exposed communication time.
final class BucketReducer: BucketAveraging, @unchecked Sendable {
    private let average: (Int, Range<Int>) -> Void
    private let cond = NSCondition()
    private var queue: [(Int, Range<Int>)] = []
    private var inFlight = 0
    private var stopping = false
    private var timings: [BucketTiming] = []

    /// `average(bucket, range)` averages one bucket across ranks; it runs on the reducer's thread.
    init(average: @escaping (Int, Range<Int>) -> Void) {
        self.average = average
        // The thread keeps the reducer alive until `stop()` lets it finish; an unowned
        // reference would be read after deallocation when the owner goes away first.
        let t = Thread { self.loop() }
        t.name = "gradient reducer"
        t.start()
    }

    var onTrainingThread: Bool { false }

    func launch(_ bucket: Int, _ range: Range<Int>) {
        cond.lock()
        queue.append((bucket, range))
        inFlight += 1
        cond.broadcast()
        cond.unlock()
    }

    /// Waits until every enqueued bucket is reduced; returns their timings and clears them.
    func finish() -> (timings: [BucketTiming], duringBackward: Double) {
        cond.lock()
        while inFlight > 0 { cond.wait() }
        let t = timings
        timings.removeAll(keepingCapacity: true)
        cond.unlock()
        return (t, 0)
    }

    private func loop() {
        while true {
            cond.lock()
            while queue.isEmpty && !stopping { cond.wait() }
            if stopping && queue.isEmpty { cond.unlock(); return }
            let (bucket, range) = queue.removeFirst()
            cond.unlock()
            let start = monotonicSeconds()
            average(bucket, range)
            let end = monotonicSeconds()
            cond.lock()
            timings.append(BucketTiming(bucket: bucket, start: start, end: end))
            inFlight -= 1
            cond.broadcast()
            cond.unlock()
        }
    }

    /// Ends the thread (after the queue drains).
    func stop() {
        cond.lock()
        stopping = true
        cond.broadcast()
        cond.unlock()
    }
}

/// Seconds on a monotonic clock.
public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}
