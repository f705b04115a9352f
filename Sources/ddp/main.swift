// The `ddp` command line: a dispatcher from the first argument to a subcommand.

#if canImport(Glibc)
import Glibc
#endif
import Comm

let usage = """
usage: ddp <command> [options]

commands:
  train     train a job: ddp train CONFIG [--set key=value ...] [--data-dir DIR] [--out DIR] [--ranks N] [--resume CKPT] [--timeline FILE]
  summary   model table, parameter count and FLOPs per sample: ddp summary CONFIG
  eval      held-out metrics of a checkpoint: ddp eval CONFIG --checkpoint PATH
  sample    generated images (GAN) or text (language model): ddp sample CONFIG --checkpoint PATH
  bench     time full training steps of the job models (CNN, Transformer, GAN) at the peer-benchmark shapes
  help      this message; `ddp <command> --help` describes a command
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

#if DDP_REQUIRES_AVX2
CPUCheck.requireAVX2()
#endif
let arguments = Array(CommandLine.arguments.dropFirst())
let commands: [String: (usage: String, run: ([String]) throws -> Void)] = [
    "train": (TrainCommand.usage, { try TrainCommand(arguments: $0).run() }),
    "summary": (SummaryCommand.usage, { try SummaryCommand(arguments: $0).run() }),
    "eval": (EvalCommand.usage, { try EvalCommand(arguments: $0).run() }),
    "sample": (SampleCommand.usage, { try SampleCommand(arguments: $0).run() }),
    "bench": (Bench.usage, { try Bench(arguments: $0).run() }),
]
var commandUsage = usage
do {
    switch arguments.first {
    case nil, "--help", "-h", "help":
        print(usage)
    case let name? where commands[name] != nil:
        let command = commands[name]!
        commandUsage = command.usage
        let rest = Array(arguments.dropFirst())
        if rest.contains("--help") || rest.contains("-h") {
            print(command.usage)
        } else {
            try command.run(rest)
        }
    case let name?:
        throw UsageError(description: "unknown command '\(name)'")
    }
} catch {
    // Errors that get here under a launcher come before MPI starts, from the command line,
    // which is the same on every rank: rank 0 alone reports them.
    let (message, code) = describe(error)
    if LaunchEnvironment().rank != 0 { exit(code) }
    printError(error is UsageError ? "ddp: \(error)\n\n\(commandUsage)\n" : "ddp: \(message)\n")
    exit(code)
}
