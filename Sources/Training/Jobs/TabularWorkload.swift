import Autograd
import Comm
import Datasets
import NN
import TensorCore

/// Binary classification of CSV rows (the fraud MLP): batches of feature rows and 0/1 labels.
/// Evaluation reports accuracy, precision and recall from confusion counts summed across ranks,
/// and the ROC AUC computed exactly from every test score, gathered from all ranks.
public final class TabularWorkload: SingleNetworkWorkload {
    public let trainer: DataParallelTrainer
    /// All rows, already standardised.
    public let data: TabularDataset
    public let trainRows: [Int]
    public let testRows: [Int]
    /// Fitted on `trainRows` (nil when the job does not standardise).
    public let standardizer: Standardizer?
    /// A score above it predicts the positive class: 0.5 for probabilities, 0 for logits.
    public let threshold: Float
    public let microBatch: Int
    public let evaluationBatch: Int
    public let seed: UInt64
    public var trainSampleCount: Int { trainRows.count }
    public var samplesPerStep: Int { microBatch * trainer.options.gradientAccumulation }

    public init(trainer: DataParallelTrainer, data: TabularDataset, trainRows: [Int], testRows: [Int], standardizer: Standardizer?,
                threshold: Float, microBatch: Int, evaluationBatch: Int, seed: UInt64) {
        self.trainer = trainer
        self.data = data
        self.trainRows = trainRows
        self.testRows = testRows
        self.standardizer = standardizer
        self.threshold = threshold
        self.microBatch = microBatch
        self.evaluationBatch = evaluationBatch
        self.seed = seed
    }

    public func trainStep(_ indices: ArraySlice<Int>, step: Int) -> StepLog {
        trainer.trainStep(microBatches(indices, size: microBatch) { batch($0.map { trainRows[$0] }) }, seed: seed, step: step)
    }

    public func evaluate() -> EvaluationLog? {
        binaryEvaluation(count: testRows.count, batchSize: evaluationBatch, threshold: threshold) { batch($0.map { testRows[$0] }) }
    }

    public func sample(step: Int) -> Sample? { nil }

    /// The rows at `rows` as features [k, featureCount] and targets [k, 1].
    func batch(_ rows: [Int]) -> (inputs: Tensor, targets: Tensor) {
        let x = Tensor(uninitialized: [rows.count, data.featureCount]), y = Tensor(uninitialized: [rows.count, 1])
        data.fill(rows, features: x.data, targets: y.data)
        return (x, y)
    }
}
