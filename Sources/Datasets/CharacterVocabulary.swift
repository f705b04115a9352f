/// The token set of a character-level language model: the sorted unique Unicode scalars of a
/// text, id i being the i-th smallest. Unicode scalars rather than bytes so that non-ASCII text
/// (French in tatoeba) gets one token per character, and rather than grapheme clusters so the
/// vocabulary is exactly nanoGPT's `sorted(set(text))` (Python strings iterate code points).
/// For ASCII text such as Tiny Shakespeare, scalars and bytes coincide.
public struct CharacterVocabulary: Sendable, Equatable {
    /// Sorted ascending; a token id is an index into this array.
    public let scalars: [Unicode.Scalar]
    /// Ids of scalars below 128 (-1 where absent): the common case without hashing.
    private let asciiIds: [Int32]
    private let otherIds: [UInt32: Int32]

    /// The vocabulary of the scalars in `text`.
    public init<S: Sequence<Unicode.Scalar>>(of text: S) {
        var seenASCII = [Bool](repeating: false, count: 128)
        var others = Set<UInt32>()
        for s in text {
            if s.value < 128 { seenASCII[Int(s.value)] = true } else { others.insert(s.value) }
        }
        let ascii = (0..<128).filter { seenASCII[$0] }.map { Unicode.Scalar(UInt8($0)) }
        self.init(sortedUnique: ascii + others.sorted().map { Unicode.Scalar($0)! })
    }

    private init(sortedUnique: [Unicode.Scalar]) {
        scalars = sortedUnique
        var ascii = [Int32](repeating: -1, count: 128)
        var other: [UInt32: Int32] = [:]
        for (i, s) in sortedUnique.enumerated() {
            if s.value < 128 { ascii[Int(s.value)] = Int32(i) } else { other[s.value] = Int32(i) }
        }
        asciiIds = ascii
        otherIds = other
    }

    public var count: Int { scalars.count }

    /// The id of `scalar`, or nil when it is not in the vocabulary.
    @inline(__always)
    public func id(of scalar: Unicode.Scalar) -> Int32? {
        if scalar.value < 128 {
            let id = asciiIds[Int(scalar.value)]
            return id >= 0 ? id : nil
        }
        return otherIds[scalar.value]
    }

    /// The ids of `text`'s scalars. A scalar outside the vocabulary is a `.badText` error naming
    /// `source` and the character's position.
    public func encode<S: Sequence<Unicode.Scalar>>(_ text: S, source: String = "text") throws -> [Int32] {
        var ids: [Int32] = []
        ids.reserveCapacity(text.underestimatedCount)
        for s in text {
            guard let id = id(of: s) else {
                throw DataError(.badText, file: source, at: "character \(grouped(ids.count))",
                                "one of the vocabulary's \(count) characters expected, found \(describe(s))")
            }
            ids.append(id)
        }
        return ids
    }

    public func encode(_ text: String, source: String = "text") throws -> [Int32] {
        try encode(text.unicodeScalars, source: source)
    }

    /// The text of `ids`; each must be in 0..<count.
    public func decode(_ ids: some Sequence<Int32>) -> String {
        var out = String.UnicodeScalarView()
        for id in ids {
            precondition(id >= 0 && Int(id) < count, "token id \(id) outside the vocabulary 0..<\(count)")
            out.append(scalars[Int(id)])
        }
        return String(out)
    }

    private func describe(_ s: Unicode.Scalar) -> String {
        let hex = String(s.value, radix: 16, uppercase: true)
        let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        return s.properties.isWhitespace || s.value < 32 ? code : "'\(s)' (\(code))"
    }
}
