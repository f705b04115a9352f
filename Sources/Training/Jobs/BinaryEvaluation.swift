import Autograd
import NN
import TensorCore

extension SingleNetworkWorkload {
    /// Held-out metrics of a binary classifier with one score per sample: accuracy, precision
    /// and recall from confusion counts summed across ranks, and the ROC AUC computed exactly
    /// from every score, gathered from all ranks. Rank r scores positions r, r+N, … of the
    /// `count` test samples (each once), `batchSize` at a time; `batch` makes the inputs and
    /// [k, 1] 0/1 targets of the given positions. A score above `threshold` predicts class 1.
    func binaryEvaluation(count: Int, batchSize: Int, threshold: Float,
                          batch: ([Int]) -> (inputs: Tensor, targets: Tensor)) -> EvaluationLog {
        let mine = rankShare(of: count)
        var lossSum = 0.0
        var scores: [Float] = [], labels: [Float] = []
        trainer.model.setTraining(false)
        defer { trainer.model.setTraining(true) }
        withoutGradient {
            for start in stride(from: 0, to: mine.count, by: batchSize) {
                let (x, y) = batch(Array(mine[start..<min(start + batchSize, mine.count)]))
                let output = trainer.model(Variable(x))
                lossSum += Double(trainer.loss(output, y).value.scalar) * Double(y.count)
                scores += output.value.scalars
                labels += y.scalars
            }
        }
        let confusion = BinaryConfusion(scores: scores, labels: labels, threshold: threshold)
        let sums = comm.allreduceSum([lossSum, Double(mine.count)] + confusion.summable)
        // The gathered scores are padded to the same length on every rank, with label -1.
        let perRank = (count + comm.size - 1) / comm.size
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
}
