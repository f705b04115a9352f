import Datasets
import Foundation
import XCTest

/// The damaged data files of issue 7, case by case, through the loaders the jobs use
/// (`MNIST.load` for IDX, `CIFAR10.load`): missing, truncated (raw and gzip), wrong magic
/// number, wrong dimensions, corrupt gzip stream. Each error names the file, where in it
/// (byte offset, compressed offset, record) and what was expected against what was found.
final class BadDataFileTests: XCTestCase {
    private let images = MNIST.fileNames(.test).images, labels = MNIST.fileNames(.test).labels
    private let batch = CIFAR10.fileNames(.test)[0]

    /// A folder with a valid MNIST test split of 4 images (raw IDX) and a CIFAR-10 test batch of
    /// 2 records (raw), which each case then damages.
    private func validFolder() throws -> String {
        let dir = try temporaryDirectory(self)
        try write(idxBytes(magic: IDX.imagesMagic, sizes: [4, 28, 28], payload: [UInt8](repeating: 9, count: 4 * 784)), to: "\(dir)/\(images)")
        try write(idxBytes(magic: IDX.labelsMagic, sizes: [4], payload: [3, 1, 4, 1]), to: "\(dir)/\(labels)")
        try write(([7, 2] as [UInt8]).flatMap { [$0] + [UInt8](repeating: $0, count: CIFAR10.imageBytes) }, to: "\(dir)/\(batch)")
        XCTAssertEqual(try MNIST.load(from: dir, split: .test).count, 4)
        XCTAssertEqual(try CIFAR10.load(from: dir, split: .test).count, 2)
        return dir
    }

    private func read(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }

    /// Replaces `path` by its gzip-compressed copy `path.gz`, returned.
    private func gzip(_ path: String) throws -> String {
        try write(Gzip.compress(read(path)), to: path + ".gz")
        try FileManager.default.removeItem(atPath: path)
        return path + ".gz"
    }

    func testMissingFiles() throws {
        let dir = try validFolder()
        try FileManager.default.removeItem(atPath: "\(dir)/\(images)")
        try FileManager.default.removeItem(atPath: "\(dir)/\(batch)")
        assertDataError(.unreadable, file: "\(dir)/\(images)", mentions: ["no such file (nor \(images).gz)"]) {
            try MNIST.load(from: dir, split: .test)
        }
        assertDataError(.unreadable, file: "\(dir)/\(batch)", mentions: ["no such file (nor \(batch).gz)"]) {
            try CIFAR10.load(from: dir, split: .test)
        }
    }

    func testTruncatedFiles() throws {
        let dir = try validFolder()
        try write(read("\(dir)/\(images)").dropLast(10), to: "\(dir)/\(images)")
        assertDataError(.truncated, file: "\(dir)/\(images)",
                        mentions: ["truncated: header says 4 images of 28x28 (3,152 bytes) but file has 3,142 bytes"]) {
            try MNIST.load(from: dir, split: .test)
        }
        // CIFAR-10 has no header: a cut file is one whose length is not a whole number of records.
        try write(read("\(dir)/\(batch)").dropLast(100), to: "\(dir)/\(batch)")
        assertDataError(.badLength, file: "\(dir)/\(batch)",
                        mentions: ["length a multiple of the 3,073-byte record expected, found 6,046 bytes (1 records and 2,973 bytes)"]) {
            try CIFAR10.load(from: dir, split: .test)
        }
    }

    func testTruncatedGzipStreams() throws {
        let dir = try validFolder()
        try write(read("\(dir)/\(labels)"), to: "\(dir)/\(labels)")
        for (path, load) in [("\(dir)/\(images)", { _ = try MNIST.load(from: dir, split: .test) }),
                             ("\(dir)/\(batch)", { _ = try CIFAR10.load(from: dir, split: .test) })] as [(String, () throws -> Void)] {
            let gz = try gzip(path)
            let bytes = try read(gz)
            try write(Array(bytes.prefix(bytes.count / 2)), to: gz)
            assertDataError(.truncated, file: gz, mentions: ["compressed offset ", "truncated gzip stream: more compressed data expected"], load)
        }
    }

    func testWrongMagicNumber() throws {
        let dir = try validFolder()
        try write(idxBytes(magic: IDX.imagesMagic, sizes: [4, 1, 1], payload: [1, 2, 3, 4]), to: "\(dir)/\(labels)")
        assertDataError(.badMagic, file: "\(dir)/\(labels)",
                        mentions: ["byte 0: magic number 0x00000801 expected for IDX labels, found 0x00000803 (IDX images)"]) {
            try MNIST.load(from: dir, split: .test)
        }
        // CIFAR-10 batches have no magic number: a file of another format fails the record length.
        try write(read("\(dir)/\(images)"), to: "\(dir)/\(batch)")
        assertDataError(.badLength, file: "\(dir)/\(batch)", mentions: ["3,073-byte record expected, found 3,152 bytes"]) {
            try CIFAR10.load(from: dir, split: .test)
        }
    }

    func testWrongDimensions() throws {
        let dir = try validFolder()
        try write(idxBytes(magic: IDX.imagesMagic, sizes: [4, 28, 27], payload: [UInt8](repeating: 0, count: 4 * 28 * 27)), to: "\(dir)/\(images)")
        assertDataError(.badHeader, file: "\(dir)/\(images)", mentions: ["byte 8: 28x28 images expected for mnist, found 28x27"]) {
            try MNIST.load(from: dir, split: .test)
        }
        try write(idxBytes(magic: IDX.imagesMagic, sizes: [4, 28, 28], payload: [UInt8](repeating: 9, count: 4 * 784)), to: "\(dir)/\(images)")
        try write(idxBytes(magic: IDX.labelsMagic, sizes: [3], payload: [3, 1, 4]), to: "\(dir)/\(labels)")
        assertDataError(.countMismatch, file: "\(dir)/\(labels)", mentions: ["byte 4: 4 labels expected to match", "found 3"]) {
            try MNIST.load(from: dir, split: .test)
        }
        var records = try read("\(dir)/\(batch)")
        records[CIFAR10.recordBytes] = 10
        try write(records, to: "\(dir)/\(batch)")
        assertDataError(.valueOutOfRange, file: "\(dir)/\(batch)", mentions: ["byte 3,073 (record 1): label in 0...9 expected, found 10"]) {
            try CIFAR10.load(from: dir, split: .test)
        }
    }

    func testCorruptGzipStreams() throws {
        let dir = try validFolder()
        for (path, load) in [("\(dir)/\(images)", { _ = try MNIST.load(from: dir, split: .test) }),
                             ("\(dir)/\(batch)", { _ = try CIFAR10.load(from: dir, split: .test) })] as [(String, () throws -> Void)] {
            let gz = try gzip(path)
            var bytes = try read(gz)
            for k in 12..<20 { bytes[k] ^= 0xa5 }
            try write(bytes, to: gz)
            assertDataError(.corruptGzip, file: gz, mentions: ["compressed offset ", ": corrupt gzip stream: "], load)
        }
    }
}
