import ImageCodecs

/// PNG and JPEG files to and from 8-bit pixels, through libpng and libjpeg (the C target
/// `ImageCodecs`, where their longjmp error handling stays). Decoding always gives RGB: grey
/// and palette images are expanded, alpha (and PNG tRNS transparency) is dropped as PIL's
/// `convert("RGB")` does, 16-bit PNG samples are scaled to 8 bits, and EXIF orientation is
/// ignored (Keras's `load_img` ignores it too).
public enum ImageCodec {
    public enum Format: String, Sendable {
        case png = "PNG", jpeg = "JPEG"
    }

    /// Sides above this are `.unsupportedImage` errors, so a header cannot ask for more than
    /// 200 MB (8192² RGB) before the data is read.
    public static let maxSide = 8192

    /// The format the first bytes announce, nil for neither.
    public static func format(of bytes: [UInt8]) -> Format? {
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        return nil
    }

    /// A decoded image: `width × height × 3` RGB bytes owned by the C library until `body`
    /// returns; `file` names the image in errors.
    public static func decode<T>(_ bytes: [UInt8], file: String, _ body: (_ rgb: UnsafePointer<UInt8>, _ height: Int, _ width: Int) throws -> T) throws -> T {
        guard let format = format(of: bytes) else {
            let head = bytes.prefix(8).map { String($0, radix: 16).leftPadded(2) }.joined(separator: " ")
            throw DataError(.badMagic, file: file, at: "byte 0",
                            "a PNG (89 50 4e 47 0d 0a 1a 0a) or JPEG (ff d8 ff) signature expected, found \(bytes.isEmpty ? "an empty file" : head)")
        }
        var image = ic_image()
        bytes.withUnsafeBufferPointer { p in
            switch format {
            case .png: ic_decode_png(p.baseAddress, p.count, Int32(maxSide), &image)
            case .jpeg: ic_decode_jpeg(p.baseAddress, p.count, Int32(maxSide), &image)
            }
        }
        defer { ic_free(image.pixels) }
        let status = ic_status(UInt32(truncatingIfNeeded: image.status))
        guard status == IC_OK, let pixels = image.pixels else {
            let message = withUnsafeBytes(of: image.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            let kind: DataError.Kind
            switch status {
            case IC_TRUNCATED: kind = .truncated
            case IC_UNSUPPORTED: kind = .unsupportedImage
            default: kind = .corruptImage
            }
            throw DataError(kind, file: file, "\(kind == .corruptImage ? "corrupt " : "")\(format.rawValue): \(message)")
        }
        return try body(pixels, Int(image.height), Int(image.width))
    }

    /// A PNG of `height × width` pixels with `channels` samples each (1 grey, 2 grey and alpha,
    /// 3 RGB, 4 RGBA) of `bitDepth` 8 or 16 bits (16-bit samples big-endian). With a `palette`
    /// of RGB triples, `pixels` holds one index per pixel.
    public static func encodePNG(_ pixels: [UInt8], height: Int, width: Int, channels: Int, bitDepth: Int = 8,
                                 palette: [UInt8]? = nil) -> [UInt8] {
        let sampleBytes = bitDepth / 8
        precondition(pixels.count == height * width * channels * sampleBytes, "PNG: \(pixels.count) bytes for \(height)x\(width)x\(channels) at \(bitDepth) bits")
        var out = ic_buffer()
        pixels.withUnsafeBufferPointer { p in
            if let palette {
                palette.withUnsafeBufferPointer { ic_encode_png(p.baseAddress, Int32(width), Int32(height), Int32(channels), Int32(bitDepth),
                                                                $0.baseAddress, Int32(palette.count / 3), &out) }
            } else {
                ic_encode_png(p.baseAddress, Int32(width), Int32(height), Int32(channels), Int32(bitDepth), nil, 0, &out)
            }
        }
        return take(&out, "PNG")
    }

    /// A baseline JPEG of grey (`channels` 1) or RGB (3) pixels at `quality` 1…100.
    public static func encodeJPEG(_ pixels: [UInt8], height: Int, width: Int, channels: Int, quality: Int = 95) -> [UInt8] {
        precondition(pixels.count == height * width * channels, "JPEG: \(pixels.count) bytes for \(height)x\(width)x\(channels)")
        var out = ic_buffer()
        pixels.withUnsafeBufferPointer { ic_encode_jpeg($0.baseAddress, Int32(width), Int32(height), Int32(channels), Int32(quality), &out) }
        return take(&out, "JPEG")
    }

    /// The encoded bytes, freed on the C side; a failure here is a programming error (the
    /// parameters were checked), so it stops the program.
    private static func take(_ out: inout ic_buffer, _ format: String) -> [UInt8] {
        defer { ic_free(out.bytes) }
        guard out.status == Int32(IC_OK.rawValue), let bytes = out.bytes else {
            let message = withUnsafeBytes(of: out.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            fatalError("\(format) encoding failed: \(message)")
        }
        return Array(UnsafeBufferPointer(start: bytes, count: out.size))
    }
}

extension String {
    fileprivate func leftPadded(_ length: Int) -> String { String(repeating: "0", count: max(0, length - count)) + self }
}
