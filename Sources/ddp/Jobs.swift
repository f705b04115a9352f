import Autograd
import Comm
import Datasets
import Foundation
import NN
import TensorCore
import Training

/// Runs `body` on every rank of the job: under an MPI launcher (mpirun, srun) on this process's
/// MPI rank; otherwise on `ranks` in-process threads (the single-node debug mode). `setup`
/// (reading the config and the data, building the model: whatever bad input can fail) runs
/// first on every rank and must issue no collective; under MPI its failure is reported once and
/// ends every rank cleanly (see `agreeOnSetup`). An error in `body` on any rank ends every rank:
/// MPI_Abort under MPI, the group's abort in-process. With several ranks, a stall watchdog
/// aborts the job when a collective does not complete within `stallTimeout(setup)` seconds
/// (or `DDP_STALL_TIMEOUT`).
func runOnRanks<Setup>(ranks: Int?, setup: @escaping @Sendable () throws -> Setup,
                       stallTimeout: @escaping @Sendable (Setup) -> Double? = { _ in nil },
                       _ body: @escaping @Sendable (Setup, Communicator) throws -> Void) throws {
    let launch = LaunchEnvironment()
    let override = try stallTimeoutOverride()
    if launch.isDistributed {
        if let ranks, ranks != launch.size {
            throw UsageError(description: "--ranks \(ranks) conflicts with the \(launch.size) ranks started by \(launch.launcher!); drop --ranks under mpirun/srun")
        }
        BLAS.threads = launch.blasThreads()
        let comm = MPICommunicator.initialize()
        let prepared = agreeOnSetup(comm, setup)
        let timeout = stallTimeoutSetting(configured: stallTimeout(prepared), override: override)
        let watchdog = comm.size > 1 ? timeout.map { comm.startStallWatchdog(timeout: $0) } : nil
        do {
            try body(prepared, comm)
        } catch {
            let (message, code) = describe(error)
            comm.abort(message, code: code)
        }
        watchdog?.stop()
        comm.finalize()
    } else {
        let n = ranks ?? 1
        let env = ProcessInfo.processInfo.environment
        if env["OPENBLAS_NUM_THREADS"] == nil { BLAS.threads = n > 1 ? 1 : ProcessInfo.processInfo.activeProcessorCount }
        let group = InProcessGroup(size: n)
        let watchdog = WatchdogSlot()
        defer { watchdog.stop() }
        try group.run { rank, comm in
            let prepared = try setup()
            // Every rank reads the same configuration; rank 0 starts the one watchdog of the group.
            if rank == 0, n > 1, let t = stallTimeoutSetting(configured: stallTimeout(prepared), override: override) {
                watchdog.set(group.startStallWatchdog(timeout: t))
            }
            try body(prepared, comm)
        }
    }
}

func runOnRanks(ranks: Int?, _ body: @escaping @Sendable (Communicator) throws -> Void) throws {
    try runOnRanks(ranks: ranks, setup: {}) { _, comm in try body(comm) }
}

/// The in-process group's watchdog, started from a rank's thread and stopped by the caller.
private final class WatchdogSlot: @unchecked Sendable {
    private let lock = NSLock()
    private var watchdog: StallWatchdog?
    func set(_ w: StallWatchdog) { lock.withLock { watchdog = w } }
    func stop() { lock.withLock { watchdog?.stop() } }
}

/// `DDP_STALL_TIMEOUT` in seconds when set (0: no watchdog); a malformed value is a usage error.
func stallTimeoutOverride(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Double? {
    guard let text = environment["DDP_STALL_TIMEOUT"] else { return nil }
    guard let v = Double(text), v >= 0, v.isFinite else {
        throw UsageError(description: "DDP_STALL_TIMEOUT: expected seconds ≥ 0 (0: no watchdog), found \"\(text)\"")
    }
    return v
}

/// The stall timeout in seconds, nil for none: the environment's override when set, else the
/// configured value; 0 turns the watchdog off.
func stallTimeoutSetting(configured: Double?, override: Double?) -> Double? {
    guard let seconds = override ?? configured, seconds > 0 else { return nil }
    return seconds
}

/// The message and exit code for an error: 2 for what the user can fix in the command, the
/// configuration, the data or the checkpoint they named (corrupt, or of another model); 1 for
/// failures at run time (including I/O errors while writing artifacts).
func describe(_ error: Error) -> (String, Int32) {
    switch error {
    case let e as UsageError: return ("usage: \(e)", 2)
    case is ConfigError, is DataError, is DatasetNotFound, is ShapeError: return ("\(error)", 2)
    case let e as ArtifactError where e.kind != .io: return ("\(error)", 2)
    default: return ("\(error)", 1)
    }
}

struct TrainCommand {
    static let usage = """
    usage: ddp train CONFIG [--set key.path=value ...] [--data-dir DIR] [--out DIR] [--ranks N] [--resume CHECKPOINT]
                     [--timeline FILE]

    Trains the job described by CONFIG. Under mpirun/srun every rank runs this same command;
    without a launcher, --ranks N runs N in-process ranks (the single-node debug mode, no MPI).
      --set key.path=value   override a config value (repeatable), e.g. --set training.epochs=1
      --data-dir DIR         where the data sets are (else data.dir, DDP_DATA_DIR, ../shared/data)
      --out DIR              output directory (else output.dir, default runs/<name>)
      --ranks N              in-process ranks when not started by mpirun (default 1)
      --resume CHECKPOINT    continue exactly where CHECKPOINT stopped (same config and ranks)
      --timeline FILE        write a Chrome trace (Perfetto, chrome://tracing) of every rank's steps:
                             forward, backward, each bucket's allreduce, the wait for it, the
                             optimizer update, evaluation and checkpoints
    """

    let options: Options

    init(arguments: [String]) throws {
        options = try Options(arguments, known: ["set", "data-dir", "out", "ranks", "resume", "timeline"])
    }

    func run() throws {
        let path = try options.positionals(["CONFIG"])[0]
        let overrides = options.all("set")
        let ranks = try options.value("ranks").map { _ in try options.positiveInt("ranks", default: 1) }
        let dataDir = options.value("data-dir"), out = options.value("out"), resume = options.value("resume")
        let timelinePath = options.value("timeline")
        try runOnRanks(ranks: ranks, setup: {
            try JobFactory.prepare(JobConfig.load(path: path, overrides: overrides), dataDirectory: dataDir)
        }, stallTimeout: { $0.config.parallel.stallTimeoutSeconds }) { job, comm in
            let config = job.config, workload = try job.workload(comm: comm)
            let timeline = timelinePath.map { _ in Timeline.synchronized(comm) }
            workload.timeline = timeline
            let settings = JobFactory.runSettings(config, outputDirectory: out)
            if comm.rank == 0 {
                try FileManager.default.createDirectory(atPath: settings.outputDirectory, withIntermediateDirectories: true)
                try Data((config.canonicalJSON + "\n").utf8).write(to: URL(fileURLWithPath: settings.outputDirectory + "/config.json"))
                say("\(config.name): \(config.task.rawValue) on \(config.data.dataset.rawValue), \(comm.size) rank\(comm.size == 1 ? "" : "s") (\(comm.backend)), batch \(config.training.batchSize) per rank, output \(settings.outputDirectory)")
            }
            _ = try TrainingLoop(workload: workload, settings: settings).run(resume: resume)
            try (workload as? TranslationWorkload)?.reportTest(outputDirectory: settings.outputDirectory, name: config.name)
            if let timeline, let timelinePath { try writeTimeline(timeline, comm: comm, to: timelinePath) }
        }
    }
}

struct SummaryCommand {
    static let usage = """
    usage: ddp summary CONFIG [--set key.path=value ...] [--data-dir DIR]

    Prints the model table (layers, output shapes, parameters), the parameter count and the
    forward FLOPs per sample (2 × multiply-adds of the matrix products and convolutions).
    """

    let options: Options
    init(arguments: [String]) throws { options = try Options(arguments, known: ["set", "data-dir"]) }

    func run() throws {
        let config = try JobConfig.load(path: try options.positionals(["CONFIG"])[0], overrides: options.all("set"))
        func show(_ title: String, _ m: Sequential) {
            say(m.summary())
            say("\(title)forward FLOPs per sample: \(formatCount(2 * m.forwardMultiplyAdds()))\n")
        }
        switch config.task {
        case .gan:
            let (g, d) = try config.buildGAN()
            g.name = "generator"
            d.name = "discriminator"
            show("generator ", g)
            show("discriminator ", d)
            say("Total params (both networks): \(formatCount(g.parameterCount + d.parameterCount))")
        case .languageModel:
            let dir = try JobFactory.dataDirectory(config, explicit: options.value("data-dir"))
            let corpus = try TextCorpus(contentsOf: DataFile.join(dir, "input.txt"))
            show("", try config.buildModel(vocabularySize: corpus.vocabulary.count))
        case .classification:
            show("", try config.buildModel())
        case .binaryClassification, .nodeClassification:
            show("", try JobFactory.dataShapedModel(config, dataDirectory: options.value("data-dir")))
        case .translation:
            let dir = try JobFactory.dataDirectory(config, explicit: options.value("data-dir"))
            let data = try config.loadTranslationData(from: dir)
            let model = try config.buildTranslationModel(data)
            say("sets: \(data.train.count) training, \(data.validation.count) validation, \(data.test.count) test pairs; vocabularies: \(data.sourceVocabulary.count) source, \(data.targetVocabulary.count) target words")
            for layer in model.sublayers { say("\(layer.name.padding(toLength: 24, withPad: " ", startingAt: 0)) \(layer.typeName.padding(toLength: 26, withPad: " ", startingAt: 0)) \(formatCount(layer.parameterCount))") }
            say("Total params: \(formatCount(model.parameterCount))")
        }
    }
}

struct EvalCommand {
    static let usage = """
    usage: ddp eval CONFIG --checkpoint PATH [--set key.path=value ...] [--data-dir DIR] [--ranks N]

    Loads the checkpoint and prints the held-out metrics (test set, or the validation split;
    for translation the test set, with BLEU).
    """

    let options: Options
    init(arguments: [String]) throws { options = try Options(arguments, known: ["set", "data-dir", "checkpoint", "ranks"]) }

    func run() throws {
        let configPath = try options.positionals(["CONFIG"])[0], overrides = options.all("set")
        guard let path = options.value("checkpoint") else { throw UsageError(description: "ddp eval needs --checkpoint PATH") }
        let ranks = try options.value("ranks").map { _ in try options.positiveInt("ranks", default: 1) }
        let dataDir = options.value("data-dir")
        try runOnRanks(ranks: ranks, setup: {
            try JobFactory.prepare(JobConfig.load(path: configPath, overrides: overrides), dataDirectory: dataDir)
        }, stallTimeout: { $0.config.parallel.stallTimeoutSeconds }) { job, comm in
            let config = job.config, workload = try job.workload(comm: comm)
            let checkpoint = try Checkpoint(contentsOf: path)
            for n in workload.networks { try checkpoint.restore(n.parameters, optimizer: nil, prefix: n.prefix) }
            (workload as? TranslationWorkload)?.evaluationSet = .test
            guard let e = workload.evaluate() else {
                throw UsageError(description: "task \(config.task.rawValue) has no held-out metrics; use ddp sample")
            }
            if comm.rank == 0 {
                var line = "\(config.name): \(e.samples) samples, loss \(ProgressFormat.value(e.loss))"
                for m in e.metrics { line += ", \(m.name) \(ProgressFormat.value(m.value))" }
                say(line)
            }
        }
    }
}

struct SampleCommand {
    static let usage = """
    usage: ddp sample CONFIG --checkpoint PATH [--out FILE] [--seed S] [--length N] [--set key.path=value ...]
                      [--data-dir DIR] [--rate-with CLASSIFIER_CONFIG --classifier-checkpoint PATH [--count N]]

    GAN: writes an 8x8 PNG grid of generated images (default samples.png). With --rate-with, a
    classifier trained by the project (e.g. configs/cnn_mnist.json) rates --count generated
    images (default 1000): the share it classifies with probability ≥ 0.9 and the classes seen.
    Language model: prints --length generated characters (default 500).
    Translation: prints the greedy translations of the first --count test sentences (default 20).
    """

    let options: Options
    init(arguments: [String]) throws {
        options = try Options(arguments, known: ["set", "data-dir", "checkpoint", "out", "seed", "length", "rate-with",
                                                 "classifier-checkpoint", "count"])
    }

    func run() throws {
        let config = try JobConfig.load(path: try options.positionals(["CONFIG"])[0], overrides: options.all("set"))
        guard let path = options.value("checkpoint") else { throw UsageError(description: "ddp sample needs --checkpoint PATH") }
        let out = options.value("out") ?? "samples.png"
        let seed = UInt64(try options.positiveInt("seed", default: 1))
        let length = try options.positiveInt("length", default: 500)
        let dataDir = options.value("data-dir")
        try runOnRanks(ranks: 1) { comm in
            let workload = try JobFactory.makeWorkload(config, comm: comm, dataDirectory: dataDir)
            let checkpoint = try Checkpoint(contentsOf: path)
            for n in workload.networks { try checkpoint.restore(n.parameters, optimizer: nil, prefix: n.prefix) }
            switch workload {
            case let gan as GANWorkload:
                try AtomicFile.write(makeGrid(images: gan.generate(count: 64, seed: seed), rows: 8, cols: 8), to: out)
                say("wrote \(out)")
                if let rater = options.value("rate-with") { try rate(gan, classifierConfig: rater, seed: seed) }
            case let lm as LanguageModelWorkload:
                say(lm.generate(length: length, prompt: "\n", seed: seed))
            case let translation as TranslationWorkload:
                let count = try options.positiveInt("count", default: 20)
                say(translation.translations(of: Array(translation.data.sentences(translation.data.test).prefix(count))))
            default:
                throw UsageError(description: "task \(config.task.rawValue) has nothing to sample; use ddp eval")
            }
        }
    }

    /// Rates generated images with a trained classifier: the share classified with probability
    /// ≥ 0.9, and how many samples fall in each class.
    func rate(_ gan: GANWorkload, classifierConfig path: String, seed: UInt64) throws {
        guard let weights = options.value("classifier-checkpoint") else {
            throw UsageError(description: "--rate-with needs --classifier-checkpoint PATH")
        }
        let count = try options.positiveInt("count", default: 1000)
        let config = try JobConfig.load(path: path)
        let classifier = try config.buildModel()
        let parameters = classifier.flattenParameters()
        try Checkpoint(contentsOf: weights).restore(parameters, optimizer: nil)
        classifier.setTraining(false)
        // Generated images are in [-1, 1]; the classifier was trained on the scale its config names.
        let images = gan.generate(count: count, seed: seed &+ 1)
        if config.data.scale != .symmetric { for i in 0..<images.count { images.data[i] = (images.data[i] + 1) / 2 } }
        let outputs = withoutGradient { classifier(Variable(images.reshaped([count] + classifier.inputShape))) }.value
        let classes = outputs.shape.last!
        let fromLogits: Bool = {
            if case .sparseCategoricalCrossentropy(let l)? = config.loss { return l }
            if case .categoricalCrossentropy(let l)? = config.loss { return l }
            return false
        }()
        var confident = 0
        var perClass = [Int](repeating: 0, count: classes)
        var row = [Float](repeating: 0, count: classes)
        for i in 0..<count {
            for j in 0..<classes { row[j] = outputs.data[i * classes + j] }
            if fromLogits { row.withUnsafeMutableBufferPointer { Softmax.forward($0.baseAddress!, $0.baseAddress!, rows: 1, n: classes) } }
            let best = row.indices.max { row[$0] < row[$1] }!
            perClass[best] += 1
            if row[best] >= 0.9 { confident += 1 }
        }
        let present = perClass.filter { $0 > 0 }.count
        say("rated \(count) generated images with \(config.name): \(String(format: "%.1f", 100 * Double(confident) / Double(count)))% confident (max probability ≥ 0.9), \(present)/\(classes) classes present; per class \(perClass)")
    }
}
