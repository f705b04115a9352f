/// The `parallel` section: gradient buckets and learning-rate scaling across ranks.
public struct ParallelSpec: Sendable, Equatable {
    public var bucketMB = 25.0
    public var firstBucketMB = 1.0
    public var overlap = true
    public var sharedMemory = true
    public var shardOptimizer = true
    public var scaleLearningRate = false
    public var warmupSteps = 0
    /// Abort the job when a collective has not completed within this many seconds (0: never).
    public var stallTimeoutSeconds = 300.0
    /// SyncBatchNorm: batch statistics over every rank's samples.
    public var syncBatchNorm = false

    public init() {}

    init(reading r: ObjectReader) throws {
        let positive = Constraint<Double>.greaterThan(0)
        bucketMB = try r.optional("bucket_mb", default: bucketMB, positive)
        firstBucketMB = try r.optional("first_bucket_mb", default: firstBucketMB, positive)
        overlap = try r.optional("overlap", default: overlap)
        sharedMemory = try r.optional("shared_memory", default: sharedMemory)
        shardOptimizer = try r.optional("shard_optimizer", default: shardOptimizer)
        scaleLearningRate = try r.optional("scale_lr", default: scaleLearningRate)
        warmupSteps = try r.optional("warmup_steps", default: warmupSteps, .atLeast(0))
        stallTimeoutSeconds = try r.optional("stall_timeout_s", default: stallTimeoutSeconds, .atLeast(0))
        syncBatchNorm = try r.optional("sync_batch_norm", default: syncBatchNorm)
    }

    /// The trainers' options (MB are MiB, as PyTorch's `bucket_cap_mb`; at least one float per bucket).
    public func options(gradientAccumulation: Int) -> ParallelOptions {
        var o = ParallelOptions()
        o.bucketBytes = max(4, Int((bucketMB * 1_048_576).rounded()))
        o.firstBucketBytes = max(4, Int((firstBucketMB * 1_048_576).rounded()))
        o.overlap = overlap
        o.sharedMemory = sharedMemory
        o.shardedUpdate = shardOptimizer
        o.gradientAccumulation = gradientAccumulation
        o.scaleLearningRate = scaleLearningRate
        o.warmupSteps = warmupSteps
        o.syncBatchNorm = syncBatchNorm
        return o
    }
}
