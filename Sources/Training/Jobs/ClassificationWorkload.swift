import Autograd
import Comm
import Datasets
import NN
import Optim
import TensorCore

/// Image classification (the CNN jobs): batches of images and labels from an `ImageDataset`,
/// the training images randomly transformed by `augmentation` when one is set (never the test
/// images).
public final class ClassificationWorkload: SingleNetworkWorkload {
    public let trainer: DataParallelTrainer
    public let train: ImageDataset
    public let test: ImageDataset
    public let scaling: PixelScaling
    public let microBatch: Int
    public let evaluationBatch: Int
    public let seed: UInt64
    public let augmentation: ImageAugmentation?
    public var trainSampleCount: Int { train.count }
    public var samplesPerStep: Int { microBatch * trainer.options.gradientAccumulation }

    public init(trainer: DataParallelTrainer, train: ImageDataset, test: ImageDataset, scaling: PixelScaling,
                microBatch: Int, evaluationBatch: Int, seed: UInt64, augmentation: ImageAugmentation? = nil) {
        self.trainer = trainer
        self.train = train
        self.test = test
        self.scaling = scaling
        self.microBatch = microBatch
        self.evaluationBatch = evaluationBatch
        self.seed = seed
        self.augmentation = augmentation.flatMap { $0.isIdentity ? nil : $0 }
    }


    public func trainStep(_ indices: ArraySlice<Int>, step: Int) -> StepLog {
        trainer.trainStep(microBatches(indices, size: microBatch) { batch(train, $0, augmentedAt: step) }, seed: seed, step: step)
    }

    public func evaluate() -> EvaluationLog? {
        // Every rank takes positions r, r+N, ... of the test set in order (no padding, so each
        // sample counts once); the trainer weights the averages by sample counts.
        let mine = rankShare(of: test.count)
        let batches = stride(from: 0, to: mine.count, by: evaluationBatch).lazy.map { s in
            self.batch(self.test, mine[s..<min(s + self.evaluationBatch, mine.count)])
        }
        let r = trainer.evaluate(batches)
        return EvaluationLog(loss: r.loss, metrics: r.metric.map { [("accuracy", $0.value)] } ?? [], samples: r.samples)
    }

    public func sample(step: Int) -> Sample? { nil }

    /// Images scaled as configured (and augmented with the draws of training step
    /// `augmentedAt` when given), and targets as the loss wants them: class indices, or one-hot
    /// rows for categorical cross-entropy.
    func batch(_ data: ImageDataset, _ indices: ArraySlice<Int>, augmentedAt step: Int? = nil) -> (inputs: Tensor, targets: Tensor) {
        let x = Tensor(uninitialized: [indices.count] + data.sampleShape)
        data.fillImages(indices, into: x, scaling: scaling)
        if let step, let augmentation {
            augmentation.apply(to: x, indices: indices, height: data.height, width: data.width, channels: data.channels,
                               seed: seed, step: step)
        }
        let labels = Tensor(uninitialized: [indices.count])
        data.fillLabels(indices, into: labels)
        guard case .categoricalCrossentropy = trainer.loss else { return (x, labels) }
        let oneHot = Tensor(zeros: [indices.count, data.classCount])
        for i in 0..<indices.count { oneHot.data[i * data.classCount + Int(labels.data[i])] = 1 }
        return (x, oneHot)
    }
}
