import Comm
import Datasets
import NN
import TensorCore

/// Node classification on one graph (the karate-club GNN). A sample is a node: the sampler
/// shares the labelled training nodes among the ranks, every rank runs the network on the
/// whole graph and takes the loss on its own nodes only (`NodeClassifier`), and the averaged
/// gradients are those of the mean loss over all the step's nodes, so N ranks × b nodes train
/// like one rank × N·b. The unlabelled nodes are the test set.
public final class NodeClassificationWorkload: SingleNetworkWorkload {
    public let trainer: DataParallelTrainer
    public let graph: NodeGraph
    public let trainNodes: [Int]
    public let testNodes: [Int]
    public let microBatch: Int
    public let evaluationBatch: Int
    public let seed: UInt64
    public var trainSampleCount: Int { trainNodes.count }
    public var samplesPerStep: Int { microBatch * trainer.options.gradientAccumulation }

    public init(trainer: DataParallelTrainer, graph: NodeGraph, trainNodes: [Int], testNodes: [Int], microBatch: Int,
                evaluationBatch: Int, seed: UInt64) {
        self.trainer = trainer
        self.graph = graph
        self.trainNodes = trainNodes
        self.testNodes = testNodes
        self.microBatch = microBatch
        self.evaluationBatch = evaluationBatch
        self.seed = seed
    }

    public func trainStep(_ indices: ArraySlice<Int>, step: Int) -> StepLog {
        trainer.trainStep(microBatches(indices, size: microBatch) { batch($0.map { trainNodes[$0] }) }, seed: seed, step: step)
    }

    public func evaluate() -> EvaluationLog? {
        // Rank r takes test positions r, r+N, ... (each node once); the trainer sums the counts.
        let mine = rankShare(of: testNodes.count).map { testNodes[$0] }
        let batches = stride(from: 0, to: mine.count, by: evaluationBatch).lazy.map { s in
            self.batch(Array(mine[s..<min(s + self.evaluationBatch, mine.count)]))
        }
        let r = trainer.evaluate(batches)
        return EvaluationLog(loss: r.loss, metrics: r.metric.map { [("accuracy", $0.value)] } ?? [], samples: r.samples)
    }

    public func sample(step: Int) -> Sample? { nil }

    /// Node numbers [k] as the input and their class indices [k] as the targets.
    func batch(_ nodes: [Int]) -> (inputs: Tensor, targets: Tensor) {
        (Tensor(nodes.map(Float.init), shape: [nodes.count]), Tensor(nodes.map { Float(graph.labels[$0]) }, shape: [nodes.count]))
    }
}
