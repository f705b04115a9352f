/// MNIST and Fashion-MNIST: the same four IDX files (raw or `.gz`) in one folder, 28x28 grey
/// images, 10 classes.
public enum MNIST {
    /// Images are `side` × `side` pixels.
    public static let side = 28

    public enum Variant: Sendable {
        case digits, fashion

        public var classNames: [String] {
            switch self {
            case .digits: return (0...9).map(String.init)
            case .fashion: return ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
            }
        }

        var name: String { self == .digits ? "mnist" : "fashion-mnist" }
    }

    /// The images and labels file names of a split, without `.gz`.
    public static func fileNames(_ split: DataSplit) -> (images: String, labels: String) {
        let prefix = split == .train ? "train" : "t10k"
        return ("\(prefix)-images-idx3-ubyte", "\(prefix)-labels-idx1-ubyte")
    }

    /// Reads one split from `directory`, checking that images and labels agree in count.
    public static func load(from directory: String, split: DataSplit, variant: Variant = .digits) throws -> ImageDataset {
        let names = fileNames(split)
        let imagesPath = try DataFile.locate(names.images, in: directory)
        let labelsPath = try DataFile.locate(names.labels, in: directory)
        let images = try IDX.readImages(imagesPath)
        guard images.rows == side && images.columns == side else {
            throw DataError(.badHeader, file: imagesPath, at: "byte 8",
                            "\(side)x\(side) images expected for \(variant.name), found \(images.rows)x\(images.columns)")
        }
        let labels = try IDX.readLabels(labelsPath, classCount: 10)
        guard images.count == labels.count else {
            throw DataError(.countMismatch, file: labelsPath, at: "byte 4",
                            "\(grouped(images.count)) labels expected to match \(imagesPath), found \(grouped(labels.count))")
        }
        return ImageDataset(name: "\(variant.name) \(split.rawValue)", height: images.rows, width: images.columns,
                            channels: 1, classNames: variant.classNames, pixels: images.pixels, labels: labels)
    }
}
