import Datasets
import Foundation
import Training

/// `ddp image-folder`: writes classes of an image data set (CIFAR-10, MNIST, Fashion-MNIST) as
/// a class-folder image set, `OUT/train/<class>/NNNNN.png` and `OUT/test/<class>/…`, where
/// NNNNN is the image's index in its split, so image-folder jobs can train on real images.
struct ImageFolderCommand {
    static let usage = """
    usage: ddp image-folder --dataset NAME --classes A,B[,...] --out DIR [--data-dir DIR] [--jpeg-every K] [--jpeg-quality Q]

    Writes the named classes of NAME (cifar10, mnist, fashion-mnist; class names as the data set
    has them, e.g. cat,dog) as DIR/train/<class>/NNNNN.png and DIR/test/<class>/NNNNN.png through
    libpng. With --jpeg-every K, every K-th image of each class (its 1st, K+1-th, ...) is written
    as NNNNN.jpg through libjpeg instead, at quality Q (default 95). DIR must not exist yet.
    """

    let options: Options
    init(arguments: [String]) throws {
        options = try Options(arguments, known: ["dataset", "classes", "out", "data-dir", "jpeg-every", "jpeg-quality"])
    }

    func run() throws {
        _ = try options.positionals([])
        guard let name = options.value("dataset"), let dataset = DatasetName(rawValue: name),
              [.cifar10, .mnist, .fashionMNIST].contains(dataset) else {
            throw UsageError(description: "--dataset needs one of cifar10, mnist, fashion-mnist, got '\(options.value("dataset") ?? "nothing")'")
        }
        guard let out = options.value("out") else { throw UsageError(description: "ddp image-folder needs --out DIR") }
        guard !FileManager.default.fileExists(atPath: out) else { throw UsageError(description: "--out \(out) exists already") }
        let classes = (options.value("classes") ?? "").split(separator: ",").map(String.init)
        let jpegEvery = options.value("jpeg-every") == nil ? nil : try options.positiveInt("jpeg-every", default: 1)
        let quality = try options.positiveInt("jpeg-quality", default: 95)
        guard quality <= 100 else { throw UsageError(description: "--jpeg-quality needs 1...100, got \(quality)") }
        let dir = try DataDirectory.resolve(dataset, explicit: options.value("data-dir"))
        for split in DataSplit.allCases {
            let data: ImageDataset
            switch dataset {
            case .cifar10: data = try CIFAR10.load(from: dir, split: split)
            case .fashionMNIST: data = try MNIST.load(from: dir, split: split, variant: .fashion)
            default: data = try MNIST.load(from: dir, split: split, variant: .digits)
            }
            guard classes.count >= 2, Set(classes).count == classes.count, classes.allSatisfy(data.classNames.contains) else {
                throw UsageError(description: "--classes needs at least two distinct classes of \(name) (\(data.classNames.joined(separator: ",")))")
            }
            var written = 0, jpegs = 0
            for cls in classes {
                let label = Int32(data.classNames.firstIndex(of: cls)!)
                let folder = "\(out)/\(split.rawValue)/\(cls)"
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                for (k, i) in data.labels.indices.filter({ data.labels[$0] == label }).enumerated() {
                    let pixels = Array(data.pixels[(i * data.sampleSize)..<((i + 1) * data.sampleSize)])
                    let asJPEG = jpegEvery.map { k % $0 == 0 } ?? false
                    let bytes = asJPEG
                        ? ImageCodec.encodeJPEG(pixels, height: data.height, width: data.width, channels: data.channels, quality: quality)
                        : ImageCodec.encodePNG(pixels, height: data.height, width: data.width, channels: data.channels)
                    let file = "\(folder)/\(String(format: "%05d", i)).\(asJPEG ? "jpg" : "png")"
                    guard FileManager.default.createFile(atPath: file, contents: Data(bytes)) else {
                        throw DataError(.unreadable, file: file, "cannot write the file")
                    }
                    written += 1
                    if asJPEG { jpegs += 1 }
                }
            }
            say("\(out)/\(split.rawValue): \(written) images of \(classes.joined(separator: ", ")) (\(jpegs) JPEG)")
        }
    }
}
