import CMPI
import Foundation

/// The stall watchdog's side channel under MPI: a duplicate of the world communicator on which
/// every rank keeps one receive for a position query open. A stalled rank sends each other rank
/// a query and waits a bounded time for the replies; each rank's watchdog thread answers on its
/// next poll (the training thread may be computing, sleeping or stuck in a collective).
/// `MPI_THREAD_MULTIPLE` lets the watchdog thread do this beside the training thread.
final class MPIPeerProbe: PeerProbe, @unchecked Sendable {
    private static let queryTag: Int32 = 7001, replyTag: Int32 = 7002
    /// Room for a position: five 64-bit fields and the activity text.
    private static let replyBytes = 512
    private let rank: Int, size: Int
    private var side: MPI_Comm?
    private var query: MPI_Request?
    private let queryBuffer = UnsafeMutablePointer<Int64>.allocate(capacity: 1)
    private let replies: UnsafeMutablePointer<UInt8>

    /// Collective: every rank creates its probe at the same point.
    init(world: MPI_Comm, rank: Int, size: Int) {
        self.rank = rank
        self.size = size
        replies = .allocate(capacity: Self.replyBytes * size)
        replies.initialize(repeating: 0, count: Self.replyBytes * size)
        MPI_Comm_dup(world, &side)
        postQueryReceive()
    }

    deinit {
        queryBuffer.deallocate()
        replies.deallocate()
    }

    private func postQueryReceive() {
        MPI_Irecv(queryBuffer, 8, cmpi_uint8(), MPI_ANY_SOURCE, Self.queryTag, side, &query)
    }

    func serve(_ mine: CollectiveMonitor.Position) {
        var flag: Int32 = 0
        var status = MPI_Status()
        while true {
            MPI_Test(&query, &flag, &status)
            guard flag != 0 else { return }
            var bytes = Self.encode(mine)
            MPI_Send(&bytes, Int32(bytes.count), cmpi_uint8(), status.MPI_SOURCE, Self.replyTag, side)
            postQueryReceive()
        }
    }

    func collect(_ mine: CollectiveMonitor.Position, wait: Double) -> [CollectiveMonitor.Position?] {
        var positions = [CollectiveMonitor.Position?](repeating: nil, count: size)
        positions[rank] = mine
        var pending: [Int: MPI_Request?] = [:]
        var ask: Int64 = 1
        replies.update(repeating: 0, count: Self.replyBytes * size)
        for r in 0..<size where r != rank {
            var request: MPI_Request?
            MPI_Irecv(replies + r * Self.replyBytes, Int32(Self.replyBytes), cmpi_uint8(), Int32(r), Self.replyTag, side, &request)
            pending[r] = request
            MPI_Send(&ask, 8, cmpi_uint8(), Int32(r), Self.queryTag, side)
        }
        let deadline = monotonicSeconds() + wait
        while !pending.isEmpty && monotonicSeconds() < deadline {
            for r in pending.keys.sorted() {
                var flag: Int32 = 0
                MPI_Test(&pending[r]!, &flag, cmpi_status_ignore())
                if flag != 0 {
                    positions[r] = Self.decode(UnsafeBufferPointer(start: replies + r * Self.replyBytes, count: Self.replyBytes))
                    pending[r] = nil
                }
            }
            // Another stalled rank may be asking this one at the same time.
            serve(mine)
            usleep(5000)
        }
        return positions
    }

    func close() {
        MPI_Cancel(&query)
        MPI_Wait(&query, cmpi_status_ignore())
        MPI_Comm_free(&side)
    }

    static func encode(_ p: CollectiveMonitor.Position) -> [UInt8] {
        var out: [UInt8] = []
        for v in [Int64(p.rank), Int64(p.sequence), p.inside ? 1 : 0, Int64(bitPattern: p.seconds.bitPattern), Int64(p.step)] {
            withUnsafeBytes(of: v.littleEndian) { out += $0 }
        }
        out += p.activity.utf8.prefix(replyBytes - out.count)
        return out
    }

    static func decode(_ bytes: UnsafeBufferPointer<UInt8>) -> CollectiveMonitor.Position {
        func field(_ i: Int) -> Int64 {
            var v: Int64 = 0
            for k in 0..<8 { v |= Int64(bytes[i * 8 + k]) << (8 * k) }
            return v
        }
        let text = bytes[40...].prefix { $0 != 0 }
        return CollectiveMonitor.Position(rank: Int(field(0)), sequence: Int(field(1)), inside: field(2) != 0,
                                          seconds: Double(bitPattern: UInt64(bitPattern: field(3))), step: Int(field(4)),
                                          activity: String(decoding: text, as: UTF8.self))
    }
}

extension MPICommunicator {
    /// Starts this rank's stall watchdog (collective: every rank calls it at the same point).
    public func startStallWatchdog(timeout: Double) -> StallWatchdog {
        StallWatchdog(timeout: timeout, monitors: [monitor], probe: MPIPeerProbe(world: comm, rank: rank, size: size)) { [self] _, report in
            abort(report, code: 1)
        }
    }
}
