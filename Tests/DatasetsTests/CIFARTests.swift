import Datasets
import Foundation
import TensorCore
import XCTest

final class CIFARTests: XCTestCase {
    func testTestBatch() throws {
        let dir = try realDataDirectory(.cifar10)
        let test = try timed("cifar10 test_batch read (debug)") { try CIFAR10.load(from: dir, split: .test) }
        XCTAssertEqual(test.count, 10_000)
        XCTAssertEqual(test.sampleShape, [32, 32, 3])
        XCTAssertEqual(test.classNames, CIFAR10.defaultClassNames)
        // The test batch starts cat, ship, ship, airplane, frog.
        XCTAssertEqual(Array(test.labels.prefix(5)), [3, 8, 8, 0, 6])
        let means = test.channelMeans()
        for (m, readme) in zip(means, [0.4913, 0.4821, 0.4465]) { XCTAssertEqual(m, readme, accuracy: 0.01) }
        XCTAssertGreaterThan(means[0], means[2], "red brighter than blue, as in the README")
    }

    /// All 50,000 training images: slower, so only with DDP_DATA_FULL=1.
    func testTrainBatches() throws {
        guard ProcessInfo.processInfo.environment["DDP_DATA_FULL"] == "1" else { throw XCTSkip("set DDP_DATA_FULL=1 to read all of CIFAR-10") }
        let dir = try realDataDirectory(.cifar10)
        let train = try timed("cifar10 train read, 5 files") { try CIFAR10.load(from: dir, split: .train) }
        XCTAssertEqual(train.count, 50_000)
        for (m, readme) in zip(train.channelMeans(), [0.4913, 0.4821, 0.4465]) { XCTAssertEqual(m, readme, accuracy: 0.001) }
    }

    /// One record per label: label byte, red plane r, green plane g, blue plane b, with the
    /// pixel index k added, so the NHWC order is visible.
    private func records(_ labels: [UInt8]) -> [UInt8] {
        labels.flatMap { label -> [UInt8] in
            [label] + (0..<3).flatMap { c in (0..<1024).map { k in UInt8((c * 50 + k) % 256) } }
        }
    }

    func testChannelPlanesBecomeNHWC() throws {
        let dir = try temporaryDirectory(self)
        try write(Gzip.compress(records([4, 9])), to: dir + "/test_batch.bin.gz")
        let set = try CIFAR10.load(from: dir, split: .test)
        XCTAssertEqual(set.labels, [4, 9])
        XCTAssertEqual(Array(set.pixels.prefix(6)), [0, 50, 100, 1, 51, 101])
        XCTAssertEqual(set.pixels[3 * 1023 + 2], UInt8((100 + 1023) % 256))
        XCTAssertEqual(set.pixels.count, 2 * 3072)
    }

    func testLengthNotAMultipleOfTheRecord() throws {
        let dir = try temporaryDirectory(self)
        let path = dir + "/test_batch.bin"
        try write(records([1, 2]) + [0], to: path)
        assertDataError(.badLength, file: path, mentions: ["3,073-byte record", "6,147 bytes", "2 records and 1 bytes"]) {
            try CIFAR10.load(from: dir, split: .test)
        }
    }

    func testLabelOutOfRange() throws {
        let dir = try temporaryDirectory(self)
        let path = dir + "/test_batch.bin"
        try write(records([1, 2, 10]), to: path)
        assertDataError(.valueOutOfRange, file: path, mentions: ["byte 6,146 (record 2)", "found 10"]) {
            try CIFAR10.load(from: dir, split: .test)
        }
    }

    func testClassNamesFromMetaFile() throws {
        let dir = try temporaryDirectory(self)
        try write(records([0]), to: dir + "/test_batch.bin")
        try write(Array((0..<10).map { "class \($0)\n" }.joined().utf8) + [10], to: dir + "/batches.meta.txt")
        XCTAssertEqual(try CIFAR10.load(from: dir, split: .test).classNames[3], "class 3")
        try write(Array("a\nb\n".utf8), to: dir + "/batches.meta.txt")
        assertDataError(.badLength, file: dir + "/batches.meta.txt", mentions: ["10 class names", "found 2"]) {
            try CIFAR10.load(from: dir, split: .test)
        }
    }
}
