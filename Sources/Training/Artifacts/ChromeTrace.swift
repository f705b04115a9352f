import Comm

/// The Chrome trace-event file of `--timeline FILE` (loads in Perfetto and chrome://tracing):
/// `{"traceEvents": [...]}` with one complete ("X") event per recorded span, one process per
/// rank (pid = rank, named "rank N") and one thread per lane (the training thread, each
/// network's gradient reducer). Allreduce events carry their bucket index and size in `args`.
/// Times are microseconds since the timeline's origin, which all ranks take after a barrier.
public enum ChromeTrace {
    /// Gathers every rank's events to rank 0, which writes them to `path`. Collective: every
    /// rank calls it. Returns the number of events written on rank 0, nil elsewhere.
    @discardableResult
    public static func write(_ timeline: Timeline, comm: Communicator, to path: String) throws -> Int? {
        guard let (ranks, dropped) = timeline.gather(comm) else { return nil }
        let text = json(ranks: ranks, networks: timeline.networks, lanes: timeline.lanes, dropped: dropped)
        try AtomicFile.write(Array(text.utf8), to: path)
        return ranks.reduce(0) { $0 + $1.count }
    }

    /// The file's text for `ranks[r]`'s events; network and lane indices refer to `networks` and `lanes`.
    public static func json(ranks: [[Timeline.Event]], networks: [String], lanes: [String], dropped: Int) -> String {
        var lines: [String] = []
        for (rank, events) in ranks.enumerated() {
            lines.append(metadata("process_name", pid: rank, tid: nil, name: "rank \(rank)"))
            lines.append("{\"name\":\"process_sort_index\",\"ph\":\"M\",\"pid\":\(rank),\"args\":{\"sort_index\":\(rank)}}")
            for lane in Set(events.map(\.lane)).sorted() {
                lines.append(metadata("thread_name", pid: rank, tid: lane, name: lane < lanes.count ? lanes[lane] : "lane \(lane)"))
            }
            for e in events.sorted(by: { ($0.lane, $0.start) < ($1.lane, $1.start) }) {
                lines.append(event(e, rank: rank, network: e.network < networks.count ? networks[e.network] : ""))
            }
        }
        return "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"dropped_events\":\(dropped)},\"traceEvents\":[\n"
            + lines.joined(separator: ",\n") + "\n]}\n"
    }

    static func event(_ e: Timeline.Event, rank: Int, network: String) -> String {
        var name = e.phase.name
        if e.phase == .allreduce { name += " bucket \(e.bucket)" }
        if !network.isEmpty { name = network + " " + name }
        // Whole nanoseconds, so a span nested in another stays inside it after rounding.
        let start = nanoseconds(e.start), end = nanoseconds(e.end)
        var s = "{\"name\":\(JSONText.string(name)),\"cat\":\(JSONText.string(network.isEmpty ? e.phase.name : network)),"
        s += "\"ph\":\"X\",\"ts\":\(microseconds(start)),\"dur\":\(microseconds(end - start)),\"pid\":\(rank),\"tid\":\(e.lane)"
        if e.bucket >= 0 { s += ",\"args\":{\"bucket\":\(e.bucket),\"bytes\":\(e.bytes)}" }
        return s + "}"
    }

    static func metadata(_ kind: String, pid: Int, tid: Int?, name: String) -> String {
        "{\"name\":\"\(kind)\",\"ph\":\"M\",\"pid\":\(pid)" + (tid.map { ",\"tid\":\($0)" } ?? "")
            + ",\"args\":{\"name\":\(JSONText.string(name))}}"
    }

    static func nanoseconds(_ seconds: Double) -> Int64 { Int64((seconds * 1e9).rounded()) }

    /// Nanoseconds as microseconds with three decimals ("-12.005").
    static func microseconds(_ ns: Int64) -> String {
        let magnitude = ns.magnitude
        let fraction = String(magnitude % 1000)
        return (ns < 0 ? "-" : "") + "\(magnitude / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}
