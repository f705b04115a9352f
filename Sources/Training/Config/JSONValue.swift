/// A JSON document as a tree. Integers and reals are distinct cases, so a key that needs an
/// integer can reject `3.5` (and `3.0`) while a key that needs a real accepts both.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case real(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The value as compact JSON with object keys sorted by their UTF-8 bytes, reals in Swift's
    /// shortest round-trip form: equal trees give equal text whatever the original key order or
    /// spacing.
    public var canonicalText: String {
        var out = ""
        write(to: &out)
        return out
    }

    private func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .real(let d): out += d.description
        case .string(let s): out += JSONText.string(s)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.write(to: &out)
            }
            out += "]"
        case .object(let fields):
            out += "{"
            for (i, key) in fields.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
                if i > 0 { out += "," }
                out += JSONText.string(key)
                out += ":"
                fields[key]!.write(to: &out)
            }
            out += "}"
        }
    }


    /// The kind of value, for messages ("integer", "real", "object"...).
    public var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "integer"
        case .real: return "real"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// The value as a message shows it found: `real 3.5`, `string "abc"`, `null`, `array [1,2]`
    /// (long text cut short).
    public var summary: String {
        if case .null = self { return "null" }
        var text = canonicalText
        if text.count > 60 { text = String(text.prefix(57)) + "..." }
        return "\(kindName) \(text)"
    }
}
