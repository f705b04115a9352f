import Training

/// A safetensors checkpoint from arbitrary bytes: it must load or throw an `ArtifactError`,
/// never trap, and a loaded one must re-encode to a file that loads to the same tensors.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    do {
        let checkpoint = try Checkpoint(decoding: bytes, source: "fuzz.safetensors")
        let again = try Checkpoint(decoding: checkpoint.encoded(), source: "re-encoded")
        precondition(again.names == checkpoint.names && again.tensors.map(\.shape) == checkpoint.tensors.map(\.shape))
    } catch is ArtifactError {
    } catch {
        fatalError("unexpected \(type(of: error)): \(error)")
    }
    return 0
}
