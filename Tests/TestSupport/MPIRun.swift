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

    /// One application context of an `mpirun` command line: `-np ranks executable arguments`.
    /// Several, joined by `:`, give ranks different arguments (MPMD).
    public struct App {
        public var ranks: Int
        public var executable: String
        public var arguments: [String]
        public init(ranks: Int, executable: String, arguments: [String]) {
            self.ranks = ranks
            self.executable = executable
            self.arguments = arguments
        }
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
        try start([App(ranks: ranks, executable: executable, arguments: arguments)], oversubscribe: oversubscribe,
                  environment: extra).wait(timeout: timeout)
    }

    /// One job of several app contexts (`mpirun -np 1 exe args… : -np 1 exe other args…`) of
    /// the same executable: the ranks of each context, numbered in order, get that context's arguments.
    public static func run(apps: [(ranks: Int, arguments: [String])], executable: String, oversubscribe: Bool = false,
                           environment extra: [String: String] = [:], timeout: Double = 120) throws -> Result {
        try start(apps.map { App(ranks: $0.ranks, executable: executable, arguments: $0.arguments) }, oversubscribe: oversubscribe,
                  environment: extra).wait(timeout: timeout)
    }

    /// Starts `mpirun` with `apps` and returns at once; `wait` collects the result.
    public static func start(_ apps: [App], oversubscribe: Bool = false, environment extra: [String: String] = [:]) throws -> RunningProcess {
        var args: [String] = []
        if getuid() == 0 { args.append("--allow-run-as-root") }
        if oversubscribe { args.append("--oversubscribe") }
        let sessionDir = FileManager.default.temporaryDirectory.appendingPathComponent("ompi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: sessionDir, withIntermediateDirectories: true)
        var env = ProcessInfo.processInfo.environment
        env["OMPI_MCA_orte_tmpdir_base"] = sessionDir.path
        env["OPENBLAS_NUM_THREADS"] = "1"
        env["SWIFT_BACKTRACE"] = "enable=no"
        for (k, v) in extra { env[k] = v }
        for (k, _) in env where k.hasPrefix("OMPI_COMM_WORLD") || k.hasPrefix("PMIX_") { env[k] = nil }
        args += ["-x", "OPENBLAS_NUM_THREADS", "-x", "SWIFT_BACKTRACE"] + extra.keys.sorted().flatMap { ["-x", $0] }
        for (i, app) in apps.enumerated() {
            if i > 0 { args.append(":") }
            args += ["-np", "\(app.ranks)", productsDirectory.appendingPathComponent(app.executable).path] + app.arguments
        }
        return try RunningProcess("/usr/bin/mpirun", args, environment: env, cleanUp: [sessionDir])
    }

    /// Runs a process with stdout and stderr captured through files (a chatty child cannot
    /// block on a full pipe), killing it after `timeout` seconds.
    public static func runProcess(_ path: String, _ args: [String], environment: [String: String]? = nil,
                                  timeout: Double) throws -> Result {
        try RunningProcess(path, args, environment: environment).wait(timeout: timeout)
    }
}
