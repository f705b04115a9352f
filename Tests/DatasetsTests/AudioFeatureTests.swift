@testable import Datasets
import Foundation
import XCTest

final class AudioFeatureTests: XCTestCase {
    func testRealFFTMatchesTheDFT() {
        for size in [2, 4, 8, 64, 512] {
            let x = (0..<size).map { (n: Int) -> Double in sin(0.37 * Double(n * n) + 0.5) + 0.1 * Double(n % 5) }
            let fast = RealFFT(size: size).spectrum(x)
            for k in 0...(size / 2) {
                var re = 0.0, im = 0.0
                for (n, v) in x.enumerated() {
                    let angle = -2 * Double.pi * Double(k * n) / Double(size)
                    re += v * cos(angle)
                    im += v * sin(angle)
                }
                XCTAssertEqual(fast[k].re, re, accuracy: 1e-9 * Double(size), "size \(size) bin \(k)")
                XCTAssertEqual(fast[k].im, im, accuracy: 1e-9 * Double(size), "size \(size) bin \(k)")
            }
        }
    }

    func testRealFFTZeroPadsShortInput() {
        let fft = RealFFT(size: 16)
        let short = fft.spectrum([1, 2, 3]), padded = fft.spectrum([1, 2, 3] + [Double](repeating: 0, count: 13))
        for k in 0...8 {
            XCTAssertEqual(short[k].re, padded[k].re, accuracy: 1e-12)
            XCTAssertEqual(short[k].im, padded[k].im, accuracy: 1e-12)
        }
    }

    func testMelFiltersPartitionUnityBetweenFirstAndLastCentre() {
        let bank = MelFilterbank(bands: 40, fftSize: 512, sampleRate: 16_000)
        XCTAssertEqual(bank.edges.first!, 0)
        XCTAssertEqual(bank.edges.last!, 8000, accuracy: 1e-9)
        XCTAssertEqual(MelFilterbank.mel(1000), 1000, accuracy: 0.1)  // the HTK scale puts 1 kHz at ~1000 mel
        for k in 0..<bank.bins {
            let f = Double(k) * 16_000 / 512
            guard f >= bank.edges[1] && f <= bank.edges[40] else { continue }
            let sum = (0..<40).reduce(0.0) { $0 + bank.weights[$1 * bank.bins + k] }
            XCTAssertEqual(sum, 1, accuracy: 1e-9, "bin \(k) (\(f) Hz)")
        }
        for m in 0..<40 {
            let row = bank.weights[(m * bank.bins)..<((m + 1) * bank.bins)]
            XCTAssertGreaterThan(row.max()!, 0.3, "band \(m) must cover at least one bin")
            XCTAssertLessThanOrEqual(row.max()!, 1)
        }
    }

    /// librosa's log-mel and MFCC of a formula signal (Tests/Fixtures/audio_features.json and
    /// generate_audio_reference.py, which says how the settings correspond).
    func testFeaturesMatchLibrosa() throws {
        struct Fixture: Decodable {
            let frames: Int
            let filterSums: [Double]
            let logMel: [[Double]]
            let mfcc: [[Double]]
        }
        let url = URL(fileURLWithPath: repositoryRoot + "/Tests/Fixtures/audio_features.json")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let fixture = try decoder.decode(Fixture.self, from: Data(contentsOf: url))
        let x = (0..<4000).map { n -> Double in
            let t = Double(n), twoPi = 2 * Double.pi
            let tones: Double = 0.5 * sin(twoPi * 440 * t / 16_000) + 0.25 * sin(twoPi * 1850 * t / 16_000 + 0.3)
            let chirps: Double = 0.1 * sin(1e-4 * t * t) + 0.05 * sin(0.731 * t * t)
            return tones + chirps
        }
        let settings = AudioFeatureSettings(kind: .mfcc, sampleRate: 16_000, windowLength: 400, hopLength: 160, melBands: 40, coefficients: 13, frames: 23)
        XCTAssertEqual(settings.fftSize, 512)
        let features = AudioFeatures(settings)
        for (m, expected) in fixture.filterSums.enumerated() {
            let sum = features.filterbank.weights[(m * 257)..<((m + 1) * 257)].reduce(0, +)
            XCTAssertEqual(sum, expected, accuracy: 1e-9 * max(1, expected), "filter \(m)")
        }
        let logMel = features.logMel(x), mfcc = features.mfcc(x)
        XCTAssertEqual(logMel.count, fixture.frames * 40)
        XCTAssertEqual(mfcc.count, fixture.frames * 13)
        for t in 0..<fixture.frames {
            for m in 0..<40 { XCTAssertEqual(logMel[t * 40 + m], fixture.logMel[t][m], accuracy: 1e-6, "log-mel frame \(t) band \(m)") }
            for c in 0..<13 { XCTAssertEqual(mfcc[t * 13 + c], fixture.mfcc[t][c], accuracy: 1e-6, "mfcc frame \(t) coefficient \(c)") }
        }
    }

    func testResamplingKeepsATonePassbandAndRemovesWhatTheNewRateCannotHold() {
        func tone(_ hz: Double, rate: Int, count: Int) -> [Double] { (0..<count).map { sin(2 * .pi * hz * Double($0) / Double(rate)) } }
        let down = Resampler.resample(tone(440, rate: 22_050, count: 22_050), from: 22_050, to: 16_000)
        XCTAssertEqual(down.count, 16_000)
        let expected = tone(440, rate: 16_000, count: 16_000)
        let interior = 200..<15_800  // away from the edges, where the kernel runs off the signal
        XCTAssertLessThan(interior.map { abs(down[$0] - expected[$0]) }.max()!, 2e-3)
        // 10 kHz is above the 8 kHz Nyquist frequency of 16 kHz: it must not alias to 6 kHz.
        let aliased = Resampler.resample(tone(10_000, rate: 22_050, count: 22_050), from: 22_050, to: 16_000)
        XCTAssertLessThan(interior.map { abs(aliased[$0]) }.max()!, 0.01)
        let up = Resampler.resample(tone(440, rate: 8000, count: 8000), from: 8000, to: 16_000)
        XCTAssertEqual(up.count, 16_000)
        XCTAssertLessThan(interior.map { abs(up[$0] - expected[$0]) }.max()!, 2e-3)
    }

    func testClipFeaturesTrimSilenceAndPadToTheFrameCount() {
        let settings = AudioFeatureSettings(kind: .logMel, sampleRate: 16_000, windowLength: 400, hopLength: 160, melBands: 20, frames: 30)
        let features = AudioFeatures(settings)
        let burst = (0..<3200).map { 0.5 * sin(2 * .pi * 700 * Double($0) / 16_000) }
        let silence = [Double](repeating: 0, count: 4000)
        let plain = features.features(of: AudioClip(sampleRate: 16_000, samples: burst))
        let padded = features.features(of: AudioClip(sampleRate: 16_000, samples: silence + burst + silence))
        XCTAssertEqual(plain.count, 30 * 20)
        XCTAssertEqual(plain, padded, "leading and trailing silence is cut")
        // The burst (less its first, zero, sample) gives 1 + (3199 - 400)/160 = 18 frames; frames 20... hold only zeros: the log floor.
        XCTAssertGreaterThan(plain[17 * 20 + 5], Float(log(AudioFeatures.logFloor)) + 1)
        XCTAssertTrue(plain[(20 * 20)...].allSatisfy { $0 == Float(log(AudioFeatures.logFloor)) })
        let long = features.features(of: AudioClip(sampleRate: 16_000, samples: burst + burst + burst))
        XCTAssertEqual(long.count, 30 * 20, "a long clip is cut to the frame count")
        XCTAssertEqual(AudioFeatureSettings(windowLength: 551).fftSize, 1024)
    }
}
