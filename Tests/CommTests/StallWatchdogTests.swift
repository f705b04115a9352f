import Comm
import Foundation
import XCTest

/// The stall watchdog on in-process ranks (the MPI side channel is tested through `ddp` under
/// mpirun in `RuntimeReliabilityTests`): a rank that does not arrive at a collective is named.
final class StallWatchdogTests: XCTestCase {
    func testAStalledCollectiveIsReportedWithTheLateRankAndStep() throws {
        let group = InProcessGroup(size: 3)
        let reported = DispatchSemaphore(value: 0)
        let report = ResultBox<String>(count: 1)
        let watchdog = StallWatchdog(timeout: 0.1, monitors: group.communicators.map(\.monitor), probe: group) { _, text in
            report.set(0, text)
            reported.signal()
        }
        defer { watchdog.stop() }
        try group.run { rank, comm in
            comm.monitor.step = 7
            comm.monitor.setPhase("metrics")
            _ = comm.allgather([1])
            comm.monitor.setPhase("gradients", bucket: 1, of: 2)
            // Rank 2 arrives only once the others' wait has been reported: no timing involved.
            if rank == 2 { reported.wait() }
            var v: [Float] = [1, 2]
            v.withUnsafeMutableBufferPointer { comm.allreduceSum($0) }
        }
        let text = report.get(0)
        XCTAssertTrue(text.hasPrefix("stall: collective #2 at step 7, allreduce of 8 B (gradients, bucket 2 of 2)"), text)
        XCTAssertTrue(text.contains("late: rank 2 (not yet in collective #2)"), text)
        XCTAssertTrue(text.contains("rank 2: step 7, not in a collective; left #1 (allgather of 8 B (metrics))"), text)
    }

    func testReportNamesSilentRanksAndMismatchedOrders() {
        let stalled = CollectiveMonitor.Position(rank: 0, sequence: 5, inside: true, seconds: 2, step: 3, activity: "barrier of 0 B")
        let silent = StallWatchdog.report(stalled: stalled, positions: [stalled, nil], timeout: 1)
        XCTAssertTrue(silent.contains("late: rank 1"), silent)
        XCTAssertTrue(silent.contains("rank 1: no answer"), silent)
        let ahead = CollectiveMonitor.Position(rank: 1, sequence: 6, inside: true, seconds: 2, step: 3, activity: "allgather of 8 B")
        let mismatch = StallWatchdog.report(stalled: stalled, positions: [stalled, ahead], timeout: 1)
        XCTAssertTrue(mismatch.contains("different orders: rank 1 already passed collective #5"), mismatch)
        let same = StallWatchdog.report(stalled: stalled, positions: [stalled, stalled], timeout: 1)
        XCTAssertTrue(same.contains("every rank is inside it"), same)
    }
}
