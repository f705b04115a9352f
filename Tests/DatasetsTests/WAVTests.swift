@testable import Datasets
import XCTest

final class WAVTests: XCTestCase {
    private let clip = AudioClip(sampleRate: 22_050, samples: [0, 0.5, -0.5, 32767.0 / 32768, -1])

    func testEncodeThenParseRoundTrips() throws {
        let parsed = try WAV.parse(WAV.encode(clip), file: "t.wav")
        XCTAssertEqual(parsed.sampleRate, 22_050)
        XCTAssertEqual(parsed.samples.count, 5)
        for (a, b) in zip(parsed.samples, clip.samples) { XCTAssertEqual(a, b, accuracy: 1.0 / 32768) }
    }

    /// espeak-ng's header, a LIST chunk of odd size (padded) before the data, and stereo averaged.
    func testSkipsOtherChunksAndAveragesChannels() throws {
        var bytes = WAV.encode(AudioClip(sampleRate: 8000, samples: []))
        bytes.removeLast(8)  // drop the empty data chunk
        bytes += Array("LIST".utf8) + [3, 0, 0, 0, 65, 66, 67, 0]
        bytes[22] = 2  // two channels
        bytes += Array("data".utf8) + [8, 0, 0, 0] + [0x00, 0x40, 0x00, 0x00, 0x00, 0xC0, 0x00, 0xC0]
        let parsed = try WAV.parse(bytes, file: "s.wav")
        XCTAssertEqual(parsed.samples, [0.25, -0.5])
    }

    func testBadFilesNameTheFileAndTheByteOffset() {
        let good = WAV.encode(clip)
        assertDataError(.truncated, file: "a.wav", mentions: ["12-byte RIFF/WAVE header", "8 bytes"]) { try WAV.parse(Array(good.prefix(8)), file: "a.wav") }
        var notWave = good
        notWave.replaceSubrange(8..<12, with: Array("AVI ".utf8))
        assertDataError(.badMagic, file: "b.wav", mentions: ["byte 0", "\"AVI \""]) { try WAV.parse(notWave, file: "b.wav") }
        var float = good
        float[20] = 3  // IEEE float
        assertDataError(.badHeader, file: "c.wav", mentions: ["byte 20", "linear PCM (format 1) expected, found format 3"]) { try WAV.parse(float, file: "c.wav") }
        var eightBit = good
        eightBit[34] = 8
        assertDataError(.badHeader, file: "d.wav", mentions: ["byte 34", "16 bits per sample expected, found 8"]) { try WAV.parse(eightBit, file: "d.wav") }
        assertDataError(.truncated, file: "e.wav", mentions: ["byte 40", "chunk \"data\" announces 10 bytes but only 7 follow"]) {
            try WAV.parse(Array(good.dropLast(3)), file: "e.wav")
        }
        var fast = good
        fast.replaceSubrange(24..<28, with: [0, 0x10, 0x0E, 0x00])  // 921,600 Hz
        assertDataError(.badHeader, file: "h.wav", mentions: ["byte 24", "a sample rate in 1,000...384,000 Hz expected, found 921,600"]) {
            try WAV.parse(fast, file: "h.wav")
        }
        var odd = good
        odd[40] = 9
        odd.append(0)
        assertDataError(.badLength, file: "f.wav", mentions: ["byte 40", "multiple of 2 bytes", "found 9"]) { try WAV.parse(odd, file: "f.wav") }
        assertDataError(.truncated, file: "g.wav", mentions: ["byte 36", "a \"data\" chunk expected"]) { try WAV.parse(Array(good.prefix(36)), file: "g.wav") }
    }

    func testSpokenDigitsReadsDigitFoldersInterleavedAndNamesAMissingFolder() throws {
        let dir = try temporaryDirectory(self)
        let settings = AudioFeatureSettings(kind: .logMel, melBands: 8, frames: 5)
        for split in ["train", "test"] {
            for d in 0...9 {
                try FileManager.default.createDirectory(atPath: "\(dir)/\(split)/\(d)", withIntermediateDirectories: true)
                for speaker in ["a", "b"] {
                    let tone = AudioClip(sampleRate: 8000, samples: (0..<1600).map { 0.3 * sin(Double($0) * 0.05 * Double(d + 1)) })
                    try write(WAV.encode(tone), to: "\(dir)/\(split)/\(d)/\(speaker).wav")
                }
            }
        }
        let train = try SpokenDigits.load(from: dir, split: .train, settings: settings, limit: 12)
        XCTAssertEqual(train.count, 12)
        XCTAssertEqual(train.labels, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1], "by file name, then digit")
        XCTAssertEqual(train.sampleShape, [5, 8])
        XCTAssertTrue(train.sources[10].hasSuffix("train/0/b.wav"))
        let (standardTrain, standardTest) = try SpokenDigits.loadStandardized(from: dir, settings: settings)
        XCTAssertEqual(standardTest.count, 20)
        for f in 0..<8 {
            let column = stride(from: f, to: standardTrain.features.count, by: 8).map { Double(standardTrain.features[$0]) }
            XCTAssertEqual(column.reduce(0, +) / Double(column.count), 0, accuracy: 1e-4, "feature \(f) standardised on train")
        }
        try FileManager.default.removeItem(atPath: "\(dir)/test/7")
        assertDataError(.unreadable, file: "\(dir)/test/7", mentions: ["one folder per digit, 0 to 9"]) {
            try SpokenDigits.load(from: dir, split: .test, settings: settings)
        }
        try write(Array("RIFF".utf8), to: "\(dir)/train/3/a.wav")
        assertDataError(.truncated, file: "\(dir)/train/3/a.wav") { try SpokenDigits.load(from: dir, split: .train, settings: settings) }
    }
}

final class SpokenDigitsFolderTests: XCTestCase {
    /// The spoken-digits folder is recognised by its train/ folder; a file of that name is not one.
    func testTheMarkerIsTheTrainFolder() throws {
        let root = try temporaryDirectory(self)
        try FileManager.default.createDirectory(atPath: root + "/spoken-digits", withIntermediateDirectories: true)
        try write([1], to: root + "/spoken-digits/train")
        XCTAssertThrowsError(try DataDirectory.resolve(.spokenDigits, explicit: root)) { error in
            XCTAssertTrue("\(error)".contains("\(root)/spoken-digits (--data-dir): folder has no train/"), "\(error)")
            XCTAssertTrue("\(error)".contains("launch/data/make-spoken-digits.sh"), "\(error)")
        }
        try FileManager.default.removeItem(atPath: root + "/spoken-digits/train")
        try FileManager.default.createDirectory(atPath: root + "/spoken-digits/train", withIntermediateDirectories: true)
        XCTAssertEqual(try DataDirectory.resolve(.spokenDigits, explicit: root), root + "/spoken-digits")
    }

    /// What espeak-ng writes (when it is installed: launch/setup.sh installs it) reads as a clip
    /// of 22,050 Hz and becomes features of the configured shape.
    func testReadsWhatEspeakWrites() throws {
        let espeak = ["/usr/bin/espeak-ng", "/usr/local/bin/espeak-ng"].first { FileManager.default.isExecutableFile(atPath: $0) }
        try XCTSkipUnless(espeak != nil, "espeak-ng not installed")
        let path = try temporaryDirectory(self) + "/seven.wav"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: espeak!)
        process.arguments = ["-v", "en-us+f3", "-s", "175", "-w", path, "seven"]
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        let clip = try WAV.read(path)
        XCTAssertEqual(clip.sampleRate, 22_050)
        XCTAssertGreaterThan(clip.seconds, 0.3)
        XCTAssertGreaterThan(clip.samples.map(abs).max()!, 0.1)
        let settings = AudioFeatureSettings(kind: .mfcc, coefficients: 20, frames: 90)
        let features = AudioFeatures(settings).features(of: clip)
        XCTAssertEqual(features.count, 90 * 20)
        XCTAssertTrue(features.allSatisfy(\.isFinite))
    }
}
