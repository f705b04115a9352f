import Datasets
import Foundation
import Scenarios
import TensorCore
import TestSupport
import Training
import XCTest

/// Jobs on image folders (configs/cnn_cats_dogs.json) on small folders of PNG and JPEG files
/// made here: the config's keys and errors, two ranks training like one with augmentation,
/// and the `ddp` command under mpirun, resuming from a checkpoint.
final class ImageFolderJobTests: XCTestCase {
    /// The config shrunk to a few small filters.
    static let shrink = ["model.layers[0].filters=4", "model.layers[2].filters=4", "model.layers[4].filters=4",
                         "model.layers[7].units=8", "data.target_size=[24,24]", "model.input_shape=[24,24,3]"]

    /// `root/NAME/{train,test}/{class}/…`: per class `train` and `test` images of 24×24 (every
    /// third 30×20, resized when read), every fourth a JPEG. Class k is brighter in its k-th
    /// quarter of rows, so there is something to learn.
    static func makeFolder(root: String, name: String = "pets", classes: [String] = ["cat", "dog"], train: Int = 12, test: Int = 5) throws {
        for (split, count) in [("train", train), ("test", test)] {
            for (k, cls) in classes.enumerated() {
                let folder = "\(root)/\(name)/\(split)/\(cls)"
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                for i in 0..<count {
                    let (h, w) = i % 3 == 2 ? (30, 20) : (24, 24)
                    var rng = RandomGenerator(seed: 5, stream: [UInt64(k), UInt64(i), split == "train" ? 0 : 1])
                    let pixels = (0..<(h * w * 3)).map { j -> UInt8 in
                        let row = j / (w * 3)
                        return UInt8(truncatingIfNeeded: Int(rng.next() % 120) + (row * 4 / h == k ? 120 : 0))
                    }
                    let bytes = i % 4 == 0 ? ImageCodec.encodeJPEG(pixels, height: h, width: w, channels: 3, quality: 90)
                                           : ImageCodec.encodePNG(pixels, height: h, width: w, channels: 3)
                    try Data(bytes).write(to: URL(fileURLWithPath: "\(folder)/\(i).\(i % 4 == 0 ? "jpg" : "png")"))
                }
            }
        }
    }

    func temporaryRoot() -> String {
        let root = NSTemporaryDirectory() + "ddp-imagefolder-\(UUID().uuidString)"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: root) }
        return root
    }

    func message(_ overrides: [String], build dataDirectory: String? = nil) -> String {
        do {
            let config = try ConfigTests.load("cnn_cats_dogs.json", overrides: overrides)
            if let dataDirectory { _ = try JobFactory.prepare(config, dataDirectory: dataDirectory) }
            XCTFail("no error for \(overrides)")
        } catch { return "\(error)" }
        return ""
    }

    func testConfigKeysAndErrors() throws {
        let config = try ConfigTests.load("cnn_cats_dogs.json")
        XCTAssertEqual(config.data.folder, "cifar10-cat-dog")
        XCTAssertEqual(config.data.imageShape, [32, 32, 3])
        XCTAssertEqual(try XCTUnwrap(config.data.rescale), 1.0 / 255, accuracy: 1e-17)
        XCTAssertEqual(config.data.augment, ImageAugmentation(horizontalFlip: true, rotationRange: 15, padCrop: 3))
        XCTAssertEqual(try ConfigTests.load("cnn_cats_dogs.json", overrides: ["data.target_size=64", "model.input_shape=[64,64,3]"]).data.imageShape,
                       [64, 64, 3])
        let cases: [([String], String)] = [
            (["data.scale=\"unit\""], "data.scale: unknown key for dataset \"image-folder\" (allowed: augment, dataset, dir, folder, rescale, "
                                      + "target_size, test_limit, train_limit)"),
            (["data.rescale=0"], "data.rescale: expected a real > 0, found integer 0"),
            (["data.target_size=[0,32]"], "data.target_size: expected an integer or an array [height, width] with sizes ≥ 1, found array [0,32]"),
            (["data.target_size=[28,28]"], "model.input_shape: [32, 32, 3] does not fit the RGB images of data.target_size: expected [28, 28, 3] "
                                           + "or another shape of 2352 elements"),
            (["data.augment.pad_crop=32"], "data.augment.pad_crop: expected an integer in [0, 32), found integer 32"),
            (["model.layers[9].units=2"], "output shape [2] does not fit one score per image: expected [1]"),
            (["loss.name=\"sparse_categorical_crossentropy\""], "loss.name: binary classification learns 0/1 labels: expected \"binary_crossentropy\""),
        ]
        for (overrides, expected) in cases {
            let text = overrides.last == "model.layers[9].units=2" ? messageBuilding(overrides) : message(overrides)
            XCTAssertTrue(text.contains(expected), "\(overrides): \(text)")
        }
        XCTAssertTrue(message(["data.folder=null"]).hasSuffix("data.folder: expected a string, found null"), message(["data.folder=null"]))
    }

    /// The message of building the model (not only reading the config).
    func messageBuilding(_ overrides: [String]) -> String {
        do {
            _ = try ConfigTests.load("cnn_cats_dogs.json", overrides: overrides).buildModel()
            XCTFail("no error for \(overrides)")
        } catch { return "\(error)" }
        return ""
    }

    func testErrorsFoundAgainstTheFolders() throws {
        let root = temporaryRoot()
        try Self.makeFolder(root: root, train: 2, test: 1)
        let missing = message(Self.shrink + ["data.folder=\"nope\""], build: root)
        XCTAssertTrue(missing.hasPrefix("image-folder 'nope' not found; looked in:\n  \(root)/nope (--data-dir): no such folder"), missing)
        XCTAssertTrue(missing.contains("launch/data/make-cifar-pngs.sh"), missing)
        try FileManager.default.createDirectory(atPath: "\(root)/pets/train/horse", withIntermediateDirectories: true)
        XCTAssertEqual(message(Self.shrink + ["data.folder=\"pets\""], build: root),
                       "\(root)/pets/train/horse: at least one .png, .jpg or .jpeg image expected, found none")
        try ImageCodec.encodePNG([UInt8](repeating: 9, count: 12), height: 2, width: 2, channels: 3).withUnsafeBytes {
            try Data($0).write(to: URL(fileURLWithPath: "\(root)/pets/train/horse/h.png"))
        }
        XCTAssertEqual(message(Self.shrink + ["data.folder=\"pets\""], build: root),
                       "\(root)/pets/train: binary classification needs 2 class folders, found 3: cat, dog, horse")
        // Multi-class classification takes the three; the test split must have the same classes.
        let multi = Self.shrink + ["data.folder=\"pets\"", "task=\"classification\"", "loss.name=\"sparse_categorical_crossentropy\"",
                                   "model.layers[9]={\"type\":\"Dense\",\"units\":3}", "loss.from_logits=true"]
        XCTAssertEqual(message(multi, build: root),
                       "\(root)/pets/test: class folders cat, dog, horse expected (those of the training split), found cat, dog")
        try FileManager.default.createDirectory(atPath: "\(root)/pets/test/horse", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(root)/pets/train/horse/h.png", toPath: "\(root)/pets/test/horse/h.png")
        XCTAssertTrue(message(multi + ["model.layers[9].units=4"], build: root).hasSuffix(
            "output shape [4] does not fit the 3 classes of image-folder: expected [3]"), message(multi + ["model.layers[9].units=4"], build: root))
        let job = try JobFactory.prepare(ConfigTests.load("cnn_cats_dogs.json", overrides: multi), dataDirectory: root)
        XCTAssertNotNil(job)
    }

    func testTwoRanksTrainLikeOneWithAugmentationAndReportBinaryMetrics() throws {
        let root = temporaryRoot()
        try Self.makeFolder(root: root)
        func train(ranks: Int, batch: Int) throws -> ([[Float]], EvaluationLog?) {
            // Dropout draws per-rank masks, so it is off for the comparison.
            try DataShapedJobTests.train("cnn_cats_dogs.json", ranks: ranks, batch: batch, steps: 4,
                                         Self.shrink + ["data.folder=\"pets\"", "model.layers[8].rate=0"], dataDirectory: root)
        }
        let (single, e1) = try train(ranks: 1, batch: 8)
        let (two, e2) = try train(ranks: 2, batch: 4)
        XCTAssertEqual(two[1], two[0], "the replicas differ")
        let diff = maxRelativeDifference(two[0], single[0])
        XCTAssertLessThanOrEqual(diff, 1e-5, "2 ranks × 4 vs 1 rank × 8: max relative difference \(diff)")
        let one = try XCTUnwrap(e1), both = try XCTUnwrap(e2)
        XCTAssertEqual(one.samples, 10)
        XCTAssertEqual(both.samples, 10)
        XCTAssertEqual(one.metrics.map(\.name), ["accuracy", "precision", "recall", "auc"])
        for (a, b) in zip(one.metrics, both.metrics) { XCTAssertEqual(a.value, b.value, accuracy: 1e-9, a.name) }
        XCTAssertEqual(one.loss, both.loss, accuracy: 1e-6)
    }

    func testTheCommandTrainsUnderMPIAndResumes() throws {
        try XCTSkipUnless(MPIRun.isAvailable, "mpirun not installed")
        let root = temporaryRoot()
        try Self.makeFolder(root: root)
        let out = root + "/run"
        func ddp(steps: Int, _ extra: [String] = []) throws -> MPIRun.Result {
            var args = ["train", ConfigTests.configDirectory.appendingPathComponent("cnn_cats_dogs.json").path, "--out", out, "--data-dir", root]
            for s in Self.shrink + ["data.folder=\"pets\"", "training.batch_size=4", "training.max_steps=\(steps)", "checkpoint.every_steps=2",
                                   "training.log_every_steps=1"] {
                args += ["--set", s]
            }
            let r = try MPIRun.run(ranks: 2, executable: "ddp", arguments: args + extra, environment: [:], timeout: 300)
            XCTAssertFalse(r.timedOut)
            XCTAssertEqual(r.exitCode, 0, "\(r.stdout)\n\(r.stderr)")
            return r
        }
        let first = try ddp(steps: 2)
        XCTAssertTrue(first.stdout.contains("binary_classification on image-folder, 2 ranks"), first.stdout)
        XCTAssertTrue(first.stdout.contains("test auc"), first.stdout)
        let resumed = try ddp(steps: 4, ["--resume", out + "/checkpoints/ckpt-000000002.safetensors"])
        XCTAssertTrue(resumed.stdout.contains("resumed from"), resumed.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/checkpoints/ckpt-000000004.safetensors"))
    }

    func testImageFolderCommandWritesTheClassesAsPNGAndJPEG() throws {
        let root = temporaryRoot()
        try SyntheticData.write(to: root + "/data")
        let ddp = MPIRun.productsDirectory.appendingPathComponent("ddp").path
        func run(_ args: [String]) throws -> MPIRun.Result {
            try MPIRun.runProcess(ddp, ["image-folder", "--data-dir", root + "/data"] + args, environment: ["SWIFT_BACKTRACE": "enable=no"], timeout: 120)
        }
        let out = root + "/pets"
        let r = try run(["--dataset", "cifar10", "--classes", "cat,dog", "--out", out, "--jpeg-every", "2"])
        XCTAssertEqual(r.exitCode, 0, r.stderr)
        // 16 records per batch file with labels r % 10: cats are records 3 and 13 of each file.
        XCTAssertTrue(r.stdout.contains("\(out)/train: 20 images of cat, dog (10 JPEG)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("\(out)/test: 4 images of cat, dog (2 JPEG)"), r.stdout)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out + "/test/cat").sorted(), ["00003.jpg", "00013.png"])
        let folder = try ImageFolder.load(from: out + "/train", height: 32, width: 32)
        let cifar = try CIFAR10.load(from: root + "/data/cifar10", split: .train)
        XCTAssertEqual(folder.classNames, ["cat", "dog"])
        XCTAssertEqual(folder.labels, [Int32](repeating: 0, count: 10) + [Int32](repeating: 1, count: 10))
        // The second cat (record 13, written as PNG) is the CIFAR image exactly.
        let size = cifar.sampleSize
        XCTAssertEqual(Array(folder.pixels[size..<(2 * size)]), Array(cifar.pixels[(13 * size)..<(14 * size)]))
        for (usage, expected) in [(["--dataset", "cifar10", "--classes", "cat", "--out", root + "/x"], "--classes needs at least two distinct classes"),
                                  (["--dataset", "cifar10", "--classes", "cat,dog", "--out", out], "exists already"),
                                  (["--dataset", "imagenet", "--classes", "cat,dog", "--out", root + "/y"], "--dataset needs one of")] {
            let bad = try run(usage)
            XCTAssertEqual(bad.exitCode, 2, "\(usage)")
            XCTAssertTrue(bad.stderr.contains(expected), "\(usage): \(bad.stderr)")
        }
    }
}
