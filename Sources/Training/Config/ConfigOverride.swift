/// One `--set key.path=value` argument, applied to the parsed JSON tree before validation, so an
/// overridden value is checked exactly like one written in the file.
///
/// The value is JSON when it parses as JSON (`128`, `1e-3`, `true`, `null`, `[3,3]`,
/// `{"type":"Flatten"}`, `"\"quoted\""`) and otherwise the text itself (`adamw`). Missing
/// objects along the path are created; array indices must exist.
public struct ConfigOverride: Sendable, Equatable {
    /// The argument as given, without `--set`.
    public let argument: String
    public let path: ConfigPath
    public let value: JSONValue

    public init(_ argument: String) throws {
        self.argument = argument
        guard let eq = argument.firstIndex(of: "=") else {
            throw ConfigError(source: "--set \(argument)", keyPath: "", message: "expected key.path=value")
        }
        guard let path = ConfigPath(parsing: String(argument[..<eq])) else {
            throw ConfigError(source: "--set \(argument)", keyPath: "",
                              message: "\"\(argument[..<eq])\" is not a key path "
                                  + "(keys separated by dots, indices in brackets: model.layers[3].units)")
        }
        self.path = path
        self.value = JSONValue.parseOverrideValue(String(argument[argument.index(after: eq)...]))
    }

    /// Where messages about this override's values say they come from.
    public var source: String { "--set \(argument)" }

    /// `tree` with the value set, and the shallowest path the override created or replaced:
    /// errors at or below it are attributed to this override.
    public func apply(to tree: JSONValue) throws -> (tree: JSONValue, origin: ConfigPath) {
        var origin: ConfigPath?
        let result = try setting(tree, depth: 0, origin: &origin)
        return (result, origin!)
    }

    private func setting(_ node: JSONValue?, depth: Int, origin: inout ConfigPath?) throws -> JSONValue {
        let here = ConfigPath(Array(path.components.prefix(depth)))
        if node == nil || depth == path.components.count, origin == nil { origin = here }
        guard depth < path.components.count else { return value }
        switch path.components[depth] {
        case .key(let key):
            var fields: [String: JSONValue] = [:]
            switch node {
            case nil: break
            case .object(let f)?: fields = f
            case let other?: throw failure(at: here, "cannot set key \"\(key)\" in \(other.summary)")
            }
            fields[key] = try setting(fields[key], depth: depth + 1, origin: &origin)
            return .object(fields)
        case .index(let i):
            guard case .array(var items)? = node else {
                throw failure(at: here, "cannot index [\(i)]: \(node.map { "found \($0.summary)" } ?? "no such key")")
            }
            guard i < items.count else { throw failure(at: here, "index \(i) is out of range: the array has \(items.count) elements") }
            items[i] = try setting(items[i], depth: depth + 1, origin: &origin)
            return .array(items)
        }
    }

    private func failure(at path: ConfigPath, _ message: String) -> ConfigError {
        ConfigError(source: source, keyPath: path.description, message: message)
    }
}
