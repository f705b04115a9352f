import CZlib

/// The two zlib services the artifacts need: CRC-32 (checkpoint checksums, PNG chunks) and
/// deflate in a zlib stream (PNG image data).
enum Zlib {
    /// CRC-32 of `bytes`, continuing from `crc` (0 to start). zlib takes 32-bit lengths, so
    /// large buffers go in chunks.
    static func crc32(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        var c = UInt(crc)
        guard var p = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return crc }
        var left = bytes.count
        while left > 0 {
            let n = min(left, 1 << 30)
            c = CZlib.crc32(c, p, UInt32(n))
            p += n
            left -= n
        }
        return UInt32(truncatingIfNeeded: c)
    }

    static func crc32(_ bytes: [UInt8], continuing crc: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { crc32($0, continuing: crc) }
    }

    /// `bytes` as one zlib stream (deflate with header and Adler-32), at compression `level`.
    static func compress(_ bytes: [UInt8], level: Int32 = 9) -> [UInt8] {
        var capacity = CZlib.compressBound(UInt(bytes.count))
        var out = [UInt8](repeating: 0, count: Int(capacity))
        let status = out.withUnsafeMutableBufferPointer { dst in
            bytes.withUnsafeBufferPointer { src in
                CZlib.compress2(dst.baseAddress, &capacity, src.baseAddress, UInt(src.count), level)
            }
        }
        precondition(status == Z_OK, "zlib compress2 failed with status \(status)")
        out.removeLast(out.count - Int(capacity))
        return out
    }
}
