/// An undirected graph whose nodes carry class labels, for node classification. Read from two
/// text files, where blank lines and lines starting with `#` are comments:
/// - the labels: one `node class-name` line per node (the name is the rest of the line, spaces
///   allowed), nodes numbered 0..<count, each exactly once; classes are numbered in the order
///   they first appear;
/// - the edges: one `a b` line per edge between nodes a and b.
public struct NodeGraph: Sendable {
    /// The two files, for messages.
    public let edgeFile: String
    public let labelFile: String
    public let labels: [Int32]
    public let classNames: [String]
    /// As listed (repeats and both directions kept; the adjacency merges them).
    public let edges: [Edge]

    public struct Edge: Sendable, Equatable {
        public let a: Int
        public let b: Int
    }

    public var nodeCount: Int { labels.count }
    public var classCount: Int { classNames.count }

    /// Distinct undirected edges, self-loops excluded.
    public var undirectedEdgeCount: Int {
        Set(edges.filter { $0.a != $0.b }.map { [min($0.a, $0.b), max($0.a, $0.b)] }).count
    }

    public init(edges edgeFile: String, labels labelFile: String) throws {
        var labelOf: [Int: Int32] = [:], names: [String] = []
        for (line, text) in try Self.contentLines(labelFile) {
            let parts = text.split(maxSplits: 1, whereSeparator: isBlank)
            guard parts.count == 2, let node = Int(parts[0]), node >= 0 else {
                throw DataError(.badField, file: labelFile, at: "line \(line)", "a node number ≥ 0 and a class name expected, found \"\(text)\"")
            }
            let name = parts[1].trimmingSpaces
            guard labelOf[node] == nil else {
                throw DataError(.countMismatch, file: labelFile, at: "line \(line)", "node \(node) is labelled a second time")
            }
            if !names.contains(name) { names.append(name) }
            labelOf[node] = Int32(names.firstIndex(of: name)!)
        }
        guard !labelOf.isEmpty else { throw DataError(.badLength, file: labelFile, "at least one labelled node expected, found none") }
        let count = labelOf.keys.max()! + 1
        if let missing = (0..<count).first(where: { labelOf[$0] == nil }) {
            throw DataError(.countMismatch, file: labelFile, "every node 0..<\(count) should have a label; node \(missing) has none")
        }
        var edges: [Edge] = []
        for (line, text) in try Self.contentLines(edgeFile) {
            let parts = text.split(whereSeparator: isBlank)
            guard parts.count == 2, let a = Int(parts[0]), let b = Int(parts[1]) else {
                throw DataError(.badField, file: edgeFile, at: "line \(line)", "two node numbers expected, found \"\(text)\"")
            }
            guard (0..<count).contains(a), (0..<count).contains(b) else {
                throw DataError(.valueOutOfRange, file: edgeFile, at: "line \(line)",
                                "nodes 0..<\(count) (the labelled nodes of \(labelFile)) expected, found \(a) \(b)")
            }
            edges.append(Edge(a: a, b: b))
        }
        self.edgeFile = edgeFile
        self.labelFile = labelFile
        labels = (0..<count).map { labelOf[$0]! }
        classNames = names
        self.edges = edges
    }

    /// The numbered lines of a text file that are neither blank nor comments, trimmed.
    static func contentLines(_ path: String) throws -> [(Int, String)] {
        let text = String(decoding: try DataFile.read(path), as: UTF8.self)
        // "\r\n" is one Character in Swift, so it is a separator of its own.
        return text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }.enumerated().compactMap { i, raw in
            let line = raw.trimmingSpaces
            return line.isEmpty || line.hasPrefix("#") ? nil : (i + 1, line)
        }
    }
}

/// A space, tab or carriage return.
private func isBlank(_ c: Character) -> Bool { c == " " || c == "\t" || c == "\r" }

extension StringProtocol {
    /// Without leading and trailing spaces, tabs and carriage returns.
    var trimmingSpaces: String {
        guard let first = firstIndex(where: { !isBlank($0) }), let last = lastIndex(where: { !isBlank($0) }) else { return "" }
        return String(self[first...last])
    }
}
