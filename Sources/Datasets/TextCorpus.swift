/// A UTF-8 text file as the token ids of its own character vocabulary, for character-level
/// language models (Tiny Shakespeare).
public struct TextCorpus: Sendable {
    /// The file the text came from, or the name given for in-memory text.
    public let source: String
    public let vocabulary: CharacterVocabulary
    /// One id per Unicode scalar of the text.
    public let ids: [Int32]

    /// Reads `path` (raw or gzip); bytes that are not valid UTF-8 are a `.badText` error with
    /// their offset.
    public init(contentsOf path: String) throws {
        let scalars = try Self.decodeUTF8(DataFile.read(path), file: path)
        let vocabulary = CharacterVocabulary(of: scalars)
        self.init(source: path, vocabulary: vocabulary, ids: try vocabulary.encode(scalars, source: path))
    }

    public init(text: String, source: String = "text") {
        let vocabulary = CharacterVocabulary(of: text.unicodeScalars)
        // Every scalar of the text is in its own vocabulary, so encoding cannot fail.
        self.init(source: source, vocabulary: vocabulary, ids: try! vocabulary.encode(text, source: source))
    }

    private init(source: String, vocabulary: CharacterVocabulary, ids: [Int32]) {
        self.source = source
        self.vocabulary = vocabulary
        self.ids = ids
    }

    public var count: Int { ids.count }

    /// The first `trainFraction` of the ids for training and the rest for validation, split
    /// where nanoGPT splits: at `Int(count * trainFraction)`.
    public func split(trainFraction: Double = 0.9) -> (train: ArraySlice<Int32>, validation: ArraySlice<Int32>) {
        precondition(trainFraction >= 0 && trainFraction <= 1, "train fraction \(trainFraction) outside [0, 1]")
        let cut = Int(Double(count) * trainFraction)
        return (ids[..<cut], ids[cut...])
    }

    /// The Unicode scalars of UTF-8 bytes, rejecting invalid sequences (stray continuation
    /// bytes, overlong forms, surrogates, values past U+10FFFF, cut sequences) with the byte
    /// offset of the first bad one. Hand-written rather than the standard library's generic
    /// parser, which is ten times slower unoptimised (the tests run debug builds).
    static func decodeUTF8(_ bytes: [UInt8], file: String) throws -> [Unicode.Scalar] {
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(bytes.count)
        try bytes.withUnsafeBufferPointer { b in
            var i = 0
            while i < b.count {
                let lead = b[i]
                if lead < 0x80 {
                    scalars.append(Unicode.Scalar(lead))
                    i += 1
                    continue
                }
                let (length, smallest, bits): (Int, UInt32, UInt8) =
                    lead >= 0xF0 ? (4, 0x10000, lead & 0x07) : lead >= 0xE0 ? (3, 0x800, lead & 0x0F) : (2, 0x80, lead & 0x1F)
                var value = UInt32(bits)
                var k = 1
                while k < length, i + k < b.count, b[i + k] & 0xC0 == 0x80 {
                    value = value << 6 | UInt32(b[i + k] & 0x3F)
                    k += 1
                }
                guard lead >= 0xC0, lead < 0xF8, k == length, value >= smallest, let scalar = Unicode.Scalar(value) else {
                    let bad = b[i..<min(i + max(k, 1), b.count)].map { String($0, radix: 16) }.joined(separator: " ")
                    throw DataError(.badText, file: file, at: "byte \(grouped(i))", "UTF-8 text expected, found the invalid sequence \(bad)")
                }
                scalars.append(scalar)
                i += length
            }
        }
        return scalars
    }
}
