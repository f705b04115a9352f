/// A value type a configuration field can hold: how to read it from JSON (with a message naming
/// the path when the JSON has another type) and how to write it back in normalised form for the
/// effective configuration.
protocol ConfigValue {
    /// What the field must hold, for messages: "an integer", "a boolean".
    static var expectation: String { get }
    /// The plural noun, for arrays: "integers".
    static var plural: String { get }
    static func decode(_ json: JSONValue, at path: ConfigPath, in document: ConfigDocument) throws -> Self
    var json: JSONValue { get }
}

extension ConfigValue {
    static func mismatch(_ json: JSONValue, at path: ConfigPath, in document: ConfigDocument) -> ConfigError {
        document.error(at: path, "expected \(expectation), found \(json.summary)")
    }
}

/// Integers are written without fraction or exponent: `3.0` and `1e3` are reals.
extension Int: ConfigValue {
    static var expectation: String { "an integer" }
    static var plural: String { "integers" }
    static func decode(_ json: JSONValue, at path: ConfigPath, in document: ConfigDocument) throws -> Int {
        guard case .int(let i) = json else { throw mismatch(json, at: path, in: document) }
        return i
    }
    var json: JSONValue { .int(self) }
}

/// Reals accept integers too (`"learning_rate": 1`).
extension Double: ConfigValue {
    static var expectation: String { "a real" }
    static var plural: String { "reals" }
    static func decode(_ json: JSONValue, at path: ConfigPath, in document: ConfigDocument) throws -> Double {
        switch json {
        case .int(let i): return Double(i)
        case .real(let d): return d
        default: throw mismatch(json, at: path, in: document)
        }
    }
    var json: JSONValue { .real(self) }
}

extension Bool: ConfigValue {
    static var expectation: String { "a boolean" }
    static var plural: String { "booleans" }
    static func decode(_ json: JSONValue, at path: ConfigPath, in document: ConfigDocument) throws -> Bool {
        guard case .bool(let b) = json else { throw mismatch(json, at: path, in: document) }
        return b
    }
    var json: JSONValue { .bool(self) }
}

extension String: ConfigValue {
    static var expectation: String { "a string" }
    static var plural: String { "strings" }
    static func decode(_ json: JSONValue, at path: ConfigPath, in document: ConfigDocument) throws -> String {
        guard case .string(let s) = json else { throw mismatch(json, at: path, in: document) }
        return s
    }
    var json: JSONValue { .string(self) }
}

/// Elements are checked one by one, so a message names the index: `input_shape[1]`.
extension Array: ConfigValue where Element: ConfigValue {
    static var expectation: String { "an array of \(Element.plural)" }
    static var plural: String { "arrays of \(Element.plural)" }
    static func decode(_ json: JSONValue, at path: ConfigPath, in document: ConfigDocument) throws -> [Element] {
        guard case .array(let items) = json else { throw mismatch(json, at: path, in: document) }
        return try items.enumerated().map { try Element.decode($1, at: path.appending(index: $0), in: document) }
    }
    var json: JSONValue { .array(map(\.json)) }
}
