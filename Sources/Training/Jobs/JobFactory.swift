import Comm
import Datasets
import Foundation
import NN
import TensorCore

/// Turns a validated `JobConfig` into a workload on a communicator: loads the data set, builds
/// the model(s), the optimizer(s) and the data-parallel trainer.
public enum JobFactory {
    /// The folder holding `config`'s data set: in `--data-dir` (`explicit`) when given, else in
    /// `data.dir` when set, else in `DDP_DATA_DIR` or the defaults. A directory named by the user
    /// is the only one searched.
    public static func dataDirectory(_ config: JobConfig, explicit: String?) throws -> String {
        let (dataset, folder) = (config.data.dataset, config.data.folder)
        if let explicit { return try DataDirectory.resolve(dataset, folder: folder, explicit: explicit, origin: "--data-dir") }
        return try DataDirectory.resolve(dataset, folder: folder, explicit: config.data.directory, origin: "data.dir of the config")
    }

    /// The workload of `config` on `comm`: `prepare` then `PreparedJob.workload(comm:)`.
    public static func makeWorkload(_ config: JobConfig, comm: Communicator, dataDirectory explicit: String? = nil) throws -> Workload {
        try prepare(config, dataDirectory: explicit).workload(comm: comm)
    }

    /// Everything of a job that can fail because of the user's input — the data set's folder and
    /// files, the model shapes — done before any rank talks to another, so every rank can learn
    /// whether all succeeded before the first collective (the parameter broadcast).
    public static func prepare(_ config: JobConfig, dataDirectory explicit: String? = nil) throws -> PreparedJob {
        // A graph's files are named in the config itself; the other data sets live in a data folder.
        let dir = config.data.graph == nil ? try dataDirectory(config, explicit: explicit) : ""
        switch config.task {
        case .classification:
            let (train, test) = try loadClassificationSamples(config, from: dir)
            let model = try config.buildModel(classCount: train.classCount)
            return PreparedJob(config: config, parts: .classification(train: train, test: test, model: model))
        case .languageModel:
            let corpus = try TextCorpus(contentsOf: DataFile.join(dir, "input.txt"))
            let model = try config.buildModel(vocabularySize: corpus.vocabulary.count)
            return PreparedJob(config: config, parts: .languageModel(corpus: corpus, model: model))
        case .gan:
            let (train, _) = try loadImages(config, from: dir, test: false)
            let (g, d) = try config.buildGAN()
            return PreparedJob(config: config, parts: .gan(train: train, generator: g, discriminator: d))
        case .binaryClassification where config.data.dataset == .imageFolder:
            let (train, test) = try loadClassificationSamples(config, from: dir)
            return PreparedJob(config: config, parts: .classification(train: train, test: test, model: try config.buildModel()))
        case .binaryClassification:
            let (data, train, test, standardizer) = try loadTabular(config, from: dir)
            let model = try config.buildBinaryClassifier(features: data.featureCount, source: data.source)
            return PreparedJob(config: config, parts: .tabular(data: data, train: train, test: test, standardizer: standardizer, model: model))
        case .translation:
            let data = try config.loadTranslationData(from: dir)
            return PreparedJob(config: config, parts: .translation(data: data, model: try config.buildTranslationModel(data)))
        case .nodeClassification:
            let (graph, train, test, model) = try loadGraph(config)
            return PreparedJob(config: config, parts: .nodes(graph: graph, train: train, test: test, model: model))
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
        if let factor = config.data.rescale { return .factor(Float(factor)) }
        return config.data.scale == .symmetric ? .symmetric : .unitInterval
    }

    /// The two splits a classifier learns from: audio features standardised on the training
    /// split, or images scaled as configured; cut to the configured limits.
    static func loadClassificationSamples(_ config: JobConfig, from dir: String) throws -> (any LabelledSamples, any LabelledSamples) {
        if let audio = config.data.audio {
            return try SpokenDigits.loadStandardized(from: dir, settings: audio.settings, trainLimit: config.data.trainLimit,
                                                     testLimit: config.data.testLimit)
        }
        let (train, test) = try loadImages(config, from: dir)
        return (ScaledImages(images: train, scaling: scaling(config)), ScaledImages(images: test, scaling: scaling(config)))
    }

    /// The training split (and the test split) of an image data set, cut to the configured limits.
    /// An image folder's test split must have the training split's classes, and exactly two for
    /// binary classification.
    static func loadImages(_ config: JobConfig, from dir: String, test: Bool = true) throws -> (ImageDataset, ImageDataset) {
        var classNames: [String]?
        func load(_ split: DataSplit, limit: Int?) throws -> ImageDataset {
            let full: ImageDataset
            switch config.data.dataset {
            case .imageFolder:
                let size = config.data.targetSize!
                full = try ImageFolder.load(from: DataFile.join(dir, split.rawValue), height: size.height, width: size.width,
                                            limit: limit, classNames: classNames, name: "\(config.data.folder!) \(split.rawValue)")
                classNames = full.classNames
                if config.task == .binaryClassification && full.classCount != 2 {
                    throw DataError(.valueOutOfRange, file: DataFile.join(dir, split.rawValue),
                                    "binary classification needs 2 class folders, found \(full.classCount): \(full.classNames.joined(separator: ", "))")
                }
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
