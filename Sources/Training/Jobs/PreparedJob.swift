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
    }

    public let config: JobConfig
    let parts: Parts

    /// The workload on `comm`. Creating the trainers broadcasts rank 0's parameters, so every
    /// rank of `comm` must call this.
    public func workload(comm: Communicator) -> Workload {
        let t = config.training
        switch parts {
        case let .classification(train, test, model):
            let trainer = DataParallelTrainer(model: model, loss: config.loss!, metric: config.metrics.first ?? config.loss!.accuracyMetric,
                                              comm: comm, options: config.parallelOptions, optimizer: config.makeOptimizer())
            return ClassificationWorkload(trainer: trainer, train: train, test: test, scaling: JobFactory.scaling(config),
                                          microBatch: t.batchSize, evaluationBatch: t.evalBatchSize, seed: config.seed)
        case let .languageModel(corpus, model):
            let (train, validation) = corpus.split(trainFraction: 1 - (config.data.validationFraction ?? 0.1))
            let trainer = DataParallelTrainer(model: model, loss: config.loss ?? .sparseCategoricalCrossentropy(fromLogits: true),
                                              metric: nil, comm: comm, options: config.parallelOptions, optimizer: config.makeOptimizer())
            return LanguageModelWorkload(trainer: trainer, vocabulary: corpus.vocabulary, train: train, validation: validation,
                                         sequenceLength: config.data.sequenceLength!, microBatch: t.batchSize,
                                         evaluationBatch: t.evalBatchSize, seed: config.seed)
        case let .gan(train, g, d):
            let trainer = GANTrainer(generator: g, discriminator: d, latentDimension: config.latentDim!, seed: config.seed,
                                     comm: comm, options: config.parallelOptions,
                                     generatorOptimizer: config.makeOptimizer(), discriminatorOptimizer: config.makeOptimizer())
            return GANWorkload(trainer: trainer, train: train, batchSize: t.batchSize)
        }
    }
}
