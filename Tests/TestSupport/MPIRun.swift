import Foundation

/// Launches `mpirun` from tests: the run-as-root flags only when root, `--oversubscribe` when
/// asked, a private session directory per launch (parallel launches otherwise race on Open
/// MPI's session directory), one OpenBLAS thread per rank, and a hard time limit so a hung job
/// fails the test instead of the suite.
public enum MPIRun {
    public struct Result {
        public var exitCode: Int32
        public var stdout: String
        public var stderr: String
        public var timedOut: Bool
        public var seconds: Double
    }

    /// Directory holding the package's built executables (beside the test bundle).
    public static var productsDirectory: URL {
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            return bundle.bundleURL.deletingLastPathComponent()
        }
        return Bundle.main.bundleURL
    }

    public static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/mpirun") }

    public static func run(ranks: Int, executable: String, arguments: [String], oversubscribe: Bool = false,
                           environment extra: [String: String] = [:], timeout: Double = 120) throws -> Result {
        try run(apps: [(ranks, arguments)], executable: executable, oversubscribe: oversubscribe, environment: extra, timeout: timeout)
    }

    /// One job of several app contexts (`mpirun -np 1 exe args… : -np 1 exe other args…`): the
    /// ranks of each context, numbered in order, run `executable` with that context's arguments.
    public static func run(apps: [(ranks: Int, arguments: [String])], executable: String, oversubscribe: Bool = false,
                           environment extra: [String: String] = [:], timeout: Double = 120) throws -> Result {
        var args: [String] = []
        if getuid() == 0 { args.append("--allow-run-as-root") }
        if oversubscribe { args.append("--oversubscribe") }
        let sessionDir = FileManager.default.temporaryDirectory.appendingPathComponent("ompi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: sessionDir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: sessionDir) }
        var env = ProcessInfo.processInfo.environment
        env["OMPI_MCA_orte_tmpdir_base"] = sessionDir.path
        env["OPENBLAS_NUM_THREADS"] = "1"
        env["SWIFT_BACKTRACE"] = "enable=no"
        for (k, v) in extra { env[k] = v }
        for (k, _) in env where k.hasPrefix("OMPI_COMM_WORLD") || k.hasPrefix("PMIX_") { env[k] = nil }
        let forwarded = ["-x", "OPENBLAS_NUM_THREADS", "-x", "SWIFT_BACKTRACE"] + extra.keys.sorted().flatMap { ["-x", $0] }
        for (i, app) in apps.enumerated() {
            if i > 0 { args.append(":") }
            args += ["-np", "\(app.ranks)"] + forwarded + [productsDirectory.appendingPathComponent(executable).path] + app.arguments
        }
        return try runProcess("/usr/bin/mpirun", args, environment: env, timeout: timeout)
    }

    /// Runs a process with stdout and stderr captured through files (a chatty child cannot
    /// block on a full pipe), killing it after `timeout` seconds.
    public static func runProcess(_ path: String, _ args: [String], environment: [String: String]? = nil,
                                  timeout: Double) throws -> Result {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("stdout"), err = dir.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        if let environment { p.environment = environment }
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = try FileHandle(forWritingTo: err)
        let start = Date()
        try p.run()
        var timedOut = false
        while p.isRunning {
            if Date().timeIntervalSince(start) > timeout {
                timedOut = true
                p.terminate()
                Thread.sleep(forTimeInterval: 2)
                if p.isRunning { kill(p.processIdentifier, SIGKILL) }
                break
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        p.waitUntilExit()
        // Foundation's monitoring thread may still touch the Process after the exit is seen.
        defer { withExtendedLifetime(p) {} }
        return Result(exitCode: p.terminationStatus,
                      stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "",
                      timedOut: timedOut, seconds: Date().timeIntervalSince(start))
    }
}
