import Comm
import Training

/// Writes `--timeline FILE`: every rank's events gathered to rank 0, which writes one Chrome
/// trace file (Perfetto, chrome://tracing) and says so on standard error. Collective.
func writeTimeline(_ timeline: Timeline, comm: Communicator, to path: String) throws {
    guard let count = try ChromeTrace.write(timeline, comm: comm, to: path) else { return }
    printError("ddp: timeline of \(count) events on \(comm.size) rank\(comm.size == 1 ? "" : "s") written to \(path)\n")
}
