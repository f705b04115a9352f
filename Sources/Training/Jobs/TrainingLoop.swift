import Comm
import Datasets
import Foundation
import TensorCore

/// How long and how observably a job trains.
public struct RunSettings: Sendable {
    public var name: String
    public var seed: UInt64
    public var epochs: Int
    /// Stops after this many optimizer steps even mid-epoch.
    public var maxSteps: Int?
    public var shuffle = true
    /// Drop the tail that does not fill a whole step on every rank (PyTorch's drop_last).
    public var dropLast = true
    public var logEverySteps = 50
    /// GAN sample grids / LM text every this many steps (also at each evaluation).
    public var sampleEverySteps: Int?
    /// Checkpoint every this many steps; nil: at the end of each epoch.
    public var checkpointEverySteps: Int?
    public var keepCheckpoints = 3
    public var outputDirectory: String
    /// Digest of the effective configuration, stored in checkpoints; resuming under another
    /// configuration is refused.
    public var configDigest = ""
    /// A step whose loss or gradients are not finite: stop the run, or skip the step.
    public var nonFinite = NonFinitePolicy.stop
    /// With `.skip`: stop after this many skipped steps in a row.
    public var maxConsecutiveSkips = 10
    /// Keras-style progress bar (a terminal) or plain lines. `DDP_PROGRESS=bar|lines` decides
    /// when set: under mpirun every rank's stdout is a pseudo-terminal even when the user's is a
    /// file, so the launcher passes its own answer.
    public var interactive: Bool = {
        switch ProcessInfo.processInfo.environment["DDP_PROGRESS"] {
        case "bar": return true
        case "lines": return false
        default: return ProgressReporter.standardOutputIsTerminal
        }
    }()

    public init(name: String, seed: UInt64, epochs: Int, outputDirectory: String) {
        self.name = name
        self.seed = seed
        self.epochs = epochs
        self.outputDirectory = outputDirectory
    }
}

public struct RunSummary: Sendable {
    public var steps: Int
    public var wallSeconds: Double
    public var lastStep: StepLog?
    public var evaluation: EvaluationLog?
    public var checkpointPath: String?
}

/// A run that cannot continue: the message says why.
public struct TrainingError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Drives a `Workload` through epochs: sampling and sharding, steps, logging (rank 0), periodic
/// evaluation, samples, checkpoints, curves, and resuming exactly where a checkpoint left off.
///
/// A run's position is just the global step: the data order comes from (seed, epoch), dropout
/// from (seed, rank, step) and GAN noise from (seed, step, sample), so a checkpoint with the
/// parameters, optimizer state and step is enough to continue bit for bit.
public final class TrainingLoop {
    public let workload: Workload
    public let settings: RunSettings
    private var comm: Communicator { workload.comm }
    private var isRoot: Bool { comm.rank == 0 }
    private var curves = TrainingCurves()
    private var metricsLog: MetricsLog?
    private var checkpoints: CheckpointDirectory?
    private var lastCheckpoint: String?
    private var consecutiveSkips = 0
    private var skippedSteps = 0

    public init(workload: Workload, settings: RunSettings) {
        self.workload = workload
        self.settings = settings
    }

    public var sampler: DistributedSampler {
        DistributedSampler(datasetCount: workload.trainSampleCount, replicas: comm.size, rank: comm.rank,
                           shuffle: settings.shuffle, seed: settings.seed, dropLast: settings.dropLast)
    }

    public var stepsPerEpoch: Int { sampler.batchCount(batchSize: workload.samplesPerStep, dropLastBatch: settings.dropLast) }

    public var totalSteps: Int { min(settings.maxSteps ?? Int.max, settings.epochs * stepsPerEpoch) }

    /// Trains from scratch, or from the checkpoint at `resume`.
    public func run(resume: String? = nil) throws -> RunSummary {
        let start = monotonicSeconds()
        guard stepsPerEpoch > 0 else {
            throw TrainingError("\(settings.name): \(workload.trainSampleCount) training samples over \(comm.size) ranks do not fill one step of \(workload.samplesPerStep) samples per rank")
        }
        if isRoot { try prepareOutput(appending: resume != nil) }
        var step = 0
        if let resume { step = try restore(from: resume) }
        let sampler = self.sampler
        let perEpoch = stepsPerEpoch, total = totalSteps
        let epochs = (total + perEpoch - 1) / perEpoch
        let progress = isRoot ? ProgressReporter(epochs: epochs, stepsPerEpoch: min(perEpoch, total), interactive: settings.interactive,
                                                 plainEvery: settings.logEverySteps) : nil
        var last: StepLog?
        var evaluation: EvaluationLog?
        while step < total {
            let epoch = step / perEpoch
            let batches = sampler.batches(epoch: epoch, batchSize: workload.samplesPerStep, dropLastBatch: settings.dropLast)
            progress?.beginEpoch(epoch + 1)
            var running = RunningMean()
            for b in (step % perEpoch)..<perEpoch where step < total {
                comm.monitor.step = step + 1
                let log = workload.trainStep(batches[b], step: step)
                step += 1
                if let problem = log.nonFinite {
                    try skipOrStop(problem, step: step, epoch: epoch + 1)
                } else {
                    consecutiveSkips = 0
                    last = log
                    running.add(log)
                    progress?.update(step: b + 1, metrics: running.metrics, samplesPerSecond: Double(log.samples) / max(log.seconds, 1e-9))
                    if step % settings.logEverySteps == 0 || step == total { try record(log, step: step, epoch: epoch + 1) }
                }
                if let every = settings.sampleEverySteps, step % every == 0 { try writeSample(step: step) }
                if let every = settings.checkpointEverySteps, step % every == 0 { try saveCheckpoint(step: step, epoch: epoch) }
            }
            let epochDone = step % perEpoch == 0 || step == total
            if epochDone {
                evaluation = workload.timeline.span(.evaluation) { workload.evaluate() }
                var metrics = running.metrics
                if let e = evaluation {
                    metrics.append(("val_loss", e.loss))
                    metrics += e.metrics.map { ("val_" + $0.name, $0.value) }
                    try recordEvaluation(e, step: step, epoch: epoch + 1)
                }
                progress?.endEpoch(metrics: metrics)
                if settings.sampleEverySteps == nil || evaluation != nil { try writeSample(step: step) }
                if settings.checkpointEverySteps == nil || step == total { try saveCheckpoint(step: step, epoch: epoch + 1) }
            }
        }
        if evaluation == nil && resume != nil { evaluation = workload.timeline.span(.evaluation) { workload.evaluate() } }
        let wall = monotonicSeconds() - start
        if isRoot {
            try curves.write(to: settings.outputDirectory)
            var line = "\(settings.name): \(step) steps in \(ProgressFormat.duration(wall)) (\(String(format: "%.1f", wall)) s)"
            if let e = evaluation {
                let split = workload.evaluationSplit
                line += "; \(split) loss \(ProgressFormat.value(e.loss))"
                for m in e.metrics { line += ", \(split) \(m.name) \(ProgressFormat.value(m.value))" }
            }
            if skippedSteps > 0 { line += "; \(skippedSteps) step\(skippedSteps == 1 ? "" : "s") skipped (non-finite)" }
            say(line)
            try metricsLog?.write(MetricsRecord(step: step, epoch: (step + perEpoch - 1) / perEpoch, loss: evaluation?.loss,
                                                metrics: evaluation?.metrics ?? [],
                                                extra: [("event", .string("final")), ("wall_seconds", .number(wall)),
                                                        ("ranks", .integer(comm.size))]))
        }
        return RunSummary(steps: step, wallSeconds: wall, lastStep: last, evaluation: evaluation, checkpointPath: lastCheckpoint)
    }

    /// A step that was not applied because `problem` was not finite: the end of the run under
    /// `stop`, or after too many in a row under `skip`. Parameters were left as they were, so
    /// every checkpoint written holds finite values.
    private func skipOrStop(_ problem: String, step: Int, epoch: Int) throws {
        let place = "\(settings.name): \(problem) at step \(step), epoch \(epoch)"
        let keep = "; the update was not applied; " + (lastCheckpoint.map { "the last good checkpoint is \($0)" } ?? "no checkpoint was written yet")
        guard settings.nonFinite == .skip else {
            throw TrainingError(place + keep + " (training.non_finite \"skip\" skips such steps instead)")
        }
        consecutiveSkips += 1
        skippedSteps += 1
        guard consecutiveSkips <= settings.maxConsecutiveSkips else {
            throw TrainingError(place + ": \(consecutiveSkips) steps in a row skipped (training.max_consecutive_skips \(settings.maxConsecutiveSkips))" + keep)
        }
        guard isRoot else { return }
        say("\(settings.name): skipped step \(step): \(problem) (\(consecutiveSkips) in a row, \(skippedSteps) in all)")
        try metricsLog?.write(MetricsRecord(step: step, epoch: epoch, extra: [("event", .string("skipped")), ("reason", .string(problem)),
                                                                              ("skipped_steps", .integer(skippedSteps))]))
    }

    private func prepareOutput(appending: Bool) throws {
        let dir = settings.outputDirectory
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        metricsLog = try MetricsLog(path: dir + "/metrics.jsonl", append: appending)
        checkpoints = try CheckpointDirectory(path: dir + "/checkpoints", keepLast: settings.keepCheckpoints)
    }

    /// Rank 0 loads parameters, optimizer state and position from the checkpoint and broadcasts
    /// them, so the other ranks need not see the file (no shared filesystem required). Returns
    /// the step to continue from.
    private func restore(from path: String) throws -> Int {
        var step = 0
        var carried: [String: Tensor]?
        if isRoot {
            let checkpoint = try Checkpoint(contentsOf: path)
            let info = try CheckpointInfo(checkpoint)
            if !settings.configDigest.isEmpty && !info.configDigest.isEmpty && info.configDigest != settings.configDigest {
                throw TrainingError("\(path): written by a run with another configuration (digest \(info.configDigest), this run \(settings.configDigest)); resume with the same model, data and training settings (only the step budget, logging, checkpoint and output settings may change)")
            }
            for n in workload.networks { try checkpoint.restore(n.parameters, optimizer: n.optimizer, prefix: n.prefix) }
            carried = try carriedState(in: checkpoint)
            step = info.step
            say("\(settings.name): resumed from \(path) at step \(info.step)")
        }
        comm.monitor.setPhase("resume broadcast")
        var position = [Double(step)] + workload.networks.map { Double($0.optimizer.stepCount) }
        position = comm.allreduceSum(isRoot ? position : position.map { _ in 0 })
        for (i, n) in workload.networks.enumerated() {
            // Values and state buffers the node's ranks share already hold what rank 0 restored.
            if !n.parameters.valuesSharedAcrossRanks { comm.broadcast(n.parameters.valueBuffer, root: 0) }
            for b in n.optimizer.stateBuffers where !b.sharedAcrossRanks { comm.broadcast(b.buffer, root: 0) }
            n.optimizer.stepCount = Int(position[i + 1])
        }
        workload.restoreCarriedState(carried)
        lastCheckpoint = path
        return Int(position[0])
    }

    /// The workload's carried state in `checkpoint`: all of it or none (a checkpoint taken at an
    /// epoch start); a tensor of another shape is an error naming it.
    private func carriedState(in checkpoint: Checkpoint) throws -> [String: Tensor] {
        let expected = workload.carriedStateShapes
        guard expected.contains(where: { checkpoint[Checkpoint.carriedStatePrefix + $0.name] != nil }) else { return [:] }
        var tensors: [String: Tensor] = [:]
        for (name, shape) in expected {
            tensors[name] = Tensor(try checkpoint.entry(Checkpoint.carriedStatePrefix + name, shape: shape).values, shape: shape)
        }
        return tensors
    }

    private func saveCheckpoint(step: Int, epoch: Int) throws {
        let carried = workload.carriedState()
        guard isRoot, let checkpoints else {
            // The other ranks know its name too: any rank's error message may be the one shown.
            lastCheckpoint = settings.outputDirectory + "/checkpoints/" + CheckpointDirectory.fileName(step: step)
            return
        }
        workload.timeline?.begin(.checkpoint)
        defer { workload.timeline?.end() }
        var checkpoint = Checkpoint(metadata: CheckpointInfo(step: step, epoch: epoch, configDigest: settings.configDigest,
                                                             modelName: settings.name).metadata)
        for n in workload.networks { try checkpoint.add(n.parameters, optimizer: n.optimizer, prefix: n.prefix) }
        for (name, tensor) in carried { try checkpoint.add(Checkpoint.carriedStatePrefix + name, tensor) }
        lastCheckpoint = try checkpoints.save(checkpoint, step: step)
    }

    private func writeSample(step: Int) throws {
        guard isRoot else { return }
        let start = monotonicSeconds()
        guard let sample = workload.sample(step: step) else { return }
        defer { workload.timeline?.record(.sample, lane: 0, start: start, end: monotonicSeconds()) }
        switch sample {
        case .images(let images, let rows, let columns):
            let dir = settings.outputDirectory + "/samples"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try AtomicFile.write(makeGrid(images: images, rows: rows, cols: columns), to: dir + "/step-\(String(format: "%07d", step)).png")
        case .text(let text):
            say("--- sample at step \(step) ---\n\(text)\n---")
        }
    }

    private func record(_ log: StepLog, step: Int, epoch: Int) throws {
        guard isRoot else { return }
        curves.add(chart: "loss", series: "train", x: Double(step), y: log.loss)
        for m in log.metrics { curves.add(chart: m.name, series: "train", x: Double(step), y: m.value) }
        try metricsLog?.write(MetricsRecord(step: step, epoch: epoch, loss: log.loss, metrics: log.metrics,
                                            learningRate: Double("\(log.learningRate)"),
                                            samplesPerSecond: Double(log.samples) / max(log.seconds, 1e-9),
                                            stepMilliseconds: log.seconds * 1000, allreduceMilliseconds: log.allreduceSeconds * 1000,
                                            exposedCommunicationMilliseconds: log.exposedCommunicationSeconds * 1000))
    }

    private func recordEvaluation(_ e: EvaluationLog, step: Int, epoch: Int) throws {
        guard isRoot else { return }
        curves.add(chart: "loss", series: "validation", x: Double(step), y: e.loss)
        for m in e.metrics { curves.add(chart: m.name, series: "validation", x: Double(step), y: m.value) }
        try metricsLog?.write(MetricsRecord(step: step, epoch: epoch, metrics: [("val_loss", e.loss)] + e.metrics.map { ("val_" + $0.name, $0.value) },
                                            extra: [("event", .string("evaluation")), ("val_samples", .integer(e.samples))]))
    }
}

/// Running means of a step's loss and metrics over an epoch, for the progress line.
struct RunningMean {
    private var n = 0
    private var loss = 0.0
    private var sums: [(name: String, value: Double)] = []

    mutating func add(_ log: StepLog) {
        n += 1
        loss += log.loss
        if sums.isEmpty { sums = log.metrics.map { ($0.name, 0) } }
        for (i, m) in log.metrics.enumerated() where i < sums.count { sums[i].value += m.value }
    }

    var metrics: [(name: String, value: Double)] {
        guard n > 0 else { return [] }
        return [("loss", loss / Double(n))] + sums.map { ($0.name, $0.value / Double(n)) }
    }
}
