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

    /// The per-sample image shape (height, width, channels); nil for text.
    public var imageShape: [Int]? {
        switch self {
        case .fashionMNIST, .mnist: return [MNIST.side, MNIST.side, 1]
        case .cifar10: return [CIFAR10.side, CIFAR10.side, 3]
        case .tinyShakespeare, .tatoebaEngFra, .creditcardFraudSample, .karateClub: return nil
        }
    }

    /// Number of classes of an image dataset.
    public var classes: Int? { imageShape == nil ? nil : 10 }

    /// The tasks this dataset can feed.
    public var tasks: [TaskKind] {
        switch self {
        case .fashionMNIST, .mnist, .cifar10: return [.classification, .gan]
        case .tinyShakespeare: return [.languageModel]
        case .creditcardFraudSample: return [.binaryClassification]
        case .karateClub: return [.nodeClassification]
        case .tatoebaEngFra: return []
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
/// `augment`; the text dataset takes `sequence_length`, `validation_fraction` and
/// `random_offsets`; the CSV and graph data sets the keys of `TabularDataSpec` and `GraphDataSpec`.
public struct DataSpec: Sendable, Equatable {
    public var dataset: DatasetName
    /// Where the files are; nil: the readers' default location.
    public var directory: String?
    /// Images only.
    public var scale: PixelScale?
    /// Images only: use at most this many training / test examples.
    public var trainLimit: Int?
    public var testLimit: Int?
    /// Image classification only: random transforms of the training images (`data.augment`).
    public var augment: ImageAugmentation?
    /// Text only: characters per training sequence.
    public var sequenceLength: Int?
    /// Text only: the fraction of the text held out for validation.
    public var validationFraction: Double?
    /// Text only: shift each training window by a random amount within its slot, so the model
    /// does not see the same character-aligned windows every epoch.
    public var randomOffsets: Bool?
    /// CSV data sets only.
    public var tabular: TabularDataSpec?
    /// Graph data sets only (their files are named in the config, not looked up by `dir`).
    public var graph: GraphDataSpec?

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
        } else if dataset.imageShape != nil {
            scale = try r.optional("scale", default: .unit)
            trainLimit = try r.nullable("train_limit", .atLeast(1))
            testLimit = try r.nullable("test_limit", .atLeast(1))
            if task == .classification, let shape = dataset.imageShape {
                augment = try r.object("augment", required: false) { try ImageAugmentation(reading: $0, imageShape: shape) }
            }
        } else {
            sequenceLength = try r.required("sequence_length", .atLeast(1))
            validationFraction = try r.optional("validation_fraction", default: 0.1, .open(0, 1))
            randomOffsets = try r.optional("random_offsets", default: true)
        }
    }
}
