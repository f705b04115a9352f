import Datasets

/// IDX images and labels from arbitrary bytes (gunzipped first when they start with 1f 8b, as
/// `DataFile.read` does): each must parse or throw a `DataError`, never trap.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIDX(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let raw = Array(UnsafeBufferPointer(start: data, count: size))
    do {
        let bytes = try DataFile.decode(raw, file: "fuzz.idx")
        if let images = try? IDX.parseImages(bytes, file: "fuzz.idx") {
            precondition(images.pixels.count == images.count * images.rows * images.columns)
        }
        _ = try? IDX.parseLabels(bytes, file: "fuzz.idx")
    } catch is DataError {
    } catch {
        fatalError("unexpected \(type(of: error)): \(error)")
    }
    return 0
}
