import Autograd
import Comm
import NN
import Optim
import TensorCore

/// Data-parallel training of one supervised model: each rank runs forward and backward on its
/// own share of the batch, gradients are averaged across ranks in fixed-order buckets (overlapped
/// with backward), and every rank applies the same optimizer update, so replicas stay
/// bit-identical. N ranks with per-rank batch b follow the same trajectory as one rank with
/// batch N·b.
public final class DataParallelTrainer {
    public let model: Layer
    public let parameters: FlatParameters
    public let optimizer: Optimizer
    public let parallel: DataParallel
    public let loss: Loss
    public let metric: Metric?
    public let options: ParallelOptions
    let batchNorm: BatchNormReplicas
    public var comm: Communicator { parallel.comm }
    /// Where each step's phases are recorded (nil: nowhere).
    public var timeline: Timeline? {
        get { parallel.timeline }
        set { parallel.attach(newValue, network: "") }
    }

    /// `model` must be built. Its parameters move into flat arenas (last layer first) and rank
    /// 0's values are broadcast, so every replica starts identical whatever its own seed was.
    public init(model: Layer, loss: Loss, metric: Metric?, comm: Communicator, options: ParallelOptions = ParallelOptions(),
                optimizer makeOptimizer: (FlatParameters) -> Optimizer) {
        self.model = model
        self.loss = loss
        self.metric = metric
        self.options = options
        parameters = model.flattenParameters()
        optimizer = makeOptimizer(parameters)
        batchNorm = BatchNormReplicas(model: model, comm: comm, synchronize: options.syncBatchNorm)
        parallel = DataParallel(parameters, comm: comm, firstBucketBytes: options.firstBucketBytes,
                                bucketBytes: options.bucketBytes, overlap: options.overlap && !batchNorm.synchronized,
                                sharedMemory: options.sharedMemory, optimizer: options.shardedUpdate ? optimizer : nil)
        parallel.broadcastParameters()
    }

    /// The learning rate of the next step: the optimizer's schedule times the world-size factor.
    public var learningRate: Float {
        optimizer.currentLearningRate * options.learningRateFactor(step: optimizer.stepCount, worldSize: comm.size)
    }

    /// One optimizer step over this rank's micro-batches (`options.gradientAccumulation` of
    /// them, usually one): forward, backward, gradient averaging, metrics, and the update
    /// unless the loss or a gradient is not finite (`StepResult.nonFinite`).
    public func step(_ microBatches: [(inputs: Tensor, targets: Tensor)]) -> StepResult {
        precondition(!microBatches.isEmpty, "step needs at least one micro-batch")
        let start = monotonicSeconds()
        timeline?.begin(.step)
        defer { timeline?.end() }
        model.setTraining(true)
        parameters.discardGradients()
        let total = microBatches.reduce(0) { $0 + $1.inputs.shape[0] }
        var lossSum = 0.0
        var counts: MetricCount? = metric.map { _ in MetricCount() }
        for (i, batch) in microBatches.enumerated() {
            let n = batch.inputs.shape[0]
            timeline?.begin(.forward)
            let output = model(Variable(batch.inputs))
            // Each micro-batch's mean loss is weighted by its share of the rank's samples, so the
            // accumulated gradient is the gradient of the mean over all of them.
            let l = loss(output, batch.targets)
            lossSum += Double(l.value.scalar) * Double(n)
            if let metric { counts! += metric.count(output.value, batch.targets) }
            let weighted = microBatches.count == 1 ? l : l.scaled(by: Float(n) / Float(total))
            timeline?.end()
            parallel.backward(weighted, synchronize: i == microBatches.count - 1)
        }
        let (meanLoss, metricTotal, samples) = timeline.span(.metrics) {
            MetricReduction.combine(comm, lossSum: lossSum, metric: counts, samples: total)
        }
        // Loss and gradients are checked after their allreduce, so every rank decides alike; a
        // non-finite step is never applied.
        let nonFinite = meanLoss.isFinite ? parallel.nonFiniteGradient()?.description : "non-finite loss (\(meanLoss))"
        let lr = learningRate
        if nonFinite == nil { timeline.span(.optimizer) { parallel.update(optimizer, learningRate: lr) } }
        batchNorm.broadcastMovingStatistics(comm)
        let stats = parallel.lastStats
        return StepResult(loss: meanLoss, metric: metricTotal, samples: samples, learningRate: lr,
                          seconds: monotonicSeconds() - start, allreduceSeconds: stats.allreduceSeconds,
                          exposedCommunicationSeconds: stats.exposedSeconds, nonFinite: nonFinite)
    }

    /// Loss and metric of the model in inference mode over this rank's batches, combined
    /// across ranks (weighted by sample counts).
    public func evaluate(_ batches: some Sequence<(inputs: Tensor, targets: Tensor)>) -> (loss: Double, metric: MetricCount?, samples: Int) {
        model.setTraining(false)
        defer { model.setTraining(true) }
        var lossSum = 0.0, total = 0
        var counts: MetricCount? = metric.map { _ in MetricCount() }
        withoutGradient {
            for batch in batches {
                let output = model(Variable(batch.inputs))
                let n = batch.inputs.shape[0]
                lossSum += Double(loss(output, batch.targets).value.scalar) * Double(n)
                if let metric { counts! += metric.count(output.value, batch.targets) }
                total += n
            }
        }
        return MetricReduction.combine(comm, lossSum: lossSum, metric: counts, samples: total)
    }
}
