import Autograd
import Comm
import Datasets
import NN
import Optim
import TensorCore

/// Classification (the CNN jobs, the spoken digits): batches of samples and labels from
/// `LabelledSamples` (images or audio feature sequences), the training images randomly
/// transformed by `augmentation` when one is set (never the test samples). With binary
/// cross-entropy (two classes, one score per sample) the targets are 0/1 and evaluation reports
/// the binary metrics (`binaryEvaluation`).
public final class ClassificationWorkload: SingleNetworkWorkload {
    public let trainer: DataParallelTrainer
    public let train: any LabelledSamples
    public let test: any LabelledSamples
    public let microBatch: Int
    public let evaluationBatch: Int
    public let seed: UInt64
    public let augmentation: ImageAugmentation?
    public var trainSampleCount: Int { train.count }
    public var samplesPerStep: Int { microBatch * trainer.options.gradientAccumulation }

    public init(trainer: DataParallelTrainer, train: any LabelledSamples, test: any LabelledSamples,
                microBatch: Int, evaluationBatch: Int, seed: UInt64, augmentation: ImageAugmentation? = nil) {
        self.trainer = trainer
        self.train = train
        self.test = test
        self.microBatch = microBatch
        self.evaluationBatch = evaluationBatch
        self.seed = seed
        self.augmentation = augmentation.flatMap { $0.isIdentity ? nil : $0 }
    }

    public func trainStep(_ indices: ArraySlice<Int>, step: Int) -> StepLog {
        trainer.trainStep(microBatches(indices, size: microBatch) { batch(train, $0, augmentedAt: step) }, seed: seed, step: step)
    }

    public func evaluate() -> EvaluationLog? {
        if case .binaryCrossentropy(let fromLogits) = trainer.loss {
            return binaryEvaluation(count: test.count, batchSize: evaluationBatch, threshold: fromLogits ? 0 : 0.5) {
                batch(test, $0[...])
            }
        }
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

    /// Samples (training images augmented with the draws of training step `augmentedAt` when
    /// given), and targets as the loss wants them: class indices, one-hot rows for categorical
    /// cross-entropy, a [k, 1] column of 0/1 for binary cross-entropy.
    func batch(_ data: any LabelledSamples, _ indices: ArraySlice<Int>, augmentedAt step: Int? = nil) -> (inputs: Tensor, targets: Tensor) {
        let x = Tensor(uninitialized: [indices.count] + data.sampleShape)
        data.fillSamples(indices, into: x)
        if let step, let augmentation {
            let shape = data.sampleShape
            augmentation.apply(to: x, indices: indices, height: shape[0], width: shape[1], channels: shape[2], seed: seed, step: step)
        }
        let binary: Bool
        if case .binaryCrossentropy = trainer.loss { binary = true } else { binary = false }
        let labels = Tensor(uninitialized: binary ? [indices.count, 1] : [indices.count])
        data.fillLabels(indices, into: labels)
        guard case .categoricalCrossentropy = trainer.loss else { return (x, labels) }
        let oneHot = Tensor(zeros: [indices.count, data.classCount])
        for i in 0..<indices.count { oneHot.data[i * data.classCount + Int(labels.data[i])] = 1 }
        return (x, oneHot)
    }
}
