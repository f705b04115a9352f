import Datasets

/// WAV files from arbitrary bytes: each must parse or throw a `DataError`, never trap; a clip
/// that parses becomes log-mel features of the configured shape, all finite.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWAV(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let raw = Array(UnsafeBufferPointer(start: data, count: size))
    do {
        let clip = try WAV.parse(raw, file: "fuzz.wav")
        let features = AudioFeatures(AudioFeatureSettings(kind: .logMel, melBands: 8, frames: 4)).features(of: clip)
        precondition(features.count == 4 * 8 && features.allSatisfy(\.isFinite))
    } catch is DataError {
    } catch {
        fatalError("unexpected \(type(of: error)): \(error)")
    }
    return 0
}
