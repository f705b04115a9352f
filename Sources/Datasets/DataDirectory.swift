#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The data sets the project knows by name; the raw value is the folder name.
public enum DatasetName: String, CaseIterable, Sendable {
    case mnist
    case fashionMNIST = "fashion-mnist"
    case cifar10
    case tinyShakespeare = "tinyshakespeare"
    case tatoebaEngFra = "tatoeba-eng-fra"
    case creditcardFraudSample = "creditcard-fraud-sample"
    /// Zachary's karate club; its two small files ship with the configs and are named there.
    case karateClub = "karate-club"
    /// Images in class folders (`ImageFolder`): the config names the folder, which holds
    /// `train/<class>/…` and `test/<class>/…`.
    case imageFolder = "image-folder"
    /// WAV clips of the digits in train/<digit>/ and test/<digit>/ (launch/data/make-spoken-digits.sh).
    case spokenDigits = "spoken-digits"

    /// Files (each raw or `.gz`; a name ending in "/" is a folder) of which a folder must hold
    /// at least one to be taken for this data set, so an empty or unrelated folder of the right
    /// name is passed over.
    public var markerFiles: [String] {
        switch self {
        case .mnist, .fashionMNIST: return [MNIST.fileNames(.train).images, MNIST.fileNames(.test).images]
        case .cifar10: return CIFAR10.fileNames(.train) + CIFAR10.fileNames(.test)
        case .tinyShakespeare: return ["input.txt"]
        case .tatoebaEngFra: return ["eng-fra.txt"]
        case .creditcardFraudSample: return ["creditcard_sample.csv"]
        case .karateClub: return ["karate_club.edges", "karate_club.labels"]
        case .imageFolder, .spokenDigits: return ["train/"]
        }
    }

    /// Whether `folder` holds this data set: one of its markers (a marker ending in "/" is a
    /// folder, e.g. an image folder's or the spoken digits' `train/`).
    func isPresent(in folder: String) -> Bool {
        markerFiles.contains { name in
            name.hasSuffix("/") ? DataFile.isDirectory(DataFile.join(folder, String(name.dropLast())))
                                : (try? DataFile.locate(name, in: folder)) != nil
        }
    }

    /// Why `folder` was passed over although it exists.
    var absenceReason: String {
        if self == .imageFolder { return "folder has no train/ subfolder (train/<class>/*.png|jpg|jpeg)" }
        return "folder has no " + markerFiles.map { $0.hasSuffix("/") ? $0 : $0 + "[.gz]" }.joined(separator: " or ")
    }

    /// How to get the data set, for `DatasetNotFound`.
    public var howToGet: String {
        let files: String
        switch self {
        case .mnist, .fashionMNIST:
            files = [DataSplit.train, .test].flatMap { [MNIST.fileNames($0).images, MNIST.fileNames($0).labels] }
                .map { $0 + ".gz" }.joined(separator: ", ")
        case .cifar10: files = "data_batch_1..5.bin[.gz], test_batch.bin[.gz], batches.meta.txt"
        case .imageFolder:
            return "pass --data-dir DIR (or set \(DataDirectory.environmentVariable)=DIR, or data.dir) where DIR contains the folder "
                + "with train/<class>/*.png|jpg|jpeg and test/<class>/…; launch/data/make-cifar-pngs.sh writes one from CIFAR-10"
        case .spokenDigits:
            return "run launch/data/make-spoken-digits.sh DIR/\(rawValue) (needs apt-get install espeak-ng), then pass --data-dir DIR "
                + "(or set \(DataDirectory.environmentVariable)=DIR); any folder with train/0..9/*.wav and test/0..9/*.wav will do"
        default: files = markerFiles.joined(separator: ", ")
        }
        let folder = "pass --data-dir DIR (or set \(DataDirectory.environmentVariable)=DIR) where DIR contains \(rawValue)/ with \(files)"
        if self == .fashionMNIST {
            return "apt-get install dataset-fashion-mnist (installs \(DataDirectory.systemFashionMNIST)), or \(folder)"
        }
        return folder + "; a checkout next to the project's shared/ folder finds shared/data by itself"
    }
}

/// Finds the folder of a named data set. A data directory given explicitly (`--data-dir` or
/// the config's `data.dir`, relative to the current directory) is the only place searched: a
/// folder the user named that lacks the data is an error naming it, not a silent fall-back to
/// other data. Otherwise these folders are tried in order, and the first that holds one of the
/// data set's marker files wins:
/// 1. `$DDP_DATA_DIR/NAME`,
/// 2. `../shared/data/NAME` relative to the current directory (where a checkout sits next to shared/),
/// 3. for Fashion-MNIST, `/usr/share/datasets/fashion-mnist` (Debian's `dataset-fashion-mnist`).
public enum DataDirectory {
    public static let environmentVariable = "DDP_DATA_DIR"
    public static let systemFashionMNIST = "/usr/share/datasets/fashion-mnist"

    /// A folder to try, and where it came from ("--data-dir", "DDP_DATA_DIR", "default").
    public struct Candidate: Sendable, Equatable {
        public let path: String
        public let origin: String
    }

    /// The folders tried for `dataset`, in order, each once: `explicit/NAME` alone when
    /// `explicit` is given (`origin` says where it came from), else the defaults. NAME is
    /// `folder` when given (an image folder's name; an absolute one is the only candidate), else
    /// the data set's name. `environment` nil reads the process environment; `currentDirectory`
    /// nil asks the process.
    public static func candidates(for dataset: DatasetName, folder: String? = nil, explicit: String? = nil, origin: String = "--data-dir",
                                  environment: [String: String]? = nil, currentDirectory: String? = nil) -> [Candidate] {
        let cwd = currentDirectory ?? DataFile.currentDirectory()
        let name = folder ?? dataset.rawValue
        if name.hasPrefix("/") { return [Candidate(path: name, origin: "absolute path in the config")] }
        if let dir = explicit, !dir.isEmpty {
            return [Candidate(path: DataFile.join(DataFile.join(cwd, dir), name), origin: origin)]
        }
        let fromEnvironment = environment.map { $0[environmentVariable] } ?? getenv(environmentVariable).map { String(cString: $0) }
        var list: [Candidate] = []
        if let dir = fromEnvironment, !dir.isEmpty {
            list.append(Candidate(path: DataFile.join(DataFile.join(cwd, dir), name), origin: environmentVariable))
        }
        list.append(Candidate(path: DataFile.join(cwd, "../shared/data/" + name), origin: "default, relative to the current directory"))
        if dataset == .fashionMNIST {
            list.append(Candidate(path: systemFashionMNIST, origin: "default, Debian package dataset-fashion-mnist"))
        }
        // A folder named twice (DDP_DATA_DIR pointing at the default) is tried once.
        return list.enumerated().filter { i, c in !list[..<i].contains { $0.path == c.path } }.map(\.element)
    }

    /// The first candidate folder that holds the data set; `DatasetNotFound` lists them all.
    public static func resolve(_ dataset: DatasetName, folder: String? = nil, explicit: String? = nil, origin: String = "--data-dir",
                               environment: [String: String]? = nil, currentDirectory: String? = nil) throws -> String {
        var attempts: [DatasetNotFound.Attempt] = []
        for candidate in candidates(for: dataset, folder: folder, explicit: explicit, origin: origin, environment: environment,
                                    currentDirectory: currentDirectory) {
            guard DataFile.isDirectory(candidate.path) else {
                attempts.append(.init(candidate: candidate, reason: "no such folder"))
                continue
            }
            if dataset.isPresent(in: candidate.path) { return candidate.path }
            attempts.append(.init(candidate: candidate, reason: dataset.absenceReason))
        }
        throw DatasetNotFound(dataset: dataset, folder: folder, attempts: attempts)
    }
}
