import Autograd
import Comm
import Datasets
import NN
import Optim
import TensorCore

/// Classification (the CNN jobs): batches of samples and labels from `LabelledSamples`, images
/// or audio feature sequences.
public final class ClassificationWorkload: SingleNetworkWorkload {
    public let trainer: DataParallelTrainer
    public let train: any LabelledSamples
    public let test: any LabelledSamples
    public let microBatch: Int
    public let evaluationBatch: Int
    public let seed: UInt64
    public var trainSampleCount: Int { train.count }
    public var samplesPerStep: Int { microBatch * trainer.options.gradientAccumulation }

    public init(trainer: DataParallelTrainer, train: any LabelledSamples, test: any LabelledSamples,
                microBatch: Int, evaluationBatch: Int, seed: UInt64) {
        self.trainer = trainer
        self.train = train
        self.test = test
        self.microBatch = microBatch
        self.evaluationBatch = evaluationBatch
        self.seed = seed
    }


    public func trainStep(_ indices: ArraySlice<Int>, step: Int) -> StepLog {
        trainer.trainStep(microBatches(indices, size: microBatch) { batch(train, $0) }, seed: seed, step: step)
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

    /// Samples, and targets as the loss wants them: class indices, or one-hot rows for
    /// categorical cross-entropy.
    func batch(_ data: any LabelledSamples, _ indices: ArraySlice<Int>) -> (inputs: Tensor, targets: Tensor) {
        let x = Tensor(uninitialized: [indices.count] + data.sampleShape)
        data.fillSamples(indices, into: x)
        let labels = Tensor(uninitialized: [indices.count])
        data.fillLabels(indices, into: labels)
        guard case .categoricalCrossentropy = trainer.loss else { return (x, labels) }
        let oneHot = Tensor(zeros: [indices.count, data.classCount])
        for i in 0..<indices.count { oneHot.data[i * data.classCount + Int(labels.data[i])] = 1 }
        return (x, oneHot)
    }
}
