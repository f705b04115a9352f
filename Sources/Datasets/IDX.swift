/// The IDX format of MNIST and Fashion-MNIST: a big-endian magic number 0x0000TTDD (TT the
/// element type, 0x08 for unsigned bytes; DD the number of dimensions), DD big-endian UInt32
/// sizes, then the elements. Files may be raw or gzip-compressed.
public enum IDX {
    /// Unsigned bytes, 3 dimensions: N × rows × columns.
    public static let imagesMagic: UInt32 = 0x0000_0803
    /// Unsigned bytes, 1 dimension: N.
    public static let labelsMagic: UInt32 = 0x0000_0801

    public struct Images: Sendable {
        public let count: Int
        public let rows: Int
        public let columns: Int
        /// count × rows × columns bytes, row-major.
        public let pixels: [UInt8]
    }

    public static func readImages(_ path: String) throws -> Images {
        try parseImages(DataFile.read(path), file: path)
    }

    /// Labels as class indices, each checked to lie in 0..<classCount.
    public static func readLabels(_ path: String, classCount: Int = 10) throws -> [Int32] {
        try parseLabels(DataFile.read(path), file: path, classCount: classCount)
    }

    public static func parseImages(_ bytes: [UInt8], file: String) throws -> Images {
        let dims = try header(bytes, file: file, magic: imagesMagic, what: "images")
        let (payload, count, rows, columns) = (dims.payload, dims.sizes[0], dims.sizes[1], dims.sizes[2])
        guard rows > 0, columns > 0 else {
            throw DataError(.badHeader, file: file, at: "byte 8", "image size of at least 1x1 expected, found \(rows)x\(columns)")
        }
        try checkLength(bytes, file: file, payload: payload, elements: [count, rows, columns],
                        what: "\(grouped(count)) images of \(rows)x\(columns)")
        return Images(count: count, rows: rows, columns: columns, pixels: Array(bytes[payload...]))
    }

    public static func parseLabels(_ bytes: [UInt8], file: String, classCount: Int = 10) throws -> [Int32] {
        let dims = try header(bytes, file: file, magic: labelsMagic, what: "labels")
        let (payload, count) = (dims.payload, dims.sizes[0])
        try checkLength(bytes, file: file, payload: payload, elements: [count], what: "\(grouped(count)) labels")
        var labels = [Int32](repeating: 0, count: count)
        for i in 0..<count {
            let v = bytes[payload + i]
            guard Int(v) < classCount else {
                throw DataError(.valueOutOfRange, file: file, at: "byte \(grouped(payload + i)) (label \(grouped(i)))",
                                "label in 0...\(classCount - 1) expected, found \(v)")
            }
            labels[i] = Int32(v)
        }
        return labels
    }

    /// Checks the magic number and reads the dimension sizes that follow it.
    private static func header(_ bytes: [UInt8], file: String, magic: UInt32, what: String) throws -> (sizes: [Int], payload: Int) {
        guard bytes.count >= 4 else {
            throw DataError(.truncated, file: file, "truncated: a 4-byte IDX magic number expected, file has \(bytes.count) bytes")
        }
        let found = bigEndian32(bytes, 0)
        guard found == magic else {
            throw DataError(.badMagic, file: file, at: "byte 0",
                            "magic number \(hex32(magic)) expected for IDX \(what), found \(hex32(found))\(describeMagic(found))")
        }
        let dimensions = Int(magic & 0xff)
        let payload = 4 + 4 * dimensions
        guard bytes.count >= payload else {
            throw DataError(.truncated, file: file, "truncated: a \(payload)-byte header with \(dimensions) sizes expected, file has \(bytes.count) bytes")
        }
        return ((0..<dimensions).map { Int(bigEndian32(bytes, 4 + 4 * $0)) }, payload)
    }

    /// The payload must hold exactly the product of the sizes in bytes.
    private static func checkLength(_ bytes: [UInt8], file: String, payload: Int, elements: [Int], what: String) throws {
        let (product, overflow) = elements.reduce((1, false)) { acc, n in
            let (p, o) = acc.0.multipliedReportingOverflow(by: n)
            return (p, acc.1 || o)
        }
        let expected = payload + product
        guard !overflow, bytes.count >= expected else {
            let size = overflow ? "more than 2^63" : grouped(expected)
            throw DataError(.truncated, file: file, "truncated: header says \(what) (\(size) bytes) but file has \(grouped(bytes.count)) bytes")
        }
        guard bytes.count == expected else {
            throw DataError(.badLength, file: file, at: "byte \(grouped(expected))",
                            "header says \(what) (\(grouped(expected)) bytes) but file has \(grouped(bytes.count - expected)) more bytes")
        }
    }

    private static func describeMagic(_ m: UInt32) -> String {
        switch m {
        case imagesMagic: return " (IDX images)"
        case labelsMagic: return " (IDX labels)"
        case _ where m >> 16 == 0x1f8b: return " (a gzip stream inside the gzip stream?)"
        case _ where m >> 16 != 0: return " (not an IDX file)"
        default: return " (IDX type 0x\(String(m >> 8 & 0xff, radix: 16)) with \(m & 0xff) dimensions)"
        }
    }

    private static func bigEndian32(_ b: [UInt8], _ at: Int) -> UInt32 {
        UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3])
    }
}
