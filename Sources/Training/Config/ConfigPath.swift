/// A key path into a configuration tree, written as in messages and `--set`:
/// `model.layers[3].units`.
public struct ConfigPath: Hashable, Sendable, CustomStringConvertible {
    public enum Component: Hashable, Sendable {
        case key(String)
        case index(Int)
    }

    public var components: [Component]

    public init(_ components: [Component] = []) { self.components = components }

    /// The document itself.
    public static let root = ConfigPath()

    /// Parses `a.b[2].c`; nil when the text is not such a path (empty keys, unclosed or
    /// non-numeric indices).
    public init?(parsing text: String) {
        var components: [Component] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            if rest.first == "[" {
                guard let close = rest.firstIndex(of: "]"), let i = Int(rest[rest.index(after: rest.startIndex)..<close]), i >= 0
                else { return nil }
                components.append(.index(i))
                rest = rest[rest.index(after: close)...]
            } else {
                let end = rest.firstIndex { $0 == "." || $0 == "[" } ?? rest.endIndex
                guard end > rest.startIndex else { return nil }
                components.append(.key(String(rest[..<end])))
                rest = rest[end...]
            }
            // A component is followed by the end, an index, or a dot and another key.
            if rest.first == "." {
                rest = rest.dropFirst()
                guard let next = rest.first, next != ".", next != "[" else { return nil }
            } else if let next = rest.first, next != "[" {
                return nil
            }
        }
        if components.isEmpty { return nil }
        self.components = components
    }

    public func appending(_ key: String) -> ConfigPath { ConfigPath(components + [.key(key)]) }
    public func appending(index: Int) -> ConfigPath { ConfigPath(components + [.index(index)]) }

    public func hasPrefix(_ other: ConfigPath) -> Bool { components.starts(with: other.components) }

    public var description: String {
        var text = ""
        for c in components {
            switch c {
            case .key(let k): text += text.isEmpty ? k : "." + k
            case .index(let i): text += "[\(i)]"
            }
        }
        return text
    }
}
