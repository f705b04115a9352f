import Foundation

/// A child process started by a test, its stdout and stderr captured through files (a chatty
/// child cannot block on a full pipe). Tests that act on a job while it runs (kill one rank)
/// start it, watch it, then `wait`.
public final class RunningProcess {
    public let process = Process()
    private let directory: URL
    private let cleanUp: [URL]
    private let start = Date()

    public init(_ path: String, _ args: [String], environment: [String: String]? = nil, cleanUp: [URL] = []) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("run-\(UUID().uuidString)")
        self.cleanUp = cleanUp + [directory]
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = args
        if let environment { process.environment = environment }
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        try process.run()
    }

    deinit { for url in cleanUp { try? FileManager.default.removeItem(at: url) } }

    private var stdoutURL: URL { directory.appendingPathComponent("stdout") }
    private var stderrURL: URL { directory.appendingPathComponent("stderr") }

    public var isRunning: Bool { process.isRunning }
    public var stdout: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
    public var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

    /// Polls `condition` every 20 ms until it holds (true) or `timeout` seconds pass or the
    /// process ends (false).
    public func waitUntil(timeout: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            if !process.isRunning { return condition() }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return false
    }

    /// Waits for the end, killing the process after `timeout` seconds (from its start).
    public func wait(timeout: Double) -> MPIRun.Result {
        var timedOut = false
        while process.isRunning {
            if Date().timeIntervalSince(start) > timeout {
                timedOut = true
                process.terminate()
                Thread.sleep(forTimeInterval: 2)
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                break
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        process.waitUntilExit()
        // Foundation's monitoring thread may still touch the Process after the exit is seen.
        defer { withExtendedLifetime(process) {} }
        return MPIRun.Result(exitCode: process.terminationStatus, stdout: stdout, stderr: stderr, timedOut: timedOut,
                             seconds: Date().timeIntervalSince(start))
    }

    /// Direct children of the process with their environment: under `mpirun`, its ranks.
    public func children() -> [(pid: pid_t, environment: [String: String])] {
        let me = process.processIdentifier
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { name -> (pid_t, [String: String])? in
            guard let pid = pid_t(name), let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            // Fields after "(command)": state, then the parent's pid.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 1, pid_t(fields[1]) == me,
                  let raw = FileManager.default.contents(atPath: "/proc/\(name)/environ") else { return nil }
            var env: [String: String] = [:]
            for entry in raw.split(separator: 0) {
                let text = String(decoding: entry, as: UTF8.self)
                if let eq = text.firstIndex(of: "=") { env[String(text[..<eq])] = String(text[text.index(after: eq)...]) }
            }
            return (pid, env)
        }
    }

    /// The pid of MPI rank `rank` among the children, once it has started.
    public func rankPid(_ rank: Int) -> pid_t? {
        children().first { $0.environment["OMPI_COMM_WORLD_RANK"] == "\(rank)" }?.pid
    }
}
