import Autograd
import Comm
import Datasets
import NN
import Optim
import TensorCore

/// The GAN job: real images from an `ImageDataset` scaled to [-1, 1], flattened to vectors.
public final class GANWorkload: Workload {
    public let trainer: GANTrainer
    public let train: ImageDataset
    public let batchSize: Int
    public var comm: Communicator { trainer.comm }
    public var timeline: Timeline? {
        get { trainer.timeline }
        set { trainer.timeline = newValue }
    }
    public var trainSampleCount: Int { train.count }
    public var samplesPerStep: Int { batchSize }

    public init(trainer: GANTrainer, train: ImageDataset, batchSize: Int) {
        self.trainer = trainer
        self.train = train
        self.batchSize = batchSize
    }

    public var networks: [Network] {
        [Network(prefix: "generator/", parameters: trainer.generatorParameters, optimizer: trainer.generatorOptimizer),
         Network(prefix: "discriminator/", parameters: trainer.discriminatorParameters, optimizer: trainer.discriminatorOptimizer)]
    }

    public func trainStep(_ indices: ArraySlice<Int>, step: Int) -> StepLog {
        let real = Tensor(uninitialized: [indices.count, train.sampleSize])
        train.fillImages(indices, into: real, scaling: .symmetric)
        let r = trainer.step(real: real)
        return StepLog(loss: r.discriminatorLoss + r.generatorLoss,
                       metrics: [("d_loss", r.discriminatorLoss), ("g_loss", r.generatorLoss)], samples: r.samples,
                       learningRate: trainer.discriminatorOptimizer.currentLearningRate, seconds: r.seconds,
                       allreduceSeconds: r.allreduceSeconds, exposedCommunicationSeconds: r.exposedCommunicationSeconds,
                       nonFinite: r.nonFinite)
    }

    public func evaluate() -> EvaluationLog? { nil }

    /// 64 images from a fixed latent grid (the same z every time, so progress is visible).
    public func sample(step: Int) -> Sample? {
        .images(generate(count: 64, seed: 0x6772_6964), rows: 8, columns: 8)
    }

    /// `count` generated images [count, h, w, c] in [-1, 1].
    public func generate(count: Int, seed: UInt64) -> Tensor {
        let z = Tensor(uninitialized: [count, trainer.latentDimension])
        var rng = RandomGenerator(seed: seed)
        rng.fillNormal(z)
        let images = withoutGradient { trainer.generator(Variable(z)) }.value
        return images.reshaped([count] + train.sampleShape)
    }
}
