import Datasets
import Foundation
import XCTest

/// The repository root, three levels above this file (Tests/DataTests/…).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// The folder of a real data set: `../shared/data` beside the repository, else wherever
/// `DDP_DATA_DIR` or the defaults point; skips the test when the data set is nowhere.
func realDataDirectory(_ dataset: DatasetName) throws -> String {
    if let beside = try? DataDirectory.resolve(dataset, explicit: repositoryRoot + "/../shared/data") { return beside }
    do {
        return try DataDirectory.resolve(dataset)
    } catch let error as DatasetNotFound {
        throw XCTSkip("\(error)")
    }
}

/// A fresh temporary folder, removed when the test ends.
func temporaryDirectory(_ test: XCTestCase) throws -> String {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("DataTests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url.path
}

func write(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// The IDX bytes of images (magic 0x803) or labels (0x801) with the given sizes and payload.
func idxBytes(magic: UInt32, sizes: [UInt32], payload: [UInt8]) -> [UInt8] {
    func bigEndian(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)] }
    return bigEndian(magic) + sizes.flatMap(bigEndian) + payload
}

/// Asserts that `body` throws a `DataError` of `kind` whose description names `file` and
/// contains every string of `mentions`.
func assertDataError<T>(_ kind: DataError.Kind, file: String, mentions: [String] = [], _ body: () throws -> T,
                        sourceFile: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try body()
        XCTFail("expected a \(kind) error for \(file)", file: sourceFile, line: line)
    } catch let error as DataError {
        XCTAssertEqual(error.kind, kind, "\(error)", file: sourceFile, line: line)
        XCTAssertEqual(error.file, file, file: sourceFile, line: line)
        XCTAssertTrue(error.description.hasPrefix(file), "\(error)", file: sourceFile, line: line)
        for m in mentions { XCTAssertTrue(error.description.contains(m), "'\(m)' not in: \(error)", file: sourceFile, line: line) }
    } catch {
        XCTFail("expected a DataError, got \(error)", file: sourceFile, line: line)
    }
}

/// Seconds taken by `body`, printed with `label` (the read timings in the test log).
func timed<T>(_ label: String, _ body: () throws -> T) rethrows -> T {
    let start = ContinuousClock.now
    let result = try body()
    let d = ContinuousClock.now - start
    print("timing: \(label): \(d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000) ms")
    return result
}
