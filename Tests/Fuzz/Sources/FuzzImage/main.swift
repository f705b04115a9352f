import Datasets

/// A PNG or JPEG file from arbitrary bytes, decoded through libpng / libjpeg and resized: it
/// must give an RGB image or throw a `DataError`, never trap (libpng's and libjpeg's longjmps
/// stay inside the C target).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImage(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let raw = Array(UnsafeBufferPointer(start: data, count: size))
    do {
        var out = [UInt8](repeating: 0, count: 8 * 8 * 3)
        try ImageCodec.decode(raw, file: "fuzz") { rgb, h, w in
            precondition(h >= 1 && w >= 1 && h <= ImageCodec.maxSide && w <= ImageCodec.maxSide)
            out.withUnsafeMutableBufferPointer {
                ImageResize.bilinear(rgb, height: h, width: w, channels: 3, into: $0.baseAddress!, height: 8, width: 8)
            }
        }
    } catch is DataError {
    } catch {
        fatalError("unexpected \(type(of: error)): \(error)")
    }
    return 0
}
