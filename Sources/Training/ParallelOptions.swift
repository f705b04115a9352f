import Comm

/// How a trainer spreads a step over ranks.
public struct ParallelOptions: Sendable, Equatable {
    /// Size of the first gradient bucket (small, so communication starts early).
    public var firstBucketBytes = 1 << 20
    /// Size of the following buckets (PyTorch DDP's default is 25 MB).
    public var bucketBytes = 25 << 20
    /// Reduce buckets on a background thread while backward goes on.
    public var overlap = true
    /// Average gradients in memory shared by the ranks of a node when they all share one
    /// (`SharedGradients`), instead of through MPI's allreduce. Same results either way.
    public var sharedMemory = true
    /// With shared memory: average and update only this rank's share of the parameters, over
    /// one node-wide copy of the optimizer state (and of the values when all are trainable):
    /// ZeRO stage 1 inside a node. Same results either way; GAN 2x1 about 10% faster, CNN and
    /// Transformer even (docs/performance.md).
    public var shardedUpdate = true
    /// Micro-batches per optimizer step; their gradients accumulate locally and are reduced once.
    public var gradientAccumulation = 1
    /// Multiply the learning rate by the number of ranks (Goyal et al. 2017, linear scaling).
    public var scaleLearningRate = false
    /// With scaling on, ramp the factor linearly from 1 to N over this many steps (gradual warmup).
    public var warmupSteps = 0
    /// Batch-normalisation statistics over all ranks' samples (SyncBatchNorm) instead of each
    /// rank's own (`BatchNormReplicas`).
    public var syncBatchNorm = false

    public init() {}

    /// The factor applied to the scheduled learning rate at optimizer step `step` (0-based)
    /// for `worldSize` ranks.
    public func learningRateFactor(step: Int, worldSize: Int) -> Float {
        guard scaleLearningRate, worldSize > 1 else { return 1 }
        let n = Float(worldSize)
        guard warmupSteps > 0, step < warmupSteps else { return n }
        return 1 + (n - 1) * Float(step) / Float(warmupSteps)
    }
}
