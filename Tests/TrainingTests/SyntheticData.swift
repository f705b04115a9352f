import Datasets
import Foundation

/// Small data sets in the real formats, written to a temporary folder so that `ddp` tests can
/// run (and damage) them without the real data: `root/mnist/` (four raw IDX files, 28x28
/// images) and `root/cifar10/` (six gzipped batch files), `count` samples per file.
enum SyntheticData {
    static func write(to root: String, count: Int = 16) throws {
        try FileManager.default.createDirectory(atPath: root + "/mnist", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/cifar10", withIntermediateDirectories: true)
        for split in [DataSplit.train, .test] {
            let names = MNIST.fileNames(split)
            try save(idx(magic: IDX.imagesMagic, sizes: [count, MNIST.side, MNIST.side]), to: "\(root)/mnist/\(names.images)")
            try save(idx(magic: IDX.labelsMagic, sizes: [count]), to: "\(root)/mnist/\(names.labels)")
            for name in CIFAR10.fileNames(split) {
                let records = (0..<count).flatMap { r in [UInt8(r % 10)] + pattern(CIFAR10.imageBytes, seed: r) }
                try save(Gzip.compress(records), to: "\(root)/cifar10/\(name).gz")
            }
        }
    }

    /// An IDX file of unsigned bytes with the given sizes; values below 10, so labels are valid.
    static func idx(magic: UInt32, sizes: [Int]) -> [UInt8] {
        func bigEndian(_ v: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (24 - 8 * $0)) } }
        return bigEndian(Int(magic)) + sizes.flatMap(bigEndian) + pattern(sizes.reduce(1, *), seed: 0).map { $0 % 10 }
    }

    static func pattern(_ n: Int, seed: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ seed &* 7) } }

    static func save(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    static func load(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }
}
