import Datasets
import XCTest

final class DataDirectoryTests: XCTestCase {
    /// A data root with `mnist/` holding a marker file, and an empty `cifar10/`.
    private func makeRoot() throws -> String {
        let root = try temporaryDirectory(self)
        try FileManager.default.createDirectory(atPath: root + "/mnist", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/cifar10", withIntermediateDirectories: true)
        try write([0x1f, 0x8b], to: root + "/mnist/t10k-images-idx3-ubyte.gz")
        return root
    }

    /// A current directory whose `../shared/data` cannot exist, whatever sits beside the
    /// system's temporary folder.
    private func isolatedWorkingDirectory() throws -> String {
        let cwd = try temporaryDirectory(self) + "/nested/checkout"
        try FileManager.default.createDirectory(atPath: cwd, withIntermediateDirectories: true)
        return cwd
    }

    func testExplicitDirectoryElseEnvironmentThenDefault() throws {
        let root = try makeRoot(), other = try makeRoot(), cwd = try isolatedWorkingDirectory()
        XCTAssertEqual(try DataDirectory.resolve(.mnist, explicit: root, environment: [DataDirectory.environmentVariable: other],
                                                 currentDirectory: cwd), root + "/mnist")
        XCTAssertEqual(try DataDirectory.resolve(.mnist, environment: [DataDirectory.environmentVariable: other],
                                                 currentDirectory: cwd), other + "/mnist")
        XCTAssertThrowsError(try DataDirectory.resolve(.mnist, explicit: "", environment: [DataDirectory.environmentVariable: ""],
                                                       currentDirectory: cwd))
    }

    /// A directory the user named is the only one searched: lacking the data set, it is an
    /// error naming it, even when DDP_DATA_DIR holds the data.
    func testAnExplicitDirectoryWithoutTheDataSetIsAnErrorNamingIt() throws {
        let root = try makeRoot(), other = try makeRoot(), cwd = try isolatedWorkingDirectory()
        for (explicit, reason) in [("/nonexistent", "no such folder"), (root, "folder has no data_batch_1.bin[.gz]")] {
            do {
                let found = try DataDirectory.resolve(.cifar10, explicit: explicit, origin: "--data-dir",
                                                      environment: [DataDirectory.environmentVariable: other], currentDirectory: cwd)
                XCTFail("found \(found) although \(explicit) has no cifar10")
            } catch let error as DatasetNotFound {
                XCTAssertEqual(error.attempts.map(\.candidate.path), [explicit + "/cifar10"])
                XCTAssertTrue(error.description.contains("\(explicit)/cifar10 (--data-dir): \(reason)"), error.description)
                XCTAssertFalse(error.description.contains(other), error.description)
            }
        }
    }

    func testRelativeExplicitDirectoryIsTakenFromTheCurrentDirectory() throws {
        let root = try makeRoot()
        let parent = (root as NSString).deletingLastPathComponent, name = (root as NSString).lastPathComponent
        XCTAssertEqual(try DataDirectory.resolve(.mnist, explicit: name, environment: [:], currentDirectory: parent),
                       parent + "/" + name + "/mnist")
    }

    func testDefaultIsSharedDataBesideTheCurrentDirectory() throws {
        let root = try temporaryDirectory(self)
        try FileManager.default.createDirectory(atPath: root + "/shared/data/tinyshakespeare", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/checkout", withIntermediateDirectories: true)
        try write(Array("x".utf8), to: root + "/shared/data/tinyshakespeare/input.txt")
        let found = try DataDirectory.resolve(.tinyShakespeare, environment: [:], currentDirectory: root + "/checkout")
        XCTAssertEqual(found, root + "/checkout/../shared/data/tinyshakespeare")
    }

    func testAFolderNamedTwiceIsTriedOnce() {
        let candidates = DataDirectory.candidates(for: .mnist, explicit: "/w/checkout/../shared/data", environment: [:], currentDirectory: "/w/checkout")
        XCTAssertEqual(candidates.map(\.path), ["/w/checkout/../shared/data/mnist"])
        XCTAssertEqual(candidates.first?.origin, "--data-dir")
        let twice = DataDirectory.candidates(for: .mnist, environment: [DataDirectory.environmentVariable: "/w/checkout/../shared/data"],
                                             currentDirectory: "/w/checkout")
        XCTAssertEqual(twice.map(\.path), ["/w/checkout/../shared/data/mnist"])
    }

    func testNotFoundListsEveryFolderAndHowToGetTheData() throws {
        let root = try makeRoot(), cwd = try isolatedWorkingDirectory()
        do {
            _ = try DataDirectory.resolve(.cifar10, environment: [DataDirectory.environmentVariable: root], currentDirectory: cwd)
            XCTFail("cifar10 should not be found")
        } catch let error as DatasetNotFound {
            let text = error.description
            XCTAssertEqual(error.attempts.map(\.candidate.path), [root + "/cifar10", cwd + "/../shared/data/cifar10"])
            for path in error.attempts.map(\.candidate.path) { XCTAssertTrue(text.contains(path), text) }
            XCTAssertTrue(text.contains("folder has no data_batch_1.bin[.gz]"), text)
            XCTAssertTrue(text.contains("no such folder"), text)
            XCTAssertTrue(text.contains("--data-dir"), text)
            XCTAssertTrue(text.contains("DDP_DATA_DIR"), text)
        }
    }

    func testFashionMNISTFallsBackToTheDebianPackage() throws {
        let cwd = try isolatedWorkingDirectory()
        let candidates = DataDirectory.candidates(for: .fashionMNIST, environment: [:], currentDirectory: cwd)
        XCTAssertEqual(candidates.last?.path, "/usr/share/datasets/fashion-mnist")
        XCTAssertTrue(DatasetName.fashionMNIST.howToGet.contains("apt-get install dataset-fashion-mnist"))
        do {
            let found = try DataDirectory.resolve(.fashionMNIST, environment: [:], currentDirectory: cwd)
            XCTAssertEqual(found, DataDirectory.systemFashionMNIST)
        } catch let error as DatasetNotFound {
            XCTAssertTrue(error.description.contains("apt-get install dataset-fashion-mnist"), error.description)
        }
    }

    func testEveryDatasetHasAFolderName() {
        XCTAssertEqual(DatasetName.allCases.map(\.rawValue),
                       ["mnist", "fashion-mnist", "cifar10", "tinyshakespeare", "tatoeba-eng-fra", "creditcard-fraud-sample", "karate-club",
                        "image-folder", "spoken-digits"])
    }
}
