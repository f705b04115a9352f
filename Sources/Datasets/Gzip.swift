import CZlib

/// gzip through zlib: whole-buffer decompression for the readers, and compression for writing
/// `.gz` files (test fixtures, exported data).
public enum Gzip {
    /// True when `bytes` starts with the gzip magic 1f 8b.
    public static func isCompressed(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
    }

    /// The decompressed contents of a gzip file's bytes, all members of a concatenated file
    /// one after another (as `gzip -d` gives them); zero bytes after the last member are
    /// ignored as padding. A corrupt stream, a truncated one, or other bytes after a member
    /// throw a `DataError` naming `file` and the compressed offset.
    public static func decompress(_ compressed: [UInt8], file: String) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: sizeHint(compressed))
        var produced = 0
        var stream = z_stream()
        guard inflateInit2_(&stream, 16 + MAX_WBITS, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DataError(.corruptGzip, file: file, "zlib could not start inflating (out of memory?)")
        }
        defer { inflateEnd(&stream) }
        try compressed.withUnsafeBufferPointer { input in
            let base = UnsafeMutablePointer(mutating: input.baseAddress!)
            var fed = 0
            func consumed() -> Int { fed - Int(stream.avail_in) }
            while true {
                if stream.avail_in == 0 && fed < input.count {
                    let n = min(input.count - fed, Int(UInt32.max))
                    stream.next_in = base + fed
                    stream.avail_in = UInt32(n)
                    fed += n
                }
                if produced == out.count { out += [UInt8](repeating: 0, count: max(out.count, 1 << 16)) }
                let (rc, wrote) = out.withUnsafeMutableBufferPointer { o -> (Int32, Int) in
                    let room = min(o.count - produced, Int(UInt32.max))
                    stream.next_out = o.baseAddress! + produced
                    stream.avail_out = UInt32(room)
                    let rc = inflate(&stream, Z_NO_FLUSH)
                    return (rc, room - Int(stream.avail_out))
                }
                produced += wrote
                switch rc {
                case Z_OK:
                    continue
                case Z_STREAM_END:
                    let next = consumed()
                    if next == input.count || input[next...].allSatisfy({ $0 == 0 }) {
                        out.removeLast(out.count - produced)
                        return
                    }
                    guard input.count - next >= 2, input[next] == 0x1f, input[next + 1] == 0x8b else {
                        throw DataError(.badLength, file: file, at: "compressed offset \(grouped(next))",
                                        "another gzip member (1f 8b) or the end of the file expected after a member, found \(input.count - next) other bytes")
                    }
                    inflateReset(&stream)
                case Z_BUF_ERROR where stream.avail_out == 0 || fed < input.count:
                    continue
                case Z_BUF_ERROR:
                    throw DataError(.truncated, file: file, at: "compressed offset \(grouped(consumed()))",
                                    "truncated gzip stream: more compressed data expected, found the end of the file (\(grouped(produced)) bytes decompressed so far)")
                default:
                    let reason = stream.msg.map { String(cString: $0) } ?? "zlib error \(rc)"
                    throw DataError(.corruptGzip, file: file, at: "compressed offset \(grouped(consumed()))",
                                    "corrupt gzip stream: \(reason)")
                }
            }
        }
        return out
    }

    /// `bytes` as a single-member gzip file.
    public static func compress(_ bytes: [UInt8], level: Int32 = Z_DEFAULT_COMPRESSION) -> [UInt8] {
        precondition(bytes.count < Int(UInt32.max), "Gzip.compress takes less than 4 GiB at once")
        var stream = z_stream()
        let rc = deflateInit2_(&stream, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY,
                               zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        precondition(rc == Z_OK, "zlib deflateInit2 failed (\(rc))")
        defer { deflateEnd(&stream) }
        var out = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(bytes.count))))
        let written = bytes.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { o -> Int in
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
                stream.avail_in = UInt32(input.count)
                stream.next_out = o.baseAddress
                stream.avail_out = UInt32(o.count)
                let rc = deflate(&stream, Z_FINISH)
                precondition(rc == Z_STREAM_END, "zlib deflate did not finish in one call (\(rc))")
                return o.count - Int(stream.avail_out)
            }
        }
        out.removeLast(out.count - written)
        return out
    }

    /// The output size to allocate first: the gzip trailer's ISIZE (the last member's length
    /// mod 2^32, exact for the usual single member), bounded by a generous compression ratio so
    /// that a truncated file's garbage trailer cannot ask for gigabytes. The buffer grows
    /// geometrically past it when needed.
    private static func sizeHint(_ compressed: [UInt8]) -> Int {
        let n = compressed.count
        guard n >= 18 else { return 1 << 16 }
        let isize = Int(compressed[n - 4]) | Int(compressed[n - 3]) << 8 | Int(compressed[n - 2]) << 16 | Int(compressed[n - 1]) << 24
        return max(1 << 16, min(isize, n * 16))
    }
}
