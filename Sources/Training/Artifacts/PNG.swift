/// A minimal PNG encoder (8-bit grayscale or RGB, no interlacing) over zlib: signature, IHDR,
/// one IDAT with every row under filter type 0 (None), IEND; each chunk with its CRC-32.
/// Sample grids are small, so the simplest filter costs little in size.
public enum PNG {
    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// The PNG file for `pixels`: `height` rows of `width` × `channels` bytes, row-major,
    /// with `channels` 1 (grayscale) or 3 (RGB).
    public static func encode(pixels: [UInt8], width: Int, height: Int, channels: Int) -> [UInt8] {
        precondition(channels == 1 || channels == 3, "PNG: \(channels) channels (1 or 3 supported)")
        precondition(width > 0 && height > 0 && width <= Int(Int32.max) && height <= Int(Int32.max), "PNG: size \(width)×\(height)")
        precondition(pixels.count == width * height * channels, "PNG: \(pixels.count) bytes for \(width)×\(height)×\(channels)")
        let rowBytes = width * channels
        var filtered: [UInt8] = []
        filtered.reserveCapacity(height * (rowBytes + 1))
        for y in 0..<height {
            filtered.append(0)
            filtered += pixels[(y * rowBytes)..<((y + 1) * rowBytes)]
        }
        let colorType: UInt8 = channels == 1 ? 0 : 2
        let header = bigEndian(UInt32(width)) + bigEndian(UInt32(height)) + [8, colorType, 0, 0, 0]
        return signature + chunk("IHDR", header) + chunk("IDAT", Zlib.compress(filtered)) + chunk("IEND", [])
    }

    /// Length, type, data and the CRC-32 of type and data.
    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typeBytes = Array(type.utf8)
        return bigEndian(UInt32(data.count)) + typeBytes + data + bigEndian(Zlib.crc32(data, continuing: Zlib.crc32(typeBytes)))
    }

    static func bigEndian(_ x: UInt32) -> [UInt8] { [UInt8(x >> 24), UInt8((x >> 16) & 0xFF), UInt8((x >> 8) & 0xFF), UInt8(x & 0xFF)] }
}
