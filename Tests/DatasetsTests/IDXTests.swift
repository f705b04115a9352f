import Datasets
import TensorCore
import XCTest

final class IDXTests: XCTestCase {
    func testMNISTTestSplit() throws {
        let dir = try realDataDirectory(.mnist)
        let test = try timed("mnist test read (debug)") { try MNIST.load(from: dir, split: .test) }
        XCTAssertEqual(test.count, 10_000)
        XCTAssertEqual(test.sampleShape, [28, 28, 1])
        XCTAssertEqual(Array(test.labels.prefix(5)), [7, 2, 1, 0, 4])
        XCTAssertEqual(test.channelMeans()[0], 0.1325, accuracy: 0.0005)
        XCTAssertEqual(test.classNames, (0...9).map(String.init))
    }

    func testMNISTTrainSplit() throws {
        let dir = try realDataDirectory(.mnist)
        let train = try timed("mnist train read (debug)") { try MNIST.load(from: dir, split: .train) }
        XCTAssertEqual(train.count, 60_000)
        XCTAssertEqual(Array(train.labels.prefix(5)), [5, 0, 4, 1, 9])
        XCTAssertEqual(train.pixels.count, 60_000 * 784)
        XCTAssertEqual(train.channelMeans()[0], 0.1307, accuracy: 0.0005)
    }

    func testFashionMNIST() throws {
        let dir = try realDataDirectory(.fashionMNIST)
        let test = try MNIST.load(from: dir, split: .test, variant: .fashion)
        XCTAssertEqual(test.count, 10_000)
        XCTAssertEqual(test.name, "fashion-mnist test")
        XCTAssertEqual(test.classNames[9], "Ankle boot")
        // The Fashion-MNIST test set starts with an ankle boot, a pullover and two trousers.
        XCTAssertEqual(Array(test.labels.prefix(4)), [9, 2, 1, 1])
        XCTAssertEqual(test.channelMeans()[0], 0.2868, accuracy: 0.002)
    }

    private func writeSplit(_ dir: String, images: [UInt8], labels: [UInt8], gzip: Bool = false) throws {
        let names = MNIST.fileNames(.test)
        let suffix = gzip ? ".gz" : ""
        try write(gzip ? Gzip.compress(images) : images, to: "\(dir)/\(names.images)\(suffix)")
        try write(gzip ? Gzip.compress(labels) : labels, to: "\(dir)/\(names.labels)\(suffix)")
    }

    private func tinyImages(_ n: Int, rows: Int = MNIST.side, cols: Int = MNIST.side) -> [UInt8] {
        idxBytes(magic: IDX.imagesMagic, sizes: [UInt32(n), UInt32(rows), UInt32(cols)],
                 payload: (0..<(n * rows * cols)).map { UInt8($0 % 256) })
    }

    func testSmallRawAndGzipFilesRead() throws {
        for gzip in [false, true] {
            let dir = try temporaryDirectory(self)
            try writeSplit(dir, images: tinyImages(4), labels: idxBytes(magic: IDX.labelsMagic, sizes: [4], payload: [3, 1, 4, 1]), gzip: gzip)
            let set = try MNIST.load(from: dir, split: .test)
            XCTAssertEqual(set.count, 4)
            XCTAssertEqual(set.sampleShape, [28, 28, 1])
            XCTAssertEqual(set.labels, [3, 1, 4, 1])
            XCTAssertEqual(Array(set.pixels.prefix(8)), [0, 1, 2, 3, 4, 5, 6, 7])
        }
    }

    func testWrongMagic() throws {
        let dir = try temporaryDirectory(self)
        let path = dir + "/labels-as-images"
        try write(idxBytes(magic: IDX.labelsMagic, sizes: [2], payload: [1, 2]), to: path)
        assertDataError(.badMagic, file: path, mentions: ["byte 0", "0x00000803 expected", "found 0x00000801"]) { try IDX.readImages(path) }
        try write(Array("hello, world".utf8), to: path)
        assertDataError(.badMagic, file: path, mentions: ["not an IDX file"]) { try IDX.readLabels(path) }
    }

    func testTruncatedImages() throws {
        let dir = try temporaryDirectory(self)
        let path = dir + "/t10k-images-idx3-ubyte.gz"
        let full = idxBytes(magic: IDX.imagesMagic, sizes: [60_000, 28, 28], payload: [UInt8](repeating: 7, count: 1_000_000))
        try write(Gzip.compress(full), to: path)
        assertDataError(.truncated, file: path,
                        mentions: ["header says 60,000 images of 28x28 (47,040,016 bytes) but file has 1,000,016 bytes"]) { try IDX.readImages(path) }
        try write(Array(full.prefix(10)), to: path)
        assertDataError(.truncated, file: path, mentions: ["16-byte header"]) { try IDX.readImages(path) }
    }

    func testExtraBytesAreRejected() throws {
        let dir = try temporaryDirectory(self)
        let path = dir + "/labels"
        try write(idxBytes(magic: IDX.labelsMagic, sizes: [2], payload: [1, 2, 3]), to: path)
        assertDataError(.badLength, file: path, mentions: ["byte 10", "1 more bytes"]) { try IDX.readLabels(path) }
    }

    func testLabelOutOfRange() throws {
        let dir = try temporaryDirectory(self)
        let path = dir + "/labels"
        try write(idxBytes(magic: IDX.labelsMagic, sizes: [4], payload: [1, 2, 12, 3]), to: path)
        assertDataError(.valueOutOfRange, file: path, mentions: ["byte 10 (label 2)", "0...9 expected, found 12"]) { try IDX.readLabels(path) }
        XCTAssertEqual(try IDX.readLabels(path, classCount: 13), [1, 2, 12, 3])
    }

    func testImageAndLabelCountsMustMatch() throws {
        let dir = try temporaryDirectory(self)
        try writeSplit(dir, images: tinyImages(3), labels: idxBytes(magic: IDX.labelsMagic, sizes: [2], payload: [1, 2]))
        let labels = dir + "/" + MNIST.fileNames(.test).labels
        assertDataError(.countMismatch, file: labels, mentions: ["3 labels expected", "found 2"]) { try MNIST.load(from: dir, split: .test) }
    }

    func testMissingFileNamesBothNames() throws {
        let dir = try temporaryDirectory(self)
        let path = dir + "/t10k-images-idx3-ubyte"
        assertDataError(.unreadable, file: path, mentions: ["t10k-images-idx3-ubyte.gz"]) { try MNIST.load(from: dir, split: .test) }
    }
}
