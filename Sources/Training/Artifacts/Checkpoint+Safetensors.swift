import Foundation
import TensorCore

/// The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
/// header length N, N bytes of JSON header padded with spaces to a multiple of 8,
/// `{"__metadata__": {...}, "<name>": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...}`,
/// then the little-endian tensor data, offsets relative to the end of the header. Tensors are
/// written contiguously in `tensors` order.
///
/// Added to the metadata on write: `format` = "pt" (Hugging Face loaders require it),
/// `format_version` = "2", `tensor_crc32`, the CRC-32 of each tensor's bytes in data order
/// (8 hex digits each, comma-separated), and `header_crc32`, the CRC-32 of the header bytes as
/// written with its own 8 digits set to "0". A read verifies both, so a flipped byte anywhere is
/// an error naming the tensor it hit (or the header). Version 1 files carry one `data_crc32` of
/// the whole data section instead; files written by other tools have no checksums (no
/// `format_version`) and are read without them.
extension Checkpoint {
    static let metadataKey = "__metadata__"
    /// safetensors' own limit; a longer header is taken as garbage.
    public static let maximumHeaderBytes = 100_000_000
    public static let formatVersion = "2"
    public static let formatVersionKey = "format_version"
    public static let tensorChecksumsKey = "tensor_crc32"
    public static let headerChecksumKey = "header_crc32"
    /// The single checksum of version 1 files.
    public static let dataChecksumKey = "data_crc32"
    /// Dtypes of the safetensors format, recognised to report them as unsupported rather than unknown.
    static let knownDtypes: Set<String> = ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16",
                                           "I32", "U32", "F32", "F64", "I64", "U64"]

    /// The file's bytes.
    public func encoded() -> [UInt8] {
        let dataBytes = tensors.reduce(0) { $0 + 4 * $1.values.count }
        var data = [UInt8](repeating: 0, count: dataBytes)
        var headerEntries: [String] = [], checksums: [String] = []
        data.withUnsafeMutableBytes { out in
            var offset = 0
            for t in tensors {
                for (i, v) in t.values.enumerated() { out.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: offset + 4 * i, as: UInt32.self) }
                let end = offset + 4 * t.values.count
                headerEntries.append("\(JSONText.string(t.name)):{\"dtype\":\"F32\",\"shape\":\(JSONText.array(t.shape)),\"data_offsets\":[\(offset),\(end)]}")
                checksums.append(Checkpoint.hex(Zlib.crc32(UnsafeRawBufferPointer(rebasing: out[offset..<end]))))
                offset = end
            }
        }
        var meta = metadata
        meta[Checkpoint.dataChecksumKey] = nil
        meta["format"] = "pt"
        meta[Checkpoint.formatVersionKey] = Checkpoint.formatVersion
        meta[Checkpoint.tensorChecksumsKey] = checksums.joined(separator: ",")
        meta[Checkpoint.headerChecksumKey] = Checkpoint.hex(0)
        let metaJSON = meta.sorted { $0.key < $1.key }.map { "\(JSONText.string($0.key)):\(JSONText.string($0.value))" }
        var header = Array(("{\"\(Checkpoint.metadataKey)\":{" + metaJSON.joined(separator: ",") + "}"
                            + headerEntries.map { "," + $0 }.joined() + "}").utf8)
        header += [UInt8](repeating: UInt8(ascii: " "), count: (8 - header.count % 8) % 8)
        let digits = Checkpoint.headerChecksumDigits(header)!
        header.replaceSubrange(digits, with: Array(Checkpoint.hex(Zlib.crc32(header)).utf8))
        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 + header.count + data.count)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { bytes += $0 }
        bytes += header
        bytes += data
        return bytes
    }

    /// Writes the file atomically (see `AtomicFile`). Only one rank should write a given path.
    public func write(to path: String) throws {
        try AtomicFile.write(encoded(), to: path)
    }

    /// Reads and fully validates a checkpoint file. The header length is checked against the
    /// file size before anything of that size is allocated.
    public init(contentsOf path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileIO.failure("cannot open checkpoint", path: path) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FileIO.failure("cannot stat checkpoint", path: path) }
        let size = Int(info.st_size)
        var prefix = [UInt8](repeating: 0, count: min(size, 8))
        try FileIO.read(fd, into: &prefix, path: path)
        _ = try Checkpoint.headerLength(prefix, fileSize: size, path: path)
        var bytes = [UInt8](repeating: 0, count: size)
        try FileIO.read(fd, into: &bytes, path: path)
        try self.init(decoding: bytes, source: path)
    }

    /// Parses and validates the bytes of a safetensors file; `source` names it in errors.
    public init(decoding bytes: [UInt8], source: String = "<memory>") throws {
        let headerLength = try Checkpoint.headerLength(bytes, fileSize: bytes.count, path: source)
        func invalid(_ kind: ArtifactError.Kind, _ message: String) -> ArtifactError { ArtifactError(kind, path: source, message) }
        let header = bytes[8..<(8 + headerLength)]
        guard header.first(where: { $0 != UInt8(ascii: " ") }) == UInt8(ascii: "{") else {
            throw invalid(.invalidHeader, "invalid JSON header: it does not start with '{'")
        }
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: Data(header)) } catch {
            throw invalid(.invalidHeader, "invalid JSON header: \(error)")
        }
        guard let object = json as? [String: Any] else { throw invalid(.invalidHeader, "invalid JSON header: not an object") }

        var metadata: [String: String] = [:]
        if let m = object[Checkpoint.metadataKey] {
            guard let strings = m as? [String: String] else {
                throw invalid(.invalidHeader, "invalid JSON header: \(Checkpoint.metadataKey) must map strings to strings")
            }
            metadata = strings
        }

        let dataStart = 8 + headerLength, dataBytes = bytes.count - dataStart
        var layout: [(name: String, shape: [Int], begin: Int, end: Int)] = []
        for (name, value) in object where name != Checkpoint.metadataKey {
            guard let fields = value as? [String: Any], let dtype = fields["dtype"] as? String,
                  let shape = Checkpoint.integers(fields["shape"]), let offsets = Checkpoint.integers(fields["data_offsets"]),
                  offsets.count == 2 else {
                throw invalid(.invalidHeader, "invalid JSON header: tensor \"\(name)\" needs dtype, shape and data_offsets [begin, end], all integers ≥ 0")
            }
            guard dtype == "F32" else {
                throw invalid(.unsupportedDtype, Checkpoint.knownDtypes.contains(dtype)
                              ? "tensor \"\(name)\" has unsupported dtype \(dtype) (only F32 is supported)"
                              : "tensor \"\(name)\" has unknown dtype \"\(dtype)\"")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin <= end, end <= dataBytes else {
                throw invalid(.invalidOffsets, "tensor \"\(name)\": data_offsets [\(begin), \(end)] are out of bounds of the \(dataBytes)-byte data section")
            }
            guard let needed = Checkpoint.byteCount(shape), needed == end - begin else {
                throw invalid(.invalidOffsets, "tensor \"\(name)\": data_offsets [\(begin), \(end)] hold \(end - begin) bytes, but F32 \(shapeString(shape)) needs \(Checkpoint.byteCount(shape).map(String.init) ?? "too many")")
            }
            layout.append((name, shape, begin, end))
        }
        layout.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var cursor = 0, previous = ""
        for t in layout {
            if t.begin < cursor {
                throw invalid(.invalidOffsets, "tensors \"\(previous)\" and \"\(t.name)\" overlap (\"\(t.name)\" starts at byte \(t.begin), before \(cursor))")
            }
            if t.begin > cursor { throw invalid(.invalidOffsets, "bytes \(cursor)..<\(t.begin) of the data section belong to no tensor") }
            cursor = t.end
            previous = t.name
        }
        if cursor != dataBytes { throw invalid(.invalidOffsets, "bytes \(cursor)..<\(dataBytes) of the data section belong to no tensor") }

        if let version = Checkpoint.checksumVersion(metadata) {
            try Checkpoint.verifyChecksums(version: version, metadata: metadata, bytes: bytes, dataStart: dataStart,
                                           layout: layout.map { ($0.name, $0.begin, $0.end) }, source: source)
        }

        self.init(metadata: metadata)
        self.source = source
        try bytes.withUnsafeBytes { raw in
            for t in layout {
                let n = (t.end - t.begin) / 4
                let values = [Float](unsafeUninitializedCapacity: n) { out, initialized in
                    for i in 0..<n {
                        out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: dataStart + t.begin + 4 * i, as: UInt32.self)))
                    }
                    initialized = n
                }
                try add(t.name, shape: t.shape, values: values)
            }
        }
    }

    /// The header length N from the first 8 bytes, rejected when the file cannot hold it or it
    /// exceeds `maximumHeaderBytes`.
    static func headerLength(_ prefix: [UInt8], fileSize: Int, path: String) throws -> Int {
        guard prefix.count >= 8 else {
            throw ArtifactError(.truncated, path: path, "file of \(fileSize) bytes is too short for the 8-byte header length")
        }
        let n = prefix.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard n <= UInt64(maximumHeaderBytes) else {
            throw ArtifactError(.headerLength, path: path, "header length \(n) is absurd (limit \(maximumHeaderBytes) bytes)")
        }
        guard Int(n) <= fileSize - 8 else {
            throw ArtifactError(.headerLength, path: path, "header length \(n) exceeds the \(fileSize)-byte file")
        }
        return Int(n)
    }

    /// The format version whose checksums a file must carry: its `format_version`, else the one
    /// its checksum keys belong to (so a damaged `format_version` key does not turn checking
    /// off), else nil for a file written by another tool.
    static func checksumVersion(_ metadata: [String: String]) -> String? {
        if let version = metadata[formatVersionKey] { return version }
        if metadata[headerChecksumKey] != nil || metadata[tensorChecksumsKey] != nil { return formatVersion }
        return metadata[dataChecksumKey] != nil ? "1" : nil
    }

    /// Checks the checksums a file of `format_version` `version` carries (see the type's comment):
    /// the header's first, so that a damaged checksum list is reported as a damaged header.
    /// `layout` lists the tensors in data order.
    private static func verifyChecksums(version: String, metadata: [String: String], bytes: [UInt8], dataStart: Int,
                                        layout: [(name: String, begin: Int, end: Int)], source: String) throws {
        func invalid(_ kind: ArtifactError.Kind, _ message: String) -> ArtifactError { ArtifactError(kind, path: source, message) }
        /// The `count` CRC-32s recorded under `key`, comma-separated.
        func recorded(_ key: String, count: Int) throws -> [UInt32] {
            let words = metadata[key].map { $0.isEmpty ? [] : $0.split(separator: ",", omittingEmptySubsequences: false) } ?? []
            // Lowercase only, as written: an uppercase digit would be a changed byte with the same value.
            let values = words.map { $0.count == 8 && $0.allSatisfy({ "0123456789abcdef".contains($0) }) ? UInt32($0, radix: 16) : nil }
            guard metadata[key] != nil, values.count == count, !values.contains(nil) else {
                throw invalid(.invalidMetadata, "\(key) \(metadata[key].map { "\"\($0)\"" } ?? "is missing"): "
                                                + "\(count) CRC-32\(count == 1 ? "" : "s") of 8 lowercase hex digits expected")
            }
            return values.map { $0! }
        }
        func crc(_ begin: Int, _ end: Int) -> UInt32 {
            bytes.withUnsafeBytes { Zlib.crc32(UnsafeRawBufferPointer(rebasing: $0[(dataStart + begin)..<(dataStart + end)])) }
        }
        switch version {
        case "1":
            let expected = try recorded(dataChecksumKey, count: 1)
            let actual = crc(0, bytes.count - dataStart)
            guard actual == expected[0] else {
                throw invalid(.corrupt, "corrupt checkpoint: CRC-32 of the data section is \(hex(actual)), the header recorded \(hex(expected[0]))")
            }
        case formatVersion:
            var header = Array(bytes[8..<dataStart])
            guard let digits = headerChecksumDigits(header) else {
                throw invalid(.invalidMetadata, "\(headerChecksumKey) must appear once in the header, as 8 hex digits")
            }
            let expectedHeader = try recorded(headerChecksumKey, count: 1)[0]
            header.replaceSubrange(digits, with: Array(hex(0).utf8))
            let actualHeader = Zlib.crc32(header)
            guard actualHeader == expectedHeader else {
                throw invalid(.corrupt, "corrupt checkpoint header: its CRC-32 is \(hex(actualHeader)), the header recorded \(hex(expectedHeader)) "
                                        + "(the header was changed after it was written)")
            }
            let expected = try recorded(tensorChecksumsKey, count: layout.count)
            for (t, e) in zip(layout, expected) {
                let actual = crc(t.begin, t.end)
                guard actual == e else {
                    throw invalid(.corrupt, "corrupt checkpoint: tensor \"\(t.name)\" (data bytes \(t.begin)..<\(t.end)) has CRC-32 \(hex(actual)), the header recorded \(hex(e))")
                }
            }
        default:
            throw invalid(.invalidMetadata, "\(formatVersionKey) \"\(version)\" is unknown (this reader knows 1 and \(formatVersion))")
        }
    }

    /// Where the 8 hex digits of `header_crc32` sit in the header bytes: after the only
    /// occurrence of `"header_crc32":"` (JSON escapes quotes inside strings, so that text can
    /// only be the key itself); nil when it is absent, repeated or cut short.
    static func headerChecksumDigits(_ header: [UInt8]) -> Range<Int>? {
        let key = Array("\"\(headerChecksumKey)\":\"".utf8)
        guard header.count >= key.count + 8 else { return nil }
        var found: Int?
        for i in 0...(header.count - key.count) where header[i] == key[0] && header[i..<(i + key.count)].elementsEqual(key) {
            if found != nil { return nil }
            found = i + key.count
        }
        guard let start = found, start + 8 <= header.count else { return nil }
        return start..<(start + 8)
    }

    /// Non-negative integers of a JSON array, or nil.
    private static func integers(_ value: Any?) -> [Int]? {
        guard let array = value as? [Any] else { return nil }
        var out: [Int] = []
        for v in array {
            guard let i = v as? Int, i >= 0 else { return nil }
            out.append(i)
        }
        return out
    }

    /// 4 × the element count of `shape`, or nil on overflow.
    private static func byteCount(_ shape: [Int]) -> Int? {
        var n = 4
        for d in shape {
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            n = p
        }
        return n
    }

    static func hex(_ x: UInt32) -> String { String(x, radix: 16).leftPadded(to: 8, with: "0") }
}
