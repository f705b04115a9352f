import Comm
import Glibc

/// Epoch progress on standard output (rank 0's job): on a terminal, Keras' bar redrawn in
/// place with `\r` (at most every `redrawInterval` seconds) and finished with the epoch's time
/// and metrics; otherwise, as in a log file or under mpirun, a plain line every `plainEvery`
/// steps and one at the end of each epoch.
public final class ProgressReporter {
    public let epochs: Int
    public let stepsPerEpoch: Int
    public let interactive: Bool
    public let plainEvery: Int
    public var redrawInterval = 0.1
    private let output: (String) -> Void
    private let clock: () -> Double
    private var epoch = 0
    private var epochStart = 0.0
    private var lastDraw = -Double.infinity
    private var drawnWidth = 0

    /// Whether standard output is a terminal.
    public static var standardOutputIsTerminal: Bool { isatty(1) != 0 }

    /// Writes `text` to file descriptor 1 unbuffered, so a `\r` redraw shows at once.
    public static func writeStandardOutput(_ text: String) {
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { try? FileIO.writeAll(1, $0, path: "standard output") }
    }

    public init(epochs: Int, stepsPerEpoch: Int, interactive: Bool = ProgressReporter.standardOutputIsTerminal, plainEvery: Int = 100,
                output: @escaping (String) -> Void = ProgressReporter.writeStandardOutput, clock: @escaping () -> Double = monotonicSeconds) {
        precondition(plainEvery > 0, "plainEvery must be positive")
        self.epochs = epochs
        self.stepsPerEpoch = stepsPerEpoch
        self.interactive = interactive
        self.plainEvery = plainEvery
        self.output = output
        self.clock = clock
    }

    /// Starts epoch `epoch` (1-based).
    public func beginEpoch(_ epoch: Int) {
        self.epoch = epoch
        epochStart = clock()
        lastDraw = -.infinity
        drawnWidth = 0
        if interactive { output("Epoch \(epoch)/\(epochs)\n") }
    }

    /// Reports that `step` (1-based within the epoch) is done, with the running metrics.
    public func update(step: Int, metrics: ProgressFormat.Metrics, samplesPerSecond: Double) {
        let now = clock()
        if interactive {
            guard step == stepsPerEpoch || now - lastDraw >= redrawInterval else { return }
            lastDraw = now
            let eta = step > 0 ? (now - epochStart) / Double(step) * Double(stepsPerEpoch - step) : 0
            redraw(ProgressFormat.barLine(step: step, total: stepsPerEpoch, etaSeconds: eta, metrics: metrics))
        } else if step % plainEvery == 0 {
            output(ProgressFormat.plainLine(epoch: epoch, epochs: epochs, step: step, steps: stepsPerEpoch, metrics: metrics,
                                            samplesPerSecond: samplesPerSecond) + "\n")
        }
    }

    /// Ends the epoch with its final metrics (validation included).
    public func endEpoch(metrics: ProgressFormat.Metrics) {
        let seconds = clock() - epochStart
        if interactive {
            redraw(ProgressFormat.epochSummary(total: stepsPerEpoch, seconds: seconds, metrics: metrics))
            output("\n")
        } else {
            output(ProgressFormat.plainEpochSummary(epoch: epoch, epochs: epochs, seconds: seconds, metrics: metrics) + "\n")
        }
    }

    /// Overwrites the current terminal line, blanking what a longer previous line left.
    private func redraw(_ line: String) {
        output("\r" + line + String(repeating: " ", count: max(0, drawnWidth - line.count)))
        drawnWidth = line.count
    }
}

/// Writes a line to standard output unbuffered, in order with the progress output (Swift's
/// `print` is buffered separately when stdout is not a terminal).
public func say(_ line: String) {
    ProgressReporter.writeStandardOutput(line + "\n")
}
