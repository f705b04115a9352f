import Autograd
import Comm
import NN
import Optim
import TensorCore

/// Data-parallel GAN training (the seed article's set-up, Keras' "GAN with a custom train step"):
/// two networks, each with its own optimizer and its own bucketed gradient averaging.
///
/// One step on a batch of b real samples per rank:
/// 1. discriminator: z → G(z) without gradient; D on [b real; b fake] with labels [1…; 0…];
///    binary cross-entropy; averaged gradients; update D;
/// 2. generator: fresh z; D frozen; loss = BCE(D(G(z)), 1), back-propagated through D into G;
///    averaged gradients; update G. G(z) is computed while D's gradients are still being
///    averaged (it depends on neither), which hides D's allreduce behind it.
///
/// Noise is drawn per global sample position: row j of rank r is sample N·j + r of the step's
/// global batch, with its own stream (seed, step, phase, N·j + r). That is the same position
/// the DistributedSampler gives that row, so N ranks × b reproduce one rank × N·b exactly,
/// and every rank's noise still differs.
public final class GANTrainer {
    public let generator: Layer
    public let discriminator: Layer
    public let generatorParameters: FlatParameters
    public let discriminatorParameters: FlatParameters
    public let generatorOptimizer: Optimizer
    public let discriminatorOptimizer: Optimizer
    public let generatorParallel: DataParallel
    public let discriminatorParallel: DataParallel
    public let latentDimension: Int
    public let seed: UInt64
    public let options: ParallelOptions
    public var comm: Communicator { generatorParallel.comm }
    /// Where each step's phases are recorded, per network (nil: nowhere).
    public var timeline: Timeline? {
        get { discriminatorParallel.timeline }
        set {
            discriminatorParallel.attach(newValue, network: "discriminator")
            generatorParallel.attach(newValue, network: "generator")
        }
    }
    private let bce = Loss.binaryCrossentropy(fromLogits: false)

    public struct Result: Sendable {
        public var discriminatorLoss: Double
        public var generatorLoss: Double
        public var samples: Int
        public var seconds: Double
        public var allreduceSeconds: Double
        public var exposedCommunicationSeconds: Double
        /// What was not finite, as in `StepResult.nonFinite`; nil for a normal step.
        public var nonFinite: String?
    }

    public init(generator: Layer, discriminator: Layer, latentDimension: Int, seed: UInt64, comm: Communicator,
                options: ParallelOptions = ParallelOptions(),
                generatorOptimizer: (FlatParameters) -> Optimizer, discriminatorOptimizer: (FlatParameters) -> Optimizer) {
        self.generator = generator
        self.discriminator = discriminator
        self.latentDimension = latentDimension
        self.seed = seed
        self.options = options
        generatorParameters = generator.flattenParameters()
        discriminatorParameters = discriminator.flattenParameters()
        self.generatorOptimizer = generatorOptimizer(generatorParameters)
        self.discriminatorOptimizer = discriminatorOptimizer(discriminatorParameters)
        generatorParallel = DataParallel(generatorParameters, comm: comm, firstBucketBytes: options.firstBucketBytes,
                                         bucketBytes: options.bucketBytes, overlap: options.overlap,
                                         sharedMemory: options.sharedMemory,
                                         optimizer: options.shardedUpdate ? self.generatorOptimizer : nil, name: "generator")
        discriminatorParallel = DataParallel(discriminatorParameters, comm: comm, firstBucketBytes: options.firstBucketBytes,
                                             bucketBytes: options.bucketBytes, overlap: options.overlap,
                                             sharedMemory: options.sharedMemory,
                                             optimizer: options.shardedUpdate ? self.discriminatorOptimizer : nil, name: "discriminator")
        generatorParallel.broadcastParameters()
        discriminatorParallel.broadcastParameters()
    }

    /// Latent vectors for this rank's `rows` samples of step `step`, phase 0 (D step) or 1 (G step).
    public func noise(rows: Int, step: Int, phase: UInt64) -> Tensor {
        let z = Tensor(uninitialized: [rows, latentDimension])
        let n = comm.size, r = comm.rank
        for j in 0..<rows {
            var rng = RandomGenerator(seed: seed, stream: [0x6E6F_6973_65, UInt64(step), phase, UInt64(n * j + r)])
            let row = Tensor(view: z.storage, offset: j * latentDimension, shape: [latentDimension])
            rng.fillNormal(row)
        }
        return z
    }

    /// One step of both networks. A network whose averaged gradients are not finite is not
    /// updated (every rank sees the same gradients, so all decide alike); when that is the
    /// discriminator, the generator's half of the step is skipped too.
    public func step(real: Tensor) -> Result {
        let start = monotonicSeconds()
        timeline?.begin(.step)
        defer { timeline?.end() }
        let dNet = discriminatorParallel.timelineNetwork, gNet = generatorParallel.timelineNetwork
        let b = real.shape[0]
        let t = discriminatorOptimizer.stepCount
        let factorD = options.learningRateFactor(step: t, worldSize: comm.size)
        let factorG = options.learningRateFactor(step: generatorOptimizer.stepCount, worldSize: comm.size)

        // 1. Discriminator on real and generated samples.
        let fake = timeline.span(.generate, network: gNet) { withoutGradient { generator(Variable(noise(rows: b, step: t, phase: 0))) }.value }
        let rowSize = real.count / b
        let both = Tensor(uninitialized: [2 * b] + Array(real.shape.dropFirst()))
        both.data.update(from: real.data, count: real.count)
        (both.data + real.count).update(from: fake.data, count: b * rowSize)
        let labels = Tensor(uninitialized: [2 * b, 1])
        for i in 0..<(2 * b) { labels.data[i] = i < b ? 1 : 0 }
        discriminatorParameters.discardGradients()
        let dLoss = timeline.span(.forward, network: dNet) { bce(discriminator(Variable(both)), labels) }
        discriminatorParallel.startBackward(dLoss)

        // 2. Generator through the frozen discriminator. G(z) reads neither D's gradients nor
        // its parameters, so it runs while D's gradients are being averaged.
        generatorParameters.discardGradients()
        let generated = timeline.span(.forward, network: gNet) { generator(Variable(noise(rows: b, step: t, phase: 1))) }
        discriminatorParallel.finishGradients()
        if let bad = discriminatorParallel.nonFiniteGradient(prefix: Checkpoint.discriminatorPrefix) {
            let dStats = discriminatorParallel.lastStats
            return Result(discriminatorLoss: .nan, generatorLoss: .nan, samples: b * comm.size, seconds: monotonicSeconds() - start,
                          allreduceSeconds: dStats.allreduceSeconds, exposedCommunicationSeconds: dStats.exposedSeconds,
                          nonFinite: bad.description)
        }
        timeline.span(.optimizer, network: dNet) {
            discriminatorParallel.update(discriminatorOptimizer, learningRate: discriminatorOptimizer.currentLearningRate * factorD)
        }
        let dStats = discriminatorParallel.lastStats

        discriminatorParameters.setTrainable(false)
        defer { discriminatorParameters.setTrainable(true) }
        let ones = Tensor(repeating: 1, shape: [b, 1])
        let gLoss = timeline.span(.forward, network: gNet) { bce(discriminator(generated), ones) }
        generatorParallel.backward(gLoss)
        let gBad = generatorParallel.nonFiniteGradient(prefix: Checkpoint.generatorPrefix)
        if gBad == nil {
            timeline.span(.optimizer, network: gNet) {
                generatorParallel.update(generatorOptimizer, learningRate: generatorOptimizer.currentLearningRate * factorG)
            }
        }
        let gStats = generatorParallel.lastStats

        comm.monitor.setPhase("losses")
        let sums = timeline.span(.metrics) { comm.allreduceSum([Double(dLoss.value.scalar) * Double(b), Double(gLoss.value.scalar) * Double(b), Double(b)]) }
        let (d, g) = (sums[0] / sums[2], sums[1] / sums[2])
        // A non-finite loss with finite gradients is reported after the update it did not poison.
        let nonFinite = gBad?.description ?? (d.isFinite && g.isFinite ? nil : "non-finite loss (discriminator \(d), generator \(g))")
        return Result(discriminatorLoss: d, generatorLoss: g, samples: Int(sums[2]),
                      seconds: monotonicSeconds() - start,
                      allreduceSeconds: dStats.allreduceSeconds + gStats.allreduceSeconds,
                      exposedCommunicationSeconds: dStats.exposedSeconds + gStats.exposedSeconds, nonFinite: nonFinite)
    }
}
