import Datasets
import Foundation
import TestSupport
import XCTest

/// configs/conv1d_spoken_digits.json under `mpirun -np 2`, shrunk with `--set`, on a small
/// spoken-digits folder the test writes itself: tone pairs per digit at 22,050 Hz, the rate
/// espeak-ng writes, so the features go through resampling, trimming and padding as on the real
/// data, and nothing depends on espeak-ng being installed.
final class SpokenDigitsJobTests: XCTestCase {
    private var root = ""
    private var data: String { root + "/data" }
    private let config = JobIntegrationTests.repository.appendingPathComponent("configs/conv1d_spoken_digits.json").path
    private let shrink = ["data.frames=30", "data.mel_bands=16", "model.input_shape=[30,16]", "training.batch_size=8",
                          "training.log_every_steps=1", "checkpoint.every_steps=3"]

    override func setUpWithError() throws {
        try XCTSkipUnless(MPIRun.isAvailable, "mpirun not installed")
        root = NSTemporaryDirectory() + "spoken-digits-\(UUID().uuidString)"
        try Self.writeClips(to: data + "/spoken-digits")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Speakers a..d for training and e, f for testing, each saying every digit as two tones
    /// whose frequencies depend on the digit (and a little on the speaker), after 0.1 s of silence.
    static func writeClips(to folder: String) throws {
        for (split, speakers) in [("train", 0..<4), ("test", 4..<6)] {
            for digit in 0...9 {
                let dir = "\(folder)/\(split)/\(digit)"
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                for s in speakers {
                    let low = 300 + 80 * Double(digit) + 7 * Double(s), high = 1200 + 150 * Double(digit)
                    let samples = (0..<6615).map { n -> Double in
                        guard n >= 2205 else { return 0 }
                        let t = Double(n) / 22_050
                        return 0.3 * sin(2 * Double.pi * low * t) + 0.2 * sin(2 * Double.pi * high * t)
                    }
                    let name = String(UnicodeScalar(UInt8(ascii: "a") + UInt8(s)))
                    try Data(WAV.encode(AudioClip(sampleRate: 22_050, samples: samples))).write(to: URL(fileURLWithPath: "\(dir)/\(name).wav"))
                }
            }
        }
    }

    func train(steps: Int, out: String, mpiRanks: Int? = 2, extra: [String] = []) throws -> MPIRun.Result {
        var args = ["train", config, "--data-dir", data, "--out", out]
        for s in shrink + ["training.max_steps=\(steps)"] { args += ["--set", s] }
        let r: MPIRun.Result
        if let mpiRanks {
            r = try MPIRun.run(ranks: mpiRanks, executable: "ddp", arguments: args + extra, timeout: 120)
        } else {
            var env = ProcessInfo.processInfo.environment
            env["SWIFT_BACKTRACE"] = "enable=no"
            r = try MPIRun.runProcess(MPIRun.productsDirectory.appendingPathComponent("ddp").path, args + extra, environment: env, timeout: 120)
        }
        XCTAssertFalse(r.timedOut, "timed out")
        XCTAssertEqual(r.exitCode, 0, "failed:\n\(r.stdout)\n\(r.stderr)")
        return r
    }

    func checkpoint(_ out: String, step: Int) -> String { "\(out)/checkpoints/ckpt-\(String(format: "%09d", step)).safetensors" }

    /// 40 training clips, batch 8 on 2 ranks: 3 steps an epoch. Step 3 is an epoch end, step 4
    /// mid-epoch; a run resumed at 3 ends at 5 bit-identical to a straight one, and the
    /// in-process ranks agree with mpirun's.
    func testTrainsCheckpointsAndResumesExactlyUnderMPI() throws {
        let first = try train(steps: 3, out: root + "/split")
        XCTAssertTrue(first.stdout.contains("classification on spoken-digits, 2 ranks (mpi)"), first.stdout)
        XCTAssertTrue(first.stdout.contains("test accuracy"), first.stdout)
        let resumed = try train(steps: 5, out: root + "/split", extra: ["--resume", checkpoint(root + "/split", step: 3)])
        XCTAssertTrue(resumed.stdout.contains("resumed from"), resumed.stdout)
        _ = try train(steps: 5, out: root + "/straight")
        _ = try train(steps: 5, out: root + "/threads", mpiRanks: nil, extra: ["--ranks", "2"])
        let straight = try Data(contentsOf: URL(fileURLWithPath: checkpoint(root + "/straight", step: 5)))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: checkpoint(root + "/split", step: 5))), straight,
                       "a run resumed at step 3 does not end bit-identical to an uninterrupted one")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: checkpoint(root + "/threads", step: 5))), straight,
                       "2 in-process ranks and mpirun -np 2 end with different checkpoints")
    }

    /// Exit code 2 and one message naming the file and byte offset, or the key path.
    func testBadInputIsNamed() throws {
        func rejected(_ extra: [String], _ expected: String, line: UInt = #line) throws {
            var args = ["train", config, "--data-dir", data, "--out", root + "/bad"]
            for s in shrink + extra { args += ["--set", s] }
            let r = try MPIRun.run(ranks: 2, executable: "ddp", arguments: args, timeout: 60)
            XCTAssertFalse(r.timedOut, line: line)
            XCTAssertEqual(r.exitCode, 2, r.stderr, line: line)
            XCTAssertEqual(r.stderr.components(separatedBy: expected).count - 1, 1, "expected once: \(expected)\nstderr:\n\(r.stderr)", line: line)
        }
        try rejected(["model.input_shape=[30,20]"], "model.input_shape: [30, 20] does not fit 30 frames × 16 log_mel features (data.frames, data.mel_bands): expected [30, 16] or another shape of 480 elements")
        try rejected(["data.features=mfcc", "data.coefficients=17"], "data.coefficients: expected an integer in [1, 16]")
        try rejected(["data.features=mel"], "data.features: unknown audio feature \"mel\" (valid: \"log_mel\", \"mfcc\")")
        let clip = data + "/spoken-digits/test/4/e.wav"
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: clip)))
        bytes[34] = 24
        try Data(bytes).write(to: URL(fileURLWithPath: clip))
        try rejected([], "ddp: \(clip): byte 34: 16 bits per sample expected, found 24")
        try FileManager.default.removeItem(atPath: data + "/spoken-digits/train/9")
        try rejected([], "ddp: \(data)/spoken-digits/train/9: no such folder: train/ must hold one folder per digit, 0 to 9, of .wav files")
    }
}

/// The audio `data` keys: defaults, the model input they imply, and their errors.
final class SpokenDigitsConfigTests: XCTestCase {
    func testTheShippedConfigAndItsAudioKeys() throws {
        let config = try ConfigTests.load("conv1d_spoken_digits.json")
        let audio = try XCTUnwrap(config.data.audio)
        XCTAssertEqual(audio.settings, AudioFeatureSettings(kind: .logMel, sampleRate: 16_000, windowLength: 400, hopLength: 160,
                                                            melBands: 40, coefficients: 40, frames: 90))
        XCTAssertEqual(try config.buildModel().outputShapes.first, [88, 64])
        let mfcc = try ConfigTests.load("conv1d_spoken_digits.json", overrides: [
            "data.features=mfcc", "model.input_shape=[90,13]", "data.sample_rate=8000", "data.window_ms=32"])
        XCTAssertEqual(mfcc.data.audio?.settings.shape, [90, 13], "13 coefficients by default")
        XCTAssertEqual(mfcc.data.audio?.settings.windowLength, 256)
        XCTAssertEqual(mfcc.data.audio?.settings.fftSize, 256)
        func message(_ overrides: [String]) -> String {
            do {
                _ = try ConfigTests.load("conv1d_spoken_digits.json", overrides: overrides)
                return "no error"
            } catch { return "\(error)" }
        }
        XCTAssertTrue(message(["data.coefficients=13"]).hasSuffix(
            "data.coefficients: MFCC only: expected null (or no key) with features \"log_mel\""), message(["data.coefficients=13"]))
        XCTAssertTrue(message(["data.hop_ms=0.01"]).hasSuffix("data.hop_ms: 0.01 ms at 16000 Hz is less than one sample"))
        XCTAssertTrue(message(["data.scale=unit"]).contains("data.scale: unknown key for dataset \"spoken-digits\""))
        XCTAssertTrue(message(["task=gan"]).contains("dataset \"spoken-digits\" does not fit task \"gan\""), message(["task=gan"]))
    }
}
