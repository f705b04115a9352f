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
    /// With shared memory: split the optimizer update across the node's ranks, over one
    /// node-wide copy of its state (ZeRO stage 1 inside a node). Same results either way. Off
    /// by default: handing the new values to the other ranks cost more than the halved update
    /// saved (GAN 2x1 5% slower, CNN and Transformer even; docs/performance.md).
    public var shardedUpdate = false
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
