import Datasets
import TensorCore
import XCTest

final class GzipTests: XCTestCase {
    /// Bytes that compress but not to nothing: random runs of a few values.
    private func sampleBytes(_ n: Int, seed: UInt64 = 1) -> [UInt8] {
        var rng = RandomGenerator(seed: seed)
        return (0..<n).map { _ in UInt8(rng.next() % 7) }
    }

    func testRoundTripAndRawPassThrough() throws {
        let dir = try temporaryDirectory(self)
        let bytes = sampleBytes(300_000)
        let gz = Gzip.compress(bytes)
        XCTAssertTrue(Gzip.isCompressed(gz))
        XCTAssertLessThan(gz.count, bytes.count)
        XCTAssertEqual(try Gzip.decompress(gz, file: "mem"), bytes)
        try write(gz, to: dir + "/a.gz")
        try write(bytes, to: dir + "/a.raw")
        XCTAssertEqual(try DataFile.read(dir + "/a.gz"), bytes)
        XCTAssertEqual(try DataFile.read(dir + "/a.raw"), bytes)
        XCTAssertEqual(try DataFile.read(dir + "/a.gz").count, bytes.count)
        XCTAssertEqual(try Gzip.decompress(Gzip.compress([]), file: "mem"), [])
    }

    func testOutputLargerThanTheSizeHintGrows() throws {
        // 5 MB of zeros compress more than 16:1, past the first allocation.
        let zeros = [UInt8](repeating: 0, count: 5_000_000)
        XCTAssertEqual(try Gzip.decompress(Gzip.compress(zeros), file: "mem"), zeros)
    }

    func testConcatenatedMembersAndZeroPadding() throws {
        let a = sampleBytes(10_000, seed: 2), b = sampleBytes(70_000, seed: 3)
        XCTAssertEqual(try Gzip.decompress(Gzip.compress(a) + Gzip.compress(b), file: "mem"), a + b)
        XCTAssertEqual(try Gzip.decompress(Gzip.compress(a) + [0, 0, 0, 0], file: "mem"), a)
    }

    func testTruncatedStreamNamesFileAndOffset() throws {
        let dir = try temporaryDirectory(self)
        let gz = Gzip.compress(sampleBytes(100_000))
        let path = dir + "/cut.bin.gz"
        try write(Array(gz[..<(gz.count / 2)]), to: path)
        assertDataError(.truncated, file: path, mentions: ["compressed offset", "truncated gzip stream"]) { try DataFile.read(path) }
        // Only the trailer missing: the data is complete but the checksum cannot be checked.
        try write(Array(gz.dropLast(4)), to: path)
        assertDataError(.truncated, file: path) { try DataFile.read(path) }
    }

    func testCorruptedBytesNameFileAndOffset() throws {
        let dir = try temporaryDirectory(self)
        var gz = Gzip.compress(sampleBytes(100_000))
        for k in stride(from: 100, to: 200, by: 7) { gz[k] ^= 0x5a }
        let path = dir + "/bad.gz"
        try write(gz, to: path)
        assertDataError(.corruptGzip, file: path, mentions: ["compressed offset", "corrupt gzip stream: "]) { try DataFile.read(path) }
    }

    func testBadChecksumIsCorrupt() throws {
        var gz = Gzip.compress(sampleBytes(1_000))
        gz[gz.count - 8] ^= 1  // CRC-32 of the trailer
        assertDataError(.corruptGzip, file: "mem", mentions: ["incorrect data check"]) { try Gzip.decompress(gz, file: "mem") }
    }

    func testTrailingGarbageAfterMember() throws {
        let gz = Gzip.compress(sampleBytes(1_000)) + [1, 2, 3]
        assertDataError(.badLength, file: "mem", mentions: ["compressed offset"]) { try Gzip.decompress(gz, file: "mem") }
    }

    func testMissingFileIsUnreadable() {
        assertDataError(.unreadable, file: "/nonexistent/x.gz", mentions: ["No such file"]) { try DataFile.read("/nonexistent/x.gz") }
    }
}
