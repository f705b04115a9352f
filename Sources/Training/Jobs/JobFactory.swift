import Comm
import Datasets
import Foundation
import NN
import TensorCore

/// Turns a validated `JobConfig` into a workload on a communicator: loads the data set, builds
/// the model(s), the optimizer(s) and the data-parallel trainer.
public enum JobFactory {
    /// The folder holding `config`'s data set: `--data-dir` (`explicit`), then `data.dir`, then
    /// `DDP_DATA_DIR` and the defaults.
    public static func dataDirectory(_ config: JobConfig, explicit: String?) throws -> String {
        let name = Datasets.DatasetName(rawValue: config.data.dataset.rawValue)!
        return try DataDirectory.resolve(name, explicit: explicit ?? config.data.directory)
    }

    /// Ranks first check that they all run the same configuration and model (`ConsistencyCheck`).
    public static func makeWorkload(_ config: JobConfig, comm: Communicator, dataDirectory explicit: String? = nil) throws -> Workload {
        // A graph's files are named in the config itself; the other data sets live in a data folder.
        let dir = config.data.graph == nil ? try dataDirectory(config, explicit: explicit) : ""
        let t = config.training
        switch config.task {
        case .classification:
            let (train, test) = try loadImages(config, from: dir)
            let model = try config.buildModel()
            try ConsistencyCheck.verify(config, networks: [("", model)], comm: comm)
            let trainer = DataParallelTrainer(model: model, loss: config.loss!, metric: config.metrics.first ?? config.loss!.accuracyMetric,
                                              comm: comm, options: config.parallelOptions, optimizer: config.makeOptimizer())
            return ClassificationWorkload(trainer: trainer, train: train, test: test, scaling: scaling(config),
                                          microBatch: t.batchSize, evaluationBatch: t.evalBatchSize, seed: config.seed)
        case .languageModel:
            let corpus = try TextCorpus(contentsOf: DataFile.join(dir, "input.txt"))
            let (train, validation) = corpus.split(trainFraction: 1 - (config.data.validationFraction ?? 0.1))
            let model = try config.buildModel(vocabularySize: corpus.vocabulary.count)
            try ConsistencyCheck.verify(config, networks: [("", model)], comm: comm)
            let trainer = DataParallelTrainer(model: model, loss: config.loss ?? .sparseCategoricalCrossentropy(fromLogits: true),
                                              metric: nil, comm: comm, options: config.parallelOptions, optimizer: config.makeOptimizer())
            return try LanguageModelWorkload(trainer: trainer, vocabulary: corpus.vocabulary, train: train, validation: validation,
                                         sequenceLength: config.data.sequenceLength!, microBatch: t.batchSize,
                                         evaluationBatch: t.evalBatchSize, randomOffsets: config.data.randomOffsets ?? true,
                                         seed: config.seed)
        case .gan:
            let (train, _) = try loadImages(config, from: dir, test: false)
            let (g, d) = try config.buildGAN()
            try ConsistencyCheck.verify(config, networks: [(Checkpoint.generatorPrefix, g), (Checkpoint.discriminatorPrefix, d)], comm: comm)
            let trainer = GANTrainer(generator: g, discriminator: d, latentDimension: config.latentDim!, seed: config.seed,
                                     comm: comm, options: config.parallelOptions,
                                     generatorOptimizer: config.makeOptimizer(), discriminatorOptimizer: config.makeOptimizer())
            return GANWorkload(trainer: trainer, train: train, batchSize: t.batchSize)
        case .binaryClassification:
            return try makeTabular(config, comm: comm, dataDirectory: dir)
        case .nodeClassification:
            return try makeNodeClassification(config, comm: comm)
        }
    }

    public static func runSettings(_ config: JobConfig, outputDirectory: String?) -> RunSettings {
        let t = config.training
        var s = RunSettings(name: config.name, seed: config.seed, epochs: t.epochs, outputDirectory: outputDirectory ?? config.outputDirectory)
        s.maxSteps = t.maxSteps
        s.shuffle = t.shuffle
        s.dropLast = t.dropLast
        s.logEverySteps = t.logEverySteps
        s.sampleEverySteps = t.sampleEverySteps
        s.checkpointEverySteps = config.checkpoint.everySteps
        s.keepCheckpoints = config.checkpoint.keep
        s.configDigest = config.trajectoryDigestHex
        s.nonFinite = t.nonFinite
        s.maxConsecutiveSkips = t.maxConsecutiveSkips
        return s
    }

    static func scaling(_ config: JobConfig) -> PixelScaling {
        config.data.scale == .symmetric ? .symmetric : .unitInterval
    }

    /// The training split (and the test split) of an image data set, cut to the configured limits.
    static func loadImages(_ config: JobConfig, from dir: String, test: Bool = true) throws -> (ImageDataset, ImageDataset) {
        func load(_ split: DataSplit, limit: Int?) throws -> ImageDataset {
            let full: ImageDataset
            switch config.data.dataset {
            case .cifar10: full = try CIFAR10.load(from: dir, split: split)
            case .fashionMNIST: full = try MNIST.load(from: dir, split: split, variant: .fashion)
            default: full = try MNIST.load(from: dir, split: split, variant: .digits)
            }
            guard let limit, limit < full.count else { return full }
            return ImageDataset(name: full.name, height: full.height, width: full.width, channels: full.channels,
                                classNames: full.classNames, pixels: Array(full.pixels.prefix(limit * full.sampleSize)),
                                labels: Array(full.labels.prefix(limit)))
        }
        let train = try load(.train, limit: config.data.trainLimit)
        return (train, test ? try load(.test, limit: config.data.testLimit) : train)
    }
}
