/// A data file that cannot be used. The description names the file, where in it the problem is
/// (a byte offset, a compressed offset, a record), and what was expected against what was found:
///
///     …/train-images-idx3-ubyte.gz: byte 0: magic number 0x00000803 expected for IDX images, found 0x00000801 (IDX labels)
///     …/t10k-images-idx3-ubyte: truncated: header says 10,000 images of 28x28 (7,840,016 bytes) but file has 1,000,016 bytes
///     …/data_batch_1.bin.gz: compressed offset 1234: corrupt gzip stream: invalid distance too far back
///
/// Byte offsets in a gzip-compressed file count decompressed bytes unless they say "compressed".
public struct DataError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: String, Sendable {
        /// The file cannot be opened or read.
        case unreadable
        /// The first bytes do not identify the expected format.
        case badMagic
        /// A header field holds an impossible value.
        case badHeader
        /// The file (or its compressed stream) ends before the data its header announces.
        case truncated
        /// The length does not fit the format: not a whole number of records, or trailing bytes.
        case badLength
        /// The gzip stream cannot be decoded.
        case corruptGzip
        /// A value (a label, a class count) lies outside its allowed range.
        case valueOutOfRange
        /// Two files that belong together disagree (image count against label count).
        case countMismatch
        /// Text that is not valid UTF-8, or a character outside a vocabulary.
        case badText
        /// A field of a text table that does not hold what its column needs (a number).
        case badField
        /// Image data that libpng or libjpeg rejects (a bad checksum, an invalid marker).
        case corruptImage
        /// A valid image this reader does not take: too large, or a colour space without an RGB
        /// conversion (CMYK JPEG).
        case unsupportedImage
        /// A folder without the entries it should hold (a class folder without images).
        case emptyFolder
    }

    public let kind: Kind
    /// The file path, or a name such as "prompt" for text that did not come from a file.
    public let file: String
    /// Where in the file, e.g. "byte 8" or "compressed offset 1234"; nil for the file as a whole.
    public let location: String?
    /// What was expected and what was found.
    public let message: String

    public init(_ kind: Kind, file: String, at location: String? = nil, _ message: String) {
        self.kind = kind
        self.file = file
        self.location = location
        self.message = message
    }

    public var description: String { [file, location, message].compactMap { $0 }.joined(separator: ": ") }
}

/// A named data set that is in none of the places searched. The description lists every folder
/// tried, where that folder came from and why it was not taken, then how to get the data.
public struct DatasetNotFound: Error, CustomStringConvertible, Sendable {
    public struct Attempt: Sendable, Equatable {
        public let candidate: DataDirectory.Candidate
        /// Why the folder was not taken: missing, or without the data set's files.
        public let reason: String
    }

    public let dataset: DatasetName
    /// The folder name looked for when it is not the data set's (an image folder's).
    public let folder: String?
    public let attempts: [Attempt]

    public init(dataset: DatasetName, folder: String? = nil, attempts: [Attempt]) {
        self.dataset = dataset
        self.folder = folder
        self.attempts = attempts
    }

    public var description: String {
        let what = folder.map { "\(dataset.rawValue) '\($0)'" } ?? "data set '\(dataset.rawValue)'"
        var lines = ["\(what) not found; looked in:"]
        for a in attempts { lines.append("  \(a.candidate.path) (\(a.candidate.origin)): \(a.reason)") }
        lines.append("To get it: \(dataset.howToGet)")
        return lines.joined(separator: "\n")
    }
}

/// `n` with thousands separators (47,040,016), for sizes in messages.
func grouped(_ n: Int) -> String {
    let digits = String(n.magnitude)
    var out = n < 0 ? "-" : ""
    for (i, ch) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(ch)
    }
    return out
}

/// A 32-bit value as eight hex digits, the way magic numbers are written (0x00000803).
func hex32(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - s.count) + s
}
