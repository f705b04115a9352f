// The `ddp` command line: a dispatcher from the first argument to a subcommand.

#if canImport(Glibc)
import Glibc
#endif

let usage = """
usage: ddp <command> [options]

commands:
  bench     time one training step of the seed CNN against single-thread sgemm
            options: --threads N (OpenBLAS threads, default 1), --batch B (default 64),
                     --steps S (timed steps, default 30), --warmup W (default 3),
                     --breakdown (also time each layer's forward and backward alone)
  --help    show this message
"""

/// A usage error: printed with the usage text, exit code 2.
struct UsageError: Error, CustomStringConvertible {
    let description: String
}

/// Writes to standard error (file descriptor 2; the C `stderr` global is not concurrency-safe).
func printError(_ message: String) {
    var text = message
    text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

let arguments = Array(CommandLine.arguments.dropFirst())
do {
    switch arguments.first {
    case nil, "--help", "-h", "help":
        print(usage)
    case "bench":
        try Bench(arguments: Array(arguments.dropFirst())).run()
    case let command?:
        throw UsageError(description: "unknown command '\(command)'")
    }
} catch let error as UsageError {
    printError("ddp: \(error)\n\n\(usage)\n")
    exit(2)
} catch {
    printError("ddp: \(error)\n")
    exit(1)
}
