import Comm
import Optim
import Autograd
import TensorCore

/// What a job means by a training step, an evaluation, a sample and a checkpoint. The
/// `TrainingLoop` drives any workload through epochs, logging, checkpoints and curves.
public protocol Workload: AnyObject {
    var comm: Communicator { get }
    /// Samples the distributed sampler shuffles and shards each epoch.
    var trainSampleCount: Int { get }
    /// Samples this rank consumes per optimizer step (micro-batch × accumulation).
    var samplesPerStep: Int { get }
    /// One optimizer step on this rank's sample indices; `step` is the global step number.
    func trainStep(_ indices: ArraySlice<Int>, step: Int) -> StepLog
    /// Metrics on the held-out split, combined across ranks (nil when there is none).
    func evaluate() -> EvaluationLog?
    /// Which split `evaluate()` measures, as the run's last line names it ("test", "validation").
    var evaluationSplit: String { get }
    /// Something to show a person: generated images or text (nil when the job has none).
    func sample(step: Int) -> Sample?
    /// The networks whose parameters and optimizer state a checkpoint holds, each under a prefix.
    var networks: [Network] { get }
    /// Where the trainer records each step's phases (`ddp train --timeline`); nil: nowhere.
    var timeline: Timeline? { get set }
    /// Names and shapes of the tensors besides the networks' that a checkpoint holds so that a
    /// resumed run continues exactly (a stateful model's carried state); empty for most jobs.
    var carriedStateShapes: [(name: String, shape: [Int])] { get }
    /// That state, gathered from every rank; empty when there is none at the moment (an epoch
    /// start). Every rank calls it: it may communicate.
    func carriedState() -> [(name: String, tensor: Tensor)]
    /// Puts back the state rank 0 read from a checkpoint (nil on the other ranks, empty when the
    /// checkpoint holds none). Every rank calls it.
    func restoreCarriedState(_ tensors: [String: Tensor]?)
}

/// A workload of one supervised trainer: its communicator, timeline and network are the trainer's.
public protocol SingleNetworkWorkload: Workload {
    var trainer: DataParallelTrainer { get }
}

extension SingleNetworkWorkload {
    public var comm: Communicator { trainer.comm }
    public var timeline: Timeline? {
        get { trainer.timeline }
        set { trainer.timeline = newValue }
    }
    public var networks: [Network] { [trainer.network] }
}

extension Workload {
    /// The positions 0..<count that `rank` (default: this rank) takes when N ranks share them
    /// round robin: rank, rank + N, rank + 2N… Every position goes to exactly one rank.
    func rankShare(of count: Int, rank: Int? = nil) -> [Int] {
        Training.rankShare(of: count, rank: rank ?? comm.rank, ranks: comm.size)
    }

    public var evaluationSplit: String { "test" }
    public var carriedStateShapes: [(name: String, shape: [Int])] { [] }
    public func carriedState() -> [(name: String, tensor: Tensor)] { [] }
    public func restoreCarriedState(_ tensors: [String: Tensor]?) {}
}

/// One trained network of a job.
public struct Network {
    public var prefix: String
    public var parameters: FlatParameters
    public var optimizer: Optimizer
    public init(prefix: String, parameters: FlatParameters, optimizer: Optimizer) {
        self.prefix = prefix
        self.parameters = parameters
        self.optimizer = optimizer
    }
}

/// Rank `rank`'s share of positions 0..<count among `ranks` ranks: rank, rank + N, rank + 2N…
func rankShare(of count: Int, rank: Int, ranks: Int) -> [Int] {
    Array(stride(from: rank, to: max(count, 0), by: ranks))
}

/// A training step's figures, already combined across ranks.
public struct StepLog: Sendable {
    /// A supervised trainer's step, its metric (if any) reported as "accuracy".
    init(_ r: StepResult) {
        self.init(loss: r.loss, metrics: r.metric.map { [("accuracy", $0.value)] } ?? [], samples: r.samples,
                  learningRate: r.learningRate, seconds: r.seconds, allreduceSeconds: r.allreduceSeconds,
                  exposedCommunicationSeconds: r.exposedCommunicationSeconds, nonFinite: r.nonFinite)
    }

    init(loss: Double, metrics: [(name: String, value: Double)], samples: Int, learningRate: Float, seconds: Double,
         allreduceSeconds: Double, exposedCommunicationSeconds: Double, nonFinite: String? = nil) {
        self.loss = loss
        self.metrics = metrics
        self.samples = samples
        self.learningRate = learningRate
        self.seconds = seconds
        self.allreduceSeconds = allreduceSeconds
        self.exposedCommunicationSeconds = exposedCommunicationSeconds
        self.nonFinite = nonFinite
    }

    public var loss: Double
    /// Named metrics (accuracy, or the GAN's two losses).
    public var metrics: [(name: String, value: Double)]
    public var samples: Int
    public var learningRate: Float
    public var seconds: Double
    public var allreduceSeconds: Double
    public var exposedCommunicationSeconds: Double
    /// What was not finite in this step, which was then not applied (`StepResult.nonFinite`).
    public var nonFinite: String?
}

public struct EvaluationLog: Sendable {
    public var loss: Double
    public var metrics: [(name: String, value: Double)]
    public var samples: Int
}

public enum Sample {
    /// Images [n, h, w, c] in [-1, 1] or [0, 1], shown as a grid.
    case images(Tensor, rows: Int, columns: Int)
    case text(String)
}

/// Consecutive slices of at most `size` indices, each turned into a micro-batch.
func microBatches<T>(_ indices: ArraySlice<Int>, size: Int, _ make: (ArraySlice<Int>) -> T) -> [T] {
    stride(from: indices.startIndex, to: indices.endIndex, by: size).map { make(indices[$0..<min($0 + size, indices.endIndex)]) }
}

extension DataParallelTrainer {
    /// This trainer's model and optimizer as the one network of a checkpoint.
    var network: Network { Network(prefix: "", parameters: parameters, optimizer: optimizer) }

    /// One step with dropout masks drawn from (seed, rank, step), so a resumed run draws the
    /// same masks as an uninterrupted one.
    func trainStep(_ batches: [(inputs: Tensor, targets: Tensor)], seed: UInt64, step: Int) -> StepLog {
        model.reseedDropout(seed: seed, stream: [UInt64(comm.rank), UInt64(step)])
        return StepLog(self.step(batches))
    }
}
