import Comm
import NN

/// What one optimizer step did, already combined across ranks (identical on every rank).
public struct StepResult: Sendable {
    /// Mean loss over all samples of the step on all ranks.
    public var loss: Double
    /// Correct predictions and samples over all ranks (nil when the job has no accuracy).
    public var metric: MetricCount?
    /// Samples processed by all ranks in this step.
    public var samples: Int
    public var learningRate: Float
    /// Wall time of this rank's step.
    public var seconds: Double
    /// Gradient allreduce time, and the part of it the step waited for (not hidden by backward).
    public var allreduceSeconds: Double
    public var exposedCommunicationSeconds: Double
    /// What was not finite ("non-finite loss (nan)", "non-finite gradient in dense_1/kernel
    /// (...)"), in which case the update was not applied; nil for a normal step.
    public var nonFinite: String? = nil
}

/// Sums (loss × samples, correct, samples) across ranks in one small collective, so averages
/// are weighted by sample counts even when ranks hold different numbers of samples.
struct MetricReduction {
    static func combine(_ comm: Communicator, lossSum: Double, metric: MetricCount?, samples: Int) -> (Double, MetricCount?, Int) {
        comm.monitor.setPhase("metrics")
        let v = comm.allreduceSum([lossSum, Double(metric?.correct ?? 0), Double(metric?.total ?? 0), Double(samples)])
        let n = Int(v[3])
        let m = metric.map { _ in MetricCount(correct: Int(v[1]), total: Int(v[2])) }
        return (n > 0 ? v[0] / Double(n) : 0, m, n)
    }
}
