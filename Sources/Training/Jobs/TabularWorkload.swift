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
        // Rank r scores test positions r, r+N, ... (each row once); the counts are summed and
        // the scores gathered, padded to the same length on every rank with label -1.
        let mine = rankShare(of: testRows.count).map { testRows[$0] }
        var lossSum = 0.0
        var scores: [Float] = [], labels: [Float] = []
        trainer.model.setTraining(false)
        defer { trainer.model.setTraining(true) }
        withoutGradient {
            for start in stride(from: 0, to: mine.count, by: evaluationBatch) {
                let (x, y) = batch(Array(mine[start..<min(start + evaluationBatch, mine.count)]))
                let output = trainer.model(Variable(x))
                lossSum += Double(trainer.loss(output, y).value.scalar) * Double(y.count)
                scores += output.value.scalars
                labels += y.scalars
            }
        }
        let confusion = BinaryConfusion(scores: scores, labels: labels, threshold: threshold)
        let sums = comm.allreduceSum([lossSum, Double(mine.count)] + confusion.summable)
        let perRank = (testRows.count + comm.size - 1) / comm.size
        let padding = perRank - scores.count
        var all: [Float] = [], allLabels: [Float] = []
        for part in comm.allgather((scores + Array(repeating: 0, count: padding)).map(Double.init)
                                   + (labels + Array(repeating: -1, count: padding)).map(Double.init)) {
            for (s, y) in zip(part[..<perRank], part[perRank...]) where y >= 0 {
                all.append(Float(s))
                allLabels.append(Float(y))
            }
        }
        let total = BinaryConfusion(summed: sums[2...])
        let n = Int(sums[1])
        return EvaluationLog(loss: n > 0 ? sums[0] / Double(n) : 0,
                             metrics: [("accuracy", total.accuracy), ("precision", total.precision), ("recall", total.recall),
                                       ("auc", rocAUC(scores: all, labels: allLabels) ?? .nan)],
                             samples: n)
    }

    public func sample(step: Int) -> Sample? { nil }

    /// The rows at `rows` as features [k, featureCount] and targets [k, 1].
    func batch(_ rows: [Int]) -> (inputs: Tensor, targets: Tensor) {
        let x = Tensor(uninitialized: [rows.count, data.featureCount]), y = Tensor(uninitialized: [rows.count, 1])
        data.fill(rows, features: x.data, targets: y.data)
        return (x, y)
    }
}
