/// A word vocabulary built from tokenised training sentences: the four special tokens first
/// (`<pad>` 0, `<unk>` 1, `<bos>` 2, `<eos>` 3), then the words seen at least `minCount` times,
/// most frequent first (ties in code-point order, so the ids do not depend on the data's order),
/// at most `maxSize` entries in all. Words outside it encode as `<unk>`.
public struct WordVocabulary: Sendable, Equatable {
    public static let pad: Int32 = 0, unknown: Int32 = 1, begin: Int32 = 2, end: Int32 = 3
    public static let specials = ["<pad>", "<unk>", "<bos>", "<eos>"]

    public let words: [String]
    private let ids: [String: Int32]

    public init(counting sentences: [[String]], minCount: Int = 1, maxSize: Int? = nil) {
        var counts: [String: Int] = [:]
        for sentence in sentences { for w in sentence { counts[w, default: 0] += 1 } }
        let kept = counts.filter { $0.value >= minCount && !Self.specials.contains($0.key) }
            .sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.unicodeScalars.lexicographicallyPrecedes($1.key.unicodeScalars) }
            .map(\.key)
        let room = maxSize.map { max($0 - Self.specials.count, 0) } ?? kept.count
        self.init(words: Self.specials + kept.prefix(room))
    }

    /// A vocabulary of exactly these entries (the specials must come first).
    public init(words: [String]) {
        precondition(Array(words.prefix(Self.specials.count)) == Self.specials, "a word vocabulary starts with \(Self.specials)")
        self.words = words
        ids = Dictionary(words.enumerated().map { ($1, Int32($0)) }, uniquingKeysWith: { a, _ in a })
    }

    public var count: Int { words.count }

    public func id(_ word: String) -> Int32 { ids[word] ?? Self.unknown }

    public func encode(_ tokens: [String]) -> [Int32] { tokens.map(id) }

    /// The words of `ids`, special tokens included as their names.
    public func decode(_ ids: some Sequence<Int32>) -> [String] {
        ids.map { $0 >= 0 && Int($0) < words.count ? words[Int($0)] : Self.specials[Int(Self.unknown)] }
    }
}
