/// The binary version of CIFAR-10: files of 3073-byte records, a label byte then the 32x32
/// image as 1024 red, 1024 green and 1024 blue bytes (channel-major), raw or `.gz`. Reading
/// converts the images to NHWC (channels last), the layout of `ImageDataset`.
public enum CIFAR10 {
    public static let side = 32
    public static let imageBytes = 3 * 32 * 32
    public static let recordBytes = 1 + imageBytes
    public static let classCount = 10
    /// Used when the folder has no `batches.meta.txt`.
    public static let defaultClassNames = ["airplane", "automobile", "bird", "cat", "deer",
                                           "dog", "frog", "horse", "ship", "truck"]

    /// The batch files of a split, without `.gz`.
    public static func fileNames(_ split: DataSplit) -> [String] {
        split == .train ? (1...5).map { "data_batch_\($0).bin" } : ["test_batch.bin"]
    }

    /// Reads every batch file of a split from `directory`, with class names from
    /// `batches.meta.txt` when it is there.
    public static func load(from directory: String, split: DataSplit) throws -> ImageDataset {
        var pixels: [UInt8] = []
        var labels: [Int32] = []
        for name in fileNames(split) {
            let path = try DataFile.locate(name, in: directory)
            let batch = try parseBatch(DataFile.read(path), file: path)
            if pixels.isEmpty { (pixels, labels) = batch } else { pixels += batch.pixels; labels += batch.labels }
        }
        return ImageDataset(name: "cifar10 \(split.rawValue)", height: side, width: side, channels: 3,
                            classNames: try classNames(in: directory), pixels: pixels, labels: labels)
    }

    /// The images (NHWC) and labels of one batch file's bytes, checked.
    public static func parseBatch(_ bytes: [UInt8], file: String) throws -> (pixels: [UInt8], labels: [Int32]) {
        let count = bytes.count / recordBytes
        guard bytes.count % recordBytes == 0 else {
            throw DataError(.badLength, file: file, "length a multiple of the \(grouped(recordBytes))-byte record expected, found \(grouped(bytes.count)) bytes (\(grouped(count)) records and \(grouped(bytes.count % recordBytes)) bytes)")
        }
        let labels = try (0..<count).map { r -> Int32 in
            let label = bytes[r * recordBytes]
            guard label < classCount else {
                throw DataError(.valueOutOfRange, file: file, at: "byte \(grouped(r * recordBytes)) (record \(grouped(r)))",
                                "label in 0...\(classCount - 1) expected, found \(label)")
            }
            return Int32(label)
        }
        let plane = side * side
        let pixels = bytes.withUnsafeBufferPointer { src in
            [UInt8](unsafeUninitializedCapacity: count * imageBytes) { dst, initialized in
                for r in 0..<count {
                    let record = src.baseAddress! + r * recordBytes + 1
                    let out = dst.baseAddress! + r * imageBytes
                    for c in 0..<3 {
                        let channel = record + c * plane
                        for k in 0..<plane { out[3 * k + c] = channel[k] }
                    }
                }
                initialized = count * imageBytes
            }
        }
        return (pixels, labels)
    }

    /// Class names from `batches.meta.txt` (one per line, blank lines ignored), or the standard
    /// ones when that file is absent.
    public static func classNames(in directory: String) throws -> [String] {
        let path = DataFile.join(directory, "batches.meta.txt")
        guard DataFile.isFile(path) else { return defaultClassNames }
        let text = String(decoding: try DataFile.read(path), as: UTF8.self)
        let names = text.split(whereSeparator: \.isNewline).map { $0.trimmingSpaces() }.filter { !$0.isEmpty }
        guard names.count == classCount else {
            throw DataError(.badLength, file: path, "\(classCount) class names (one per line) expected, found \(names.count)")
        }
        return names
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
