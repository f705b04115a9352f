/// The `training` section: how long and in which batches.
public struct TrainingSpec: Sendable, Equatable {
    public var epochs: Int
    /// Stop after this many optimizer steps even if epochs remain.
    public var maxSteps: Int?
    /// Samples per rank per optimizer step (split into `gradientAccumulation` micro-batches).
    public var batchSize: Int
    public var gradientAccumulation = 1
    /// Drop each epoch's last incomplete batch.
    public var dropLast = true
    public var shuffle = true
    public var evalBatchSize = 256
    public var logEverySteps = 50
    /// GAN, language model and translation only: write a sample (image grid, generated text,
    /// translations) this often.
    public var sampleEverySteps: Int?
    /// A NaN or infinity in the loss or the gradients: stop, or skip the step.
    public var nonFinite = NonFinitePolicy.stop
    /// With `skip`: stop after this many skipped steps in a row.
    public var maxConsecutiveSkips = 10

    public init(epochs: Int, batchSize: Int) {
        self.epochs = epochs
        self.batchSize = batchSize
    }

    init(reading r: ObjectReader, task: TaskKind) throws {
        let positive = Constraint<Int>.atLeast(1)
        self.init(epochs: try r.required("epochs", positive), batchSize: 0)
        maxSteps = try r.nullable("max_steps", positive)
        batchSize = try r.required("batch_size", positive)
        gradientAccumulation = try r.optional("gradient_accumulation", default: gradientAccumulation, positive)
        guard batchSize % gradientAccumulation == 0 else {
            throw r.error("gradient_accumulation", "\(gradientAccumulation) does not divide batch_size \(batchSize) into equal micro-batches")
        }
        dropLast = try r.optional("drop_last", default: dropLast)
        shuffle = try r.optional("shuffle", default: shuffle)
        evalBatchSize = try r.optional("eval_batch_size", default: evalBatchSize, positive)
        logEverySteps = try r.optional("log_every_steps", default: logEverySteps, positive)
        nonFinite = try r.optional("non_finite", default: nonFinite)
        maxConsecutiveSkips = try r.optional("max_consecutive_skips", default: maxConsecutiveSkips, positive)
        r.scope = "for task \"\(task.rawValue)\""
        if [.gan, .languageModel, .translation].contains(task) { sampleEverySteps = try r.nullable("sample_every_steps", positive) }
    }
}
