/// One translation example: the tokenised source and target sentences and the line they came from.
public struct SentencePair: Sendable, Equatable {
    public let source: [String]
    public let target: [String]
    /// 1-based line number in the file.
    public let line: Int

    public init(source: [String], target: [String], line: Int) {
        self.source = source
        self.target = target
        self.line = line
    }
}

/// A tab-separated file of sentence pairs (Tatoeba / manythings.org `eng-fra.txt`): one pair
/// per line, `source<TAB>target`, optionally followed by more tab-separated fields (the
/// attribution), which are ignored. Both sentences are tokenised with `WordTokenizer`.
public enum SentencePairs {
    /// Reads `path` (raw or gzip). Invalid UTF-8 is a `.badText` error with its byte offset; a
    /// line without two fields or with a sentence that has no token is a `.badField` error
    /// naming the line. A final newline is optional; blank lines are errors.
    public static func read(_ path: String) throws -> [SentencePair] {
        try parse(TextCorpus.decodeUTF8(DataFile.read(path), file: path), file: path)
    }

    public static func parse(_ text: String, file: String) throws -> [SentencePair] {
        try parse(Array(text.unicodeScalars), file: file)
    }

    static func parse(_ scalars: [Unicode.Scalar], file: String) throws -> [SentencePair] {
        var lines = scalars.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        guard !lines.isEmpty else { throw DataError(.badLength, file: file, "no sentence pairs: the file is empty") }
        return try lines.enumerated().map { i, raw in
            let line = raw.last == "\r" ? raw.dropLast() : raw[...]
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map { String(String.UnicodeScalarView($0)) }
            let location = "line \(i + 1)"
            guard fields.count >= 2 else {
                let found = fields[0].isEmpty ? "an empty line" : "\(fields.count) field (\"\(fields[0].prefix(40))\")"
                throw DataError(.badField, file: file, at: location, "expected source<TAB>target[<TAB>...], found \(found)")
            }
            let source = WordTokenizer.tokenize(fields[0]), target = WordTokenizer.tokenize(fields[1])
            for (column, tokens) in [("source", source), ("target", target)] where tokens.isEmpty {
                throw DataError(.badField, file: file, at: location, "the \(column) sentence is empty")
            }
            return SentencePair(source: source, target: target, line: i + 1)
        }
    }
}
