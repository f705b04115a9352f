import Datasets

/// A CIFAR-10 batch file from arbitrary bytes (gunzipped first when they start with 1f 8b, as
/// `DataFile.read` does): it must parse or throw a `DataError`, never trap.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCIFAR(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let raw = Array(UnsafeBufferPointer(start: data, count: size))
    do {
        let batch = try CIFAR10.parseBatch(DataFile.decode(raw, file: "fuzz.bin"), file: "fuzz.bin")
        precondition(batch.pixels.count == batch.labels.count * CIFAR10.imageBytes)
    } catch is DataError {
    } catch {
        fatalError("unexpected \(type(of: error)): \(error)")
    }
    return 0
}
