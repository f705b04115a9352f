import Comm
import Datasets
import NN

/// A job whose data is loaded and whose models are built (`JobFactory.prepare`), waiting for
/// a communicator to become a workload.
public struct PreparedJob {
    enum Parts {
        case classification(train: ImageDataset, test: ImageDataset, model: Sequential)
        case languageModel(corpus: TextCorpus, model: Sequential)
        case gan(train: ImageDataset, generator: Sequential, discriminator: Sequential)
        case tabular(data: TabularDataset, train: [Int], test: [Int], standardizer: Standardizer?, model: Sequential)
        case nodes(graph: NodeGraph, train: [Int], test: [Int], model: NodeClassifier)
    }

    public let config: JobConfig
    let parts: Parts

    /// The workload on `comm`. The ranks first check that they all run the same configuration
    /// and model (`ConsistencyCheck`); creating the trainers broadcasts rank 0's parameters.
    /// Every rank of `comm` must call this.
    public func workload(comm: Communicator) throws -> Workload {
        let t = config.training
        switch parts {
        case let .classification(train, test, model):
            try ConsistencyCheck.verify(config, networks: [("", model)], comm: comm)
            let trainer = DataParallelTrainer(model: model, loss: config.loss!, metric: config.metrics.first ?? config.loss!.accuracyMetric,
                                              comm: comm, options: config.parallelOptions, optimizer: config.makeOptimizer())
            return ClassificationWorkload(trainer: trainer, train: train, test: test, scaling: JobFactory.scaling(config),
                                          microBatch: t.batchSize, evaluationBatch: t.evalBatchSize, seed: config.seed,
                                          augmentation: config.data.augment)
        case let .languageModel(corpus, model):
            try ConsistencyCheck.verify(config, networks: [("", model)], comm: comm)
            let (train, validation) = corpus.split(trainFraction: 1 - (config.data.validationFraction ?? 0.1))
            let trainer = DataParallelTrainer(model: model, loss: config.loss ?? .sparseCategoricalCrossentropy(fromLogits: true),
                                              metric: nil, comm: comm, options: config.parallelOptions, optimizer: config.makeOptimizer())
            return try LanguageModelWorkload(trainer: trainer, vocabulary: corpus.vocabulary, train: train, validation: validation,
                                             sequenceLength: config.data.sequenceLength!, microBatch: t.batchSize,
                                             evaluationBatch: t.evalBatchSize, randomOffsets: config.data.randomOffsets ?? true,
                                             seed: config.seed)
        case let .gan(train, g, d):
            try ConsistencyCheck.verify(config, networks: [(Checkpoint.generatorPrefix, g), (Checkpoint.discriminatorPrefix, d)], comm: comm)
            let trainer = GANTrainer(generator: g, discriminator: d, latentDimension: config.latentDim!, seed: config.seed,
                                     comm: comm, options: config.parallelOptions,
                                     generatorOptimizer: config.makeOptimizer(), discriminatorOptimizer: config.makeOptimizer())
            return GANWorkload(trainer: trainer, train: train, batchSize: t.batchSize)
        case let .tabular(data, train, test, standardizer, model):
            try ConsistencyCheck.verify(config, networks: [("", model)], comm: comm)
            return JobFactory.tabularWorkload(config, comm: comm, data: data, train: train, test: test, standardizer: standardizer, model: model)
        case let .nodes(graph, train, test, model):
            try ConsistencyCheck.verify(config, networks: [("", model)], comm: comm)
            return JobFactory.nodeClassificationWorkload(config, comm: comm, graph: graph, train: train, test: test, model: model)
        }
    }
}
