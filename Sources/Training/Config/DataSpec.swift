import Datasets

/// The data sets a job can train on: those of `Datasets.DatasetName` with a task (the others
/// are known to the data layer but no job reads them yet).
extension DatasetName: ConfigChoice {
    static let kind = "dataset"
    static let trainable = allCases.filter { !$0.tasks.isEmpty }
    static var choices: [String] { trainable.map(\.rawValue) }
    init?(choice: String) {
        guard let name = DatasetName(rawValue: choice), !name.tasks.isEmpty else { return nil }
        self = name
    }
    var choice: String { rawValue }

    /// The per-sample image shape (height, width, channels); nil for text, and for image
    /// folders, whose shape the config sets (`DataSpec.imageShape`).
    public var imageShape: [Int]? {
        switch self {
        case .fashionMNIST, .mnist: return [MNIST.side, MNIST.side, 1]
        case .cifar10: return [CIFAR10.side, CIFAR10.side, 3]
        case .tinyShakespeare, .tatoebaEngFra, .creditcardFraudSample, .karateClub, .spokenDigits: return nil
        case .imageFolder: return nil
        }
    }

    /// Number of classes of a classification data set (images, spoken digits); nil for image
    /// folders, which have as many as class folders.
    public var classes: Int? { imageShape == nil && self != .spokenDigits ? nil : 10 }

    /// The tasks this dataset can feed.
    public var tasks: [TaskKind] {
        switch self {
        case .fashionMNIST, .mnist, .cifar10: return [.classification, .gan]
        case .spokenDigits: return [.classification]
        case .tinyShakespeare: return [.languageModel]
        case .creditcardFraudSample: return [.binaryClassification]
        case .karateClub: return [.nodeClassification]
        case .tatoebaEngFra: return [.translation]
        case .imageFolder: return [.classification, .binaryClassification]
        }
    }
}

/// How image pixels are scaled.
public enum PixelScale: String, CaseIterable, Sendable, ConfigChoice {
    /// [0, 1]
    case unit
    /// [-1, 1] (a tanh generator's range)
    case symmetric

    static let kind = "pixel scale"
}

/// The `data` section. Image datasets take `scale` and the limits, and for classification
/// `augment`; image folders `folder`, `target_size`, `rescale`, the limits and `augment`; audio
/// ones the limits and the keys of `AudioDataSpec`; the text dataset takes `sequence_length`,
/// `validation_fraction` and `random_offsets`; the CSV, graph and sentence-pair data sets the
/// keys of `TabularDataSpec`, `GraphDataSpec` and `TranslationDataSpec`.
public struct DataSpec: Sendable, Equatable {
    public var dataset: DatasetName
    /// Where the files are; nil: the readers' default location.
    public var directory: String?
    /// Images only.
    public var scale: PixelScale?
    /// Images and audio only: use at most this many training / test examples.
    public var trainLimit: Int?
    public var testLimit: Int?
    /// Image classification only: random transforms of the training images (`data.augment`).
    public var augment: ImageAugmentation?
    /// Image folders only: the folder holding `train/` and `test/`, looked up like a data
    /// set's folder; the size every image is resized to; the factor from bytes to inputs.
    public var folder: String?
    public var targetSize: WindowSize?
    public var rescale: Double?
    /// Text only: characters per training sequence.
    public var sequenceLength: Int?
    /// Text only: the fraction of the text held out for validation.
    public var validationFraction: Double?
    /// Text only: shift each training window by a random amount within its slot, so the model
    /// does not see the same character-aligned windows every epoch.
    public var randomOffsets: Bool?
    /// CSV data sets only.
    public var tabular: TabularDataSpec?
    /// Audio data sets only.
    public var audio: AudioDataSpec?
    /// Graph data sets only (their files are named in the config, not looked up by `dir`).
    public var graph: GraphDataSpec?
    /// Sentence-pair data sets only.
    public var translation: TranslationDataSpec?

    init(reading r: ObjectReader, task: TaskKind) throws {
        dataset = try r.required("dataset")
        guard dataset.tasks.contains(task) else {
            let fitting = DatasetName.allCases.filter { $0.tasks.contains(task) }.map(\.rawValue)
            throw r.error("dataset", "dataset \"\(dataset.rawValue)\" does not fit task \"\(task.rawValue)\" "
                                     + "(datasets for it: \(quotedList(fitting)))")
        }
        r.scope = "for dataset \"\(dataset.rawValue)\""
        if dataset == .karateClub {
            graph = try GraphDataSpec(reading: r)
            return
        }
        directory = try r.nullable("dir", .nonEmpty)
        if dataset == .creditcardFraudSample {
            tabular = try TabularDataSpec(reading: r)
        } else if dataset == .tatoebaEngFra {
            translation = try TranslationDataSpec(reading: r)
        } else if dataset.imageShape != nil || dataset == .imageFolder || dataset == .spokenDigits {
            if dataset == .imageFolder {
                folder = try r.required("folder", .nonEmpty)
                targetSize = try r.required("target_size", .positive)
                rescale = try r.optional("rescale", default: 1.0 / 255, .greaterThan(0))
            } else if dataset == .spokenDigits {
                audio = try AudioDataSpec(reading: r)
            } else {
                scale = try r.optional("scale", default: .unit)
            }
            trainLimit = try r.nullable("train_limit", .atLeast(1))
            testLimit = try r.nullable("test_limit", .atLeast(1))
            if task != .gan, let shape = imageShape {
                augment = try r.object("augment", required: false) { try ImageAugmentation(reading: $0, imageShape: shape) }
            }
        } else {
            sequenceLength = try r.required("sequence_length", .atLeast(1))
            validationFraction = try r.optional("validation_fraction", default: 0.1, .open(0, 1))
            randomOffsets = try r.optional("random_offsets", default: true)
        }
    }

    /// The per-sample image shape: the data set's, or an image folder's RGB images at `target_size`.
    public var imageShape: [Int]? {
        dataset.imageShape ?? targetSize.map { [$0.height, $0.width, 3] }
    }
}
