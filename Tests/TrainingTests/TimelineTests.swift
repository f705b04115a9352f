import Comm
import Foundation
import Scenarios
import Training
import XCTest

/// `--timeline`: every rank's spans, gathered to rank 0 and written as Chrome trace-event JSON.
final class TimelineTests: XCTestCase {
    /// A complete ("X") event of a parsed trace, times in nanoseconds.
    struct Span {
        var name: String, pid: Int, tid: Int, start: Int64, end: Int64, args: [String: Any]?
    }

    /// Trains `scenario` on in-process ranks with a timeline and returns the parsed trace
    /// (events and metadata records) that rank 0 produced.
    func trace(_ scenario: Scenario, ranks: Int = 2, steps: Int = 3, overlap: Bool = true,
               sharedMemory: Bool = true) throws -> [[String: Any]] {
        let text = Collected<String>(count: 1)
        try InProcessGroup(size: ranks).run { _, comm in
            let timeline = Timeline.synchronized(comm)
            _ = try scenario.run(comm: comm, perRankBatch: 3, steps: steps, overlap: overlap, sharedMemory: sharedMemory,
                                 timeline: timeline)
            if let (events, dropped) = timeline.gather(comm) {
                text.set(0, ChromeTrace.json(ranks: events, networks: timeline.networks, lanes: timeline.lanes, dropped: dropped))
            }
        }
        let object = try JSONSerialization.jsonObject(with: Data(text.get(0).utf8))
        let events = try XCTUnwrap((object as? [String: Any])?["traceEvents"] as? [[String: Any]], "no traceEvents array")
        return events
    }

    func spans(_ records: [[String: Any]]) throws -> [Span] {
        try records.filter { $0["ph"] as? String == "X" }.map { r in
            let ts = try XCTUnwrap(r["ts"] as? Double), dur = try XCTUnwrap(r["dur"] as? Double)
            let start = Int64((ts * 1000).rounded())
            return Span(name: try XCTUnwrap(r["name"] as? String), pid: try XCTUnwrap(r["pid"] as? Int),
                        tid: try XCTUnwrap(r["tid"] as? Int), start: start, end: start + Int64((dur * 1000).rounded()),
                        args: r["args"] as? [String: Any])
        }
    }

    /// Spans on one thread either nest or are disjoint; returns the first pair that overlaps partly.
    func firstPartialOverlap(_ spans: [Span]) -> (Span, Span)? {
        var open: [Span] = []
        for s in spans.sorted(by: { ($0.start, -$0.end) < ($1.start, -$1.end) }) {
            while let top = open.last, top.end <= s.start { open.removeLast() }
            if let top = open.last, s.end > top.end { return (top, s) }
            open.append(s)
        }
        return nil
    }

    /// With averaging in shared memory the reductions run on the training thread, inside the
    /// update that averages them; through the communicator, on the reducer thread's lane.
    func testTwoRankTraceIsValidJSONWithOnePidPerRankNestedSpansAndEveryBucket() throws {
        for sharedMemory in [true, false] { try checkTwoRankTrace(sharedMemory: sharedMemory) }
    }

    func checkTwoRankTrace(sharedMemory: Bool) throws {
        let steps = 3
        let records = try trace(.cnn, steps: steps, sharedMemory: sharedMemory)
        let all = try spans(records)
        XCTAssertEqual(Set(all.map(\.pid)), [0, 1], "one pid per rank")
        for pid in [0, 1] {
            let names = records.filter { $0["ph"] as? String == "M" && $0["pid"] as? Int == pid }
                .compactMap { ($0["args"] as? [String: Any])?["name"] as? String }
            XCTAssertTrue(names.contains("rank \(pid)") && names.contains("training"), "\(names)")
            XCTAssertEqual(names.contains("gradient reducer"), !sharedMemory, "\(names)")

            let mine = all.filter { $0.pid == pid }
            for tid in Set(mine.map(\.tid)) {
                if let (a, b) = firstPartialOverlap(mine.filter { $0.tid == tid }) {
                    XCTFail("rank \(pid) lane \(tid): \(a.name) [\(a.start), \(a.end)] and \(b.name) [\(b.start), \(b.end)] overlap without nesting")
                }
            }
            let main = mine.filter { $0.tid == 0 }
            for phase in ["step", "forward", "backward", "wait for allreduce", "optimizer", "metrics"] {
                XCTAssertEqual(main.filter { $0.name == phase }.count, steps, "rank \(pid): \(phase) spans")
            }
            let stepSpans = main.filter { $0.name == "step" }
            for phase in ["forward", "backward", "optimizer"] {
                for s in main where s.name == phase {
                    XCTAssertTrue(stepSpans.contains { $0.start <= s.start && s.end <= $0.end }, "rank \(pid): \(phase) outside every step")
                }
            }

            // The tiny buckets of the scenario: several per step, each reduced once per step on
            // its lane, inside its step, with its index and size.
            let reductions = mine.filter { $0.name.hasPrefix("allreduce") }
            if sharedMemory {
                // Adam's sharded update averages each bucket's chunk in its own pass.
                let phases = main.filter { $0.name == "optimizer" }
                for r in reductions {
                    XCTAssertEqual(r.tid, 0, "shared-memory averaging runs on the training thread")
                    XCTAssertTrue(phases.contains { $0.start <= r.start && r.end <= $0.end }, "\(r.name) outside the update")
                }
            } else {
                XCTAssertTrue(reductions.allSatisfy { $0.tid != 0 }, "overlapped reductions belong on the reducer lane")
            }
            let buckets = reductions.compactMap { $0.args?["bucket"] as? Int }
            XCTAssertEqual(buckets.count, reductions.count, "every allreduce names its bucket")
            let count = (buckets.max() ?? -1) + 1
            XCTAssertGreaterThan(count, 1, "expected several buckets")
            for b in 0..<count { XCTAssertEqual(buckets.filter { $0 == b }.count, steps, "rank \(pid): bucket \(b)") }
            XCTAssertTrue(reductions.allSatisfy { ($0.args?["bytes"] as? Int ?? 0) > 0 })
            for r in reductions {
                XCTAssertTrue(stepSpans.contains { $0.start <= r.start && r.end <= $0.end }, "rank \(pid): \(r.name) outside every step")
            }
        }
    }

    func testGANTraceShowsBothNetworksAndTheirReducers() throws {
        let records = try trace(.gan, steps: 2, sharedMemory: false)
        let all = try spans(records)
        let names = Set(all.filter { $0.pid == 1 }.map(\.name))
        for name in ["step", "generator generate fakes", "discriminator forward", "discriminator backward",
                     "discriminator wait for allreduce", "discriminator optimizer", "generator forward",
                     "generator backward", "generator wait for allreduce", "generator optimizer"] {
            XCTAssertTrue(names.contains(name), "missing \(name) in \(names.sorted())")
        }
        let lanes = records.filter { $0["name"] as? String == "thread_name" && $0["pid"] as? Int == 0 }
            .compactMap { ($0["args"] as? [String: Any])?["name"] as? String }
        XCTAssertEqual(Set(lanes), ["training", "discriminator reducer", "generator reducer"])
        XCTAssertTrue(all.contains { $0.name.hasPrefix("generator allreduce bucket") && $0.tid != 0 })
        XCTAssertTrue(all.contains { $0.name.hasPrefix("discriminator allreduce bucket") && $0.tid != 0 })
    }

    func testSequentialReductionRecordsBucketsInsideTheWaitOnTheTrainingLane() throws {
        let all = try spans(try trace(.cnn, steps: 2, overlap: false))
        let waits = all.filter { $0.name == "wait for allreduce" }
        let reductions = all.filter { $0.name.hasPrefix("allreduce") }
        XCTAssertFalse(reductions.isEmpty)
        for r in reductions {
            XCTAssertEqual(r.tid, 0)
            XCTAssertTrue(waits.contains { $0.pid == r.pid && $0.start <= r.start && r.end <= $0.end }, "\(r.name) outside the wait")
        }
    }

    func testTimesAreMicrosecondsSinceTheOriginAndEventsBeyondTheCapacityAreCounted() throws {
        let timeline = Timeline(rank: 0, origin: 10, capacity: 2)
        let lane = timeline.lane("gradient reducer")
        timeline.record(.allreduce, lane: lane, start: 10 - 12.005e-6, end: 10 + 0.5e-6, bucket: 3, bytes: 4096)
        timeline.record(.allreduce, lane: lane, start: 10.001, end: 10.002, bucket: 4, bytes: 8)
        timeline.record(.allreduce, lane: lane, start: 10.003, end: 10.004, bucket: 5, bytes: 8)
        XCTAssertEqual(timeline.events.count, 2)
        XCTAssertEqual(timeline.dropped, 1)
        let text = ChromeTrace.json(ranks: [timeline.events], networks: timeline.networks, lanes: timeline.lanes, dropped: 1)
        XCTAssertTrue(text.contains("\"ts\":-12.005,\"dur\":12.505,"), text)
        XCTAssertTrue(text.contains("\"args\":{\"bucket\":3,\"bytes\":4096}"), text)
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        XCTAssertEqual((object?["otherData"] as? [String: Any])?["dropped_events"] as? Int, 1)
    }

    func testEndWithoutBeginIsIgnoredAndSpansCloseInnermostFirst() {
        let timeline = Timeline(rank: 0)
        timeline.end()
        timeline.begin(.step)
        timeline.begin(.forward)
        timeline.end()
        timeline.end()
        XCTAssertEqual(timeline.events.map(\.phase), [.forward, .step])
        XCTAssertLessThanOrEqual(timeline.events[1].start, timeline.events[0].start)
        XCTAssertGreaterThanOrEqual(timeline.events[1].end, timeline.events[0].end)
    }
}
