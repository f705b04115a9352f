import Autograd
import Datasets
import Foundation
import NN
import Optim

/// What a job trains.
public enum TaskKind: String, CaseIterable, Sendable, ConfigChoice {
    case classification
    case languageModel = "language_model"
    case gan
    case binaryClassification = "binary_classification"
    case nodeClassification = "node_classification"
    case translation

    static let kind = "task"
}

/// A training job, read from a strict JSON file (see docs/configuration.md) with `--set`
/// overrides applied before validation. Every problem is a `ConfigError` naming the file (or
/// override), the key path, what was expected and what was found.
public struct JobConfig: Sendable {
    public let name: String
    public let seed: UInt64
    public let task: TaskKind
    public let data: DataSpec
    /// Classification and language model.
    public let model: ModelSpec?
    public let loss: Loss?
    public let metrics: [Metric]
    /// GAN: the latent vector length and the two networks (trained with binary cross-entropy).
    public let latentDim: Int?
    public let generator: SequentialSpec?
    public let discriminator: SequentialSpec?
    /// For GANs, each network gets its own optimizer with these settings.
    public let optimizer: OptimizerSpec
    public let schedule: ScheduleSpec
    public let training: TrainingSpec
    public let parallel: ParallelSpec
    public let checkpoint: CheckpointSpec
    public let outputDirectory: String
    /// The validated tree with every default filled in and numbers normalised (reals as reals).
    public let effective: JSONValue
    /// FNV-1a of `canonicalJSON`: equal for configs with the same effect whatever their key
    /// order, spacing or omitted defaults; different when any value differs.
    public let digest: UInt64

    /// `effective` as compact JSON with sorted keys.
    public var canonicalJSON: String { effective.canonicalText }

    /// The digest as 16 hex digits.
    public var digestHex: String { hex16(digest) }

    /// Keys that change how long, how observably or how defensively a run goes, not the
    /// trajectory it follows (a run that stopped at a NaN may resume with `non_finite: "skip"`).
    static let nonTrajectoryKeys: [String: Set<String>] = [
        "": ["name", "output", "checkpoint"],
        "training": ["epochs", "max_steps", "log_every_steps", "sample_every_steps", "eval_batch_size",
                     "non_finite", "max_consecutive_skips"],
        "parallel": ["stall_timeout_s", "shared_memory", "shard_optimizer"],
    ]

    /// Digest of the keys that decide the training trajectory (everything but the step budget,
    /// logging, samples, checkpoints, output and failure handling), as 16 hex digits: a
    /// checkpoint can be resumed with a longer budget or another output directory, never with
    /// another model or data.
    public var trajectoryDigestHex: String {
        guard case .object(var top) = effective else { return digestHex }
        for (section, keys) in JobConfig.nonTrajectoryKeys {
            if section.isEmpty {
                for key in keys { top[key] = nil }
            } else if case .object(var fields)? = top[section] {
                for key in keys { fields[key] = nil }
                top[section] = .object(fields)
            }
        }
        return hex16(fnv1a64(JSONValue.object(top).canonicalText.utf8))
    }

    /// The trainers' options: the `parallel` section with `training.gradient_accumulation`.
    public var parallelOptions: ParallelOptions { parallel.options(gradientAccumulation: training.gradientAccumulation) }

    /// The optimizer factory with the configured schedule.
    public func makeOptimizer() -> (FlatParameters) -> Optimizer { Training.makeOptimizer(optimizer, schedule: schedule) }

    /// Reads and validates the file at `path`, after applying `overrides` (each `key.path=value`,
    /// the argument of one `--set`) in order.
    public static func load(path: String, overrides: [String] = []) throws -> JobConfig {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ConfigError(source: path, keyPath: "", message: "cannot read the file: \(error.localizedDescription)")
        }
        return try parse(data, source: path, overrides: overrides)
    }

    /// Reads and validates a configuration; `source` names it in messages.
    public static func parse(_ data: Data, source: String, overrides: [String] = []) throws -> JobConfig {
        var tree = try JSONValue.parse(data, source: source)
        var document = ConfigDocument(file: source)
        for argument in overrides {
            let override = try ConfigOverride(argument)
            let (updated, origin) = try override.apply(to: tree)
            tree = updated
            document.record(override, origin: origin)
        }
        return try JobConfig(reading: ObjectReader(tree, at: .root, in: document))
    }

    public static func parse(_ text: String, source: String, overrides: [String] = []) throws -> JobConfig {
        try parse(Data(text.utf8), source: source, overrides: overrides)
    }

    private init(reading r: ObjectReader) throws {
        name = try r.required("name", .nonEmpty)
        seed = UInt64(try r.optional("seed", default: 42, .atLeast(0)))
        task = try r.required("task")
        r.scope = "for task \"\(task.rawValue)\""
        let task = self.task
        data = try r.object("data") { try DataSpec(reading: $0, task: task) }
        switch task {
        case .classification, .languageModel, .binaryClassification, .nodeClassification:
            let input = data.sequenceLength.map { InputShapeRule(shape: [$0], reshapable: false, reason: "data.sequence_length \($0)") }
                ?? data.audio?.inputRule
                ?? (data.imageShape == nil ? InputShapeRule.fromData : InputShapeRule.images(of: data))
            let model = try r.object("model") { try ModelSpec(reading: $0, task: task, input: input) }
            let loss = try r.loss()
            if task == .languageModel { try JobConfig.checkLanguageModelLoss(loss, model: model, r) }
            try JobConfig.checkDataShapedTask(task, loss: loss, model: model, r)
            self.model = model
            self.loss = loss
            metrics = try r.metrics(for: loss)
            (latentDim, generator, discriminator) = (nil, nil, nil)
        case .gan:
            let latentDim = try r.required("latent_dim", .atLeast(1))
            let latent = InputShapeRule(shape: [latentDim], reshapable: false, reason: "latent_dim \(latentDim)")
            let image = InputShapeRule.images(of: data)
            self.latentDim = latentDim
            generator = try r.object("generator") { try ModelSpec(reading: $0, task: task, input: latent).sequentialSpec! }
            discriminator = try r.object("discriminator") { d in
                let spec = try ModelSpec(reading: d, task: task, input: image).sequentialSpec!
                try JobConfig.checkDiscriminatorOutput(spec, d)
                return spec
            }
            (model, loss, metrics) = (nil, nil, [])
        case .translation:
            let model = try r.object("model") { try ModelSpec(reading: $0, task: task, input: .fromData) }
            // The loss is fixed: token cross-entropy from logits with the padding left out.
            (self.model, loss, metrics) = (model, .maskedSparseCategoricalCrossentropy(ignoreClass: Int(WordVocabulary.pad)), [])
            (latentDim, generator, discriminator) = (nil, nil, nil)
        }
        optimizer = try r.object("optimizer") { try OptimizerSpec(reading: $0) }
        schedule = try r.object("schedule", required: false) { try ScheduleSpec(reading: $0) }
        training = try r.object("training") { try TrainingSpec(reading: $0, task: task) }
        parallel = try r.object("parallel", required: false) { try ParallelSpec(reading: $0) }
        checkpoint = try r.object("checkpoint", required: false) { try CheckpointSpec(reading: $0) }
        let name = self.name
        outputDirectory = try r.object("output", required: false) { try $0.optional("dir", default: "runs/\(name)", .nonEmpty) }
        try r.finish()
        effective = .object(r.effective)
        digest = fnv1a64(effective.canonicalText.utf8)
    }

    /// A language model learns next-character indices, so its loss is the sparse cross-entropy,
    /// and the generated models (`transformer_lm`, `lstm_lm`) end in logits.
    private static func checkLanguageModelLoss(_ loss: Loss, model: ModelSpec, _ r: ObjectReader) throws {
        guard case .sparseCategoricalCrossentropy(let fromLogits) = loss else {
            throw r.document.error(at: r.path.appending("loss").appending("name"),
                                   "a language model predicts character indices: expected \"sparse_categorical_crossentropy\", found \(loss)")
        }
        if model.languageModel != nil, !fromLogits {
            throw r.document.error(at: r.path.appending("loss").appending("from_logits"),
                                   "\(model.type.rawValue) outputs logits: expected true, found false")
        }
    }

    /// The GAN trainer's binary cross-entropy takes probabilities, so the discriminator must end
    /// in a sigmoid.
    private static func checkDiscriminatorOutput(_ spec: SequentialSpec, _ r: ObjectReader) throws {
        switch spec.layers.last {
        case .dense(_, .sigmoid, _)?, .activation(.sigmoid)?: return
        default:
            throw r.document.error(at: r.path.appending("layers").appending(index: spec.layers.count - 1),
                                   "the discriminator must end in a sigmoid (the GAN loss is binary cross-entropy on probabilities)")
        }
    }
}

extension ModelSpec {
    var sequentialSpec: SequentialSpec? {
        if case .sequential(let spec) = self { return spec }
        return nil
    }
}
