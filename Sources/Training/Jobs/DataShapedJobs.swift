import Comm
import Datasets
import NN
import TensorCore

/// The jobs whose model input the data decides: binary classification of CSV rows and node
/// classification on a graph. Loading is deterministic (the split from the seed, the
/// standardisation from the training split), so every rank, a resumed run and `ddp eval`
/// rebuild exactly the same inputs without storing them.
extension JobFactory {
    /// The CSV rows, standardised with the statistics of the training split, and the stratified split.
    static func loadTabular(_ config: JobConfig, from dir: String) throws -> (TabularDataset, train: [Int], test: [Int], Standardizer?) {
        let spec = config.data.tabular!
        let file = Datasets.DatasetName(rawValue: config.data.dataset.rawValue)!.markerFiles[0]
        var data = try TabularDataset(CSVTable(contentsOf: DataFile.locate(file, in: dir)), label: spec.labelColumn, ignoring: spec.ignoredColumns)
        let (train, test) = StratifiedSplit.trainTest(labels: data.labels, classCount: 2, testFraction: spec.testFraction,
                                                      seed: spec.splitSeed ?? config.seed)
        guard !train.isEmpty, !test.isEmpty else {
            throw DataError(.badLength, file: data.source, "data.test_fraction \(spec.testFraction) of \(data.count) rows leaves \(train.count) for training and \(test.count) for testing; both need at least one")
        }
        let standardizer = spec.standardize ? Standardizer(fitting: data.features, columns: data.featureCount, rows: train) : nil
        standardizer?.apply(to: &data.features)
        return (data, train, test, standardizer)
    }

    static func tabularWorkload(_ config: JobConfig, comm: Communicator, data: TabularDataset, train: [Int], test: [Int],
                                standardizer: Standardizer?, model: Sequential) -> TabularWorkload {
        let loss = config.loss!
        let trainer = DataParallelTrainer(model: model, loss: loss, metric: config.metrics.first ?? loss.accuracyMetric, comm: comm,
                                          options: config.parallelOptions, optimizer: config.makeOptimizer())
        guard case .binaryCrossentropy(let fromLogits) = loss else { preconditionFailure("validated: binary cross-entropy") }
        let t = config.training
        return TabularWorkload(trainer: trainer, data: data, trainRows: train, testRows: test, standardizer: standardizer,
                               threshold: fromLogits ? 0 : 0.5, microBatch: t.batchSize, evaluationBatch: t.evalBatchSize, seed: config.seed)
    }

    /// The graph, its training and test nodes, and the network with the normalised adjacency
    /// D^−½ (A + I) D^−½ set on every GraphConv layer, wrapped to take node numbers.
    static func loadGraph(_ config: JobConfig) throws -> (NodeGraph, train: [Int], test: [Int], NodeClassifier) {
        let spec = config.data.graph!
        let graph = try NodeGraph(edges: spec.edgesPath, labels: spec.labelsPath)
        let n = graph.nodeCount
        let train: [Int]
        if let nodes = spec.trainNodes {
            if let i = nodes.firstIndex(where: { $0 >= n }) {
                throw spec.error("train_nodes", index: i, "node \(nodes[i]) does not exist: \(graph.labelFile) has nodes 0..<\(n)")
            }
            train = nodes.sorted()
        } else {
            let k = spec.trainPerClass!
            train = StratifiedSplit.split(labels: graph.labels, classCount: graph.classCount, seed: spec.splitSeed ?? config.seed) { _ in k }.taken
        }
        let test = (0..<n).filter { !train.contains($0) }
        guard !test.isEmpty else { throw spec.error(spec.trainNodes == nil ? "train_per_class" : "train_nodes", "every node is a training node: none is left to test on") }
        let features: Tensor
        switch spec.features {
        case .identity:
            features = Tensor(zeros: [n, n])
            for i in 0..<n { features.data[i * n + i] = 1 }
        }
        let network = try config.buildNodeNetwork(nodes: n, features: features.shape[1], classes: graph.classCount, source: graph.labelFile)
        let adjacency = try GraphConv.normalizedAdjacency(nodeCount: n, edges: graph.edges.map { ($0.a, $0.b) })
        for case let layer as GraphConv in network.layers { layer.adjacency = adjacency }
        return (graph, train, test, NodeClassifier(network: network, features: features))
    }

    static func nodeClassificationWorkload(_ config: JobConfig, comm: Communicator, graph: NodeGraph, train: [Int], test: [Int],
                                           model: NodeClassifier) -> NodeClassificationWorkload {
        let loss = config.loss!
        let trainer = DataParallelTrainer(model: model, loss: loss, metric: config.metrics.first ?? loss.accuracyMetric, comm: comm,
                                          options: config.parallelOptions, optimizer: config.makeOptimizer())
        let t = config.training
        return NodeClassificationWorkload(trainer: trainer, graph: graph, trainNodes: train, testNodes: test, microBatch: t.batchSize,
                                          evaluationBatch: t.evalBatchSize, seed: config.seed)
    }

    /// The model of a binary or node classification job as built for its data (`ddp summary`);
    /// for node classification, the per-node network over the whole graph.
    public static func dataShapedModel(_ config: JobConfig, dataDirectory explicit: String?) throws -> Sequential {
        switch config.task {
        case .binaryClassification where config.data.dataset == .imageFolder:
            return try config.buildModel()
        case .binaryClassification:
            let (data, _, _, _) = try loadTabular(config, from: try dataDirectory(config, explicit: explicit))
            return try config.buildBinaryClassifier(features: data.featureCount, source: data.source)
        case .nodeClassification:
            return try loadGraph(config).3.network
        default:
            preconditionFailure("task \(config.task.rawValue) is not data-shaped")
        }
    }
}
