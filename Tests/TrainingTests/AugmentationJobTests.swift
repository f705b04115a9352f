import Datasets
import Foundation
import Scenarios
import Training
import XCTest

/// `data.augment` of image classification jobs: its keys and errors, and training with it on
/// synthetic CIFAR-10 files — two ranks like one, a resumed run like an uninterrupted one.
final class AugmentationJobTests: XCTestCase {
    static let full = ["data.augment={\"horizontal_flip\":true,\"vertical_flip\":true,\"rotation_range\":20,"
                       + "\"fill_mode\":\"constant\",\"pad_crop\":4}"]

    func testKeysDefaultsAndErrors() throws {
        let plain = try ConfigTests.load("cnn_cifar10.json")
        XCTAssertEqual(plain.data.augment, ImageAugmentation())
        XCTAssertTrue(plain.canonicalJSON.contains("\"augment\":{\"fill_mode\":\"nearest\",\"horizontal_flip\":false,\"pad_crop\":0,"
                                                   + "\"rotation_range\":0.0,\"vertical_flip\":false}"), plain.canonicalJSON)
        XCTAssertEqual(try ConfigTests.load("cnn_cifar10.json", overrides: Self.full).data.augment,
                       ImageAugmentation(horizontalFlip: true, verticalFlip: true, rotationRange: 20, fillMode: .constant, padCrop: 4))
        func message(_ overrides: [String], config: String = "cnn_cifar10.json") -> String {
            do {
                _ = try ConfigTests.load(config, overrides: overrides)
                XCTFail("no error for \(overrides)")
            } catch { return "\(error)" }
            return ""
        }
        XCTAssertTrue(message(["data.augment.rotation_range=200"]).hasSuffix(
            "data.augment.rotation_range: expected a real in [0, 180], found integer 200"), message(["data.augment.rotation_range=200"]))
        XCTAssertTrue(message(["data.augment.pad_crop=32"]).hasSuffix("data.augment.pad_crop: expected an integer in [0, 32), found integer 32"),
                      message(["data.augment.pad_crop=32"]))
        XCTAssertTrue(message(["data.augment.fill_mode=\"wrap\""]).hasSuffix(
            "data.augment.fill_mode: unknown fill mode \"wrap\" (valid: \"nearest\", \"constant\")"), message(["data.augment.fill_mode=\"wrap\""]))
        XCTAssertTrue(message(["data.augment.horizontal_flips=true"]).contains(
            "data.augment.horizontal_flips: unknown key (allowed: fill_mode, horizontal_flip, pad_crop, rotation_range, vertical_flip); "
            + "did you mean \"horizontal_flip\"?"), message(["data.augment.horizontal_flips=true"]))
        // The GAN's images are not augmented: the key is unknown there.
        XCTAssertTrue(message(["data.augment={}"], config: "gan_mnist.json").contains("data.augment: unknown key"),
                      message(["data.augment={}"], config: "gan_mnist.json"))
    }

    /// Final parameters after `steps` steps of cnn_cifar10 (shrunk) on synthetic data.
    func train(ranks: Int, batch: Int, steps: Int, _ overrides: [String], data: String, out: String? = nil,
               resume: String? = nil) throws -> [[Float]] {
        let small = ["model.layers[0].filters=4", "model.layers[2].filters=4", "model.layers[5].units=8", "data.test_limit=8"]
        return try DataShapedJobTests.train("cnn_cifar10.json", ranks: ranks, batch: batch, steps: steps, small + overrides, out: out,
                                            resume: resume, dataDirectory: data).0
    }

    func testTwoRanksTrainLikeOneAndAResumeDrawsTheSameTransforms() throws {
        let root = NSTemporaryDirectory() + "ddp-augment-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try SyntheticData.write(to: root)
        let single = try train(ranks: 1, batch: 8, steps: 4, Self.full, data: root)
        let two = try train(ranks: 2, batch: 4, steps: 4, Self.full, data: root)
        XCTAssertEqual(two[1], two[0], "the replicas differ")
        let diff = maxRelativeDifference(two[0], single[0])
        XCTAssertLessThanOrEqual(diff, 1e-5, "2 ranks × 4 vs 1 rank × 8 with augmentation: max relative difference \(diff)")
        XCTAssertGreaterThan(maxRelativeDifference(single[0], try train(ranks: 1, batch: 8, steps: 4, [], data: root)[0]), 1e-4,
                             "augmentation should change the training")
        let out = root + "/run"
        _ = try train(ranks: 2, batch: 4, steps: 2, Self.full, data: root, out: out)
        let resumed = try train(ranks: 2, batch: 4, steps: 4, Self.full, data: root, out: out,
                                resume: out + "/checkpoints/ckpt-000000002.safetensors")
        XCTAssertEqual(resumed[0], two[0], "a resumed run draws the same transforms")
    }
}
