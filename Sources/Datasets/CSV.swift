/// A comma-separated table as RFC 4180 writes it: a header record naming the columns, then one
/// record per line. Fields may be quoted (`"a, b"`, with `""` for a quote inside), and a quoted
/// field may span lines; records end in LF or CRLF; a UTF-8 byte-order mark and empty lines are
/// skipped. Every record must have as many fields as the header.
public struct CSVTable: Sendable {
    /// The file the table came from (for messages).
    public let file: String
    public let header: [String]
    public let records: [[String]]
    /// The 1-based line on which each record starts (the header is on `headerLine`).
    public let lines: [Int]
    public let headerLine: Int

    /// Reads `path` (raw or gzip).
    public init(contentsOf path: String) throws {
        try self.init(bytes: DataFile.read(path), file: path)
    }

    public init(bytes: [UInt8], file: String) throws {
        var parser = CSVParser(bytes: bytes, file: file)
        guard let (first, line) = try parser.next() else {
            throw DataError(.badHeader, file: file, "a header line naming the columns expected, found an empty file")
        }
        var records: [[String]] = [], lines: [Int] = []
        while let (record, at) = try parser.next() {
            guard record.count == first.count else {
                throw DataError(.badLength, file: file, at: "line \(at)",
                                "\(first.count) fields expected (as in the header), found \(record.count)")
            }
            records.append(record)
            lines.append(at)
        }
        self.file = file
        header = first
        headerLine = line
        self.records = records
        self.lines = lines
    }

    /// The index of the column named `name`; a `.badHeader` error listing the columns if none is.
    public func column(_ name: String) throws -> Int {
        guard let i = header.firstIndex(of: name) else {
            throw DataError(.badHeader, file: file, at: "line \(headerLine)",
                            "a column named \"\(name)\" expected, found the columns \(header.map { "\"\($0)\"" }.joined(separator: ", "))")
        }
        return i
    }

    /// Where field `column` of record `record` is, for messages: `line 7, column 3 ("V2")`.
    public func location(record: Int, column: Int) -> String {
        "line \(lines[record]), column \(column + 1) (\"\(header[column])\")"
    }
}

/// The record-by-record scanner behind `CSVTable`.
struct CSVParser {
    let bytes: [UInt8]
    let file: String
    private var i = 0
    private var line = 1

    private static let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n")

    init(bytes: [UInt8], file: String) {
        self.bytes = bytes
        self.file = file
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { i = 3 }
    }

    /// The next non-empty record and the line it starts on; nil at the end of the file.
    mutating func next() throws -> ([String], Int)? {
        while i < bytes.count, bytes[i] == Self.lf || bytes[i] == Self.cr {
            if bytes[i] == Self.lf { line += 1 }
            i += 1
        }
        guard i < bytes.count else { return nil }
        let start = line
        var fields: [String] = []
        while true {
            fields.append(try field(column: fields.count + 1))
            guard i < bytes.count, bytes[i] == Self.comma else { break }
            i += 1
        }
        if i < bytes.count, bytes[i] == Self.cr { i += 1 }
        if i < bytes.count, bytes[i] == Self.lf {
            i += 1
            line += 1
        }
        return (fields, start)
    }

    /// One field, leaving `i` on the comma or line end after it.
    private mutating func field(column: Int) throws -> String {
        guard i < bytes.count, bytes[i] == Self.quote else {
            let start = i
            while i < bytes.count, bytes[i] != Self.comma, bytes[i] != Self.lf, bytes[i] != Self.cr {
                if bytes[i] == Self.quote {
                    throw DataError(.badText, file: file, at: "line \(line), column \(column)",
                                    "a quote inside an unquoted field (quote the whole field and double the quote)")
                }
                i += 1
            }
            return String(decoding: bytes[start..<i], as: UTF8.self)
        }
        let openLine = line
        i += 1
        var value: [UInt8] = []
        while true {
            guard i < bytes.count else {
                throw DataError(.truncated, file: file, at: "line \(openLine), column \(column)",
                                "the quoted field is not closed before the end of the file")
            }
            let b = bytes[i]
            i += 1
            if b == Self.quote {
                guard i < bytes.count, bytes[i] == Self.quote else { break }
                i += 1
            } else if b == Self.lf {
                line += 1
            }
            value.append(b)
        }
        if i < bytes.count, bytes[i] != Self.comma, bytes[i] != Self.lf, bytes[i] != Self.cr {
            throw DataError(.badText, file: file, at: "line \(line), column \(column)",
                            "a comma or the end of the line expected after the closing quote, found \"\(Unicode.Scalar(bytes[i]))\"")
        }
        return String(decoding: value, as: UTF8.self)
    }
}
