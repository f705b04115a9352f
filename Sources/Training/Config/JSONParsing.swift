import Foundation

extension JSONValue {
    /// Parses a JSON document with Foundation's `JSONSerialization`. A syntax error is a
    /// `ConfigError` for `source` with the line and column of the offset Foundation reports.
    public static func parse(_ data: Data, source: String) throws -> JSONValue {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw ConfigError(source: source, keyPath: "", message: "invalid JSON: \(describeSyntaxError(error, in: data))")
        }
        return JSONValue(foundation: object)
    }

    /// Parses a `--set` value: JSON when it is JSON (numbers, booleans, null, quoted strings,
    /// arrays, objects), else the text itself as a string.
    public static func parseOverrideValue(_ text: String) -> JSONValue {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) else {
            return .string(text)
        }
        return JSONValue(foundation: object)
    }

    /// Converts `JSONSerialization` output. Its numbers are `NSNumber`s whose type code says
    /// what the text was: `c` for true/false, a floating type for anything with a fraction or
    /// exponent, an integer type otherwise.
    init(foundation object: Any) {
        switch object {
        case is NSNull:
            self = .null
        case let s as String:
            self = .string(s)
        case let n as NSNumber:
            switch String(cString: n.objCType) {
            case "c", "B": self = .bool(n.boolValue)
            case "d", "f": self = .real(n.doubleValue)
            case "Q" where n.uint64Value > UInt64(Int.max): self = .real(n.doubleValue)
            default: self = .int(n.intValue)
            }
        case let a as [Any]:
            self = .array(a.map(JSONValue.init(foundation:)))
        case let o as [String: Any]:
            self = .object(o.mapValues(JSONValue.init(foundation:)))
        default:
            self = .string(String(describing: object))
        }
    }

    /// Foundation's message with its character offset turned into a line and column
    /// ("Invalid value at line 3, column 9"); Foundation on Linux reports only "around character N".
    private static func describeSyntaxError(_ error: Error, in data: Data) -> String {
        let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? error.localizedDescription
        guard let range = detail.range(of: #"around character (\d+)"#, options: .regularExpression),
              let offset = Int(detail[range].split(separator: " ").last!) else { return detail }
        var line = 1, column = 1
        for byte in data.prefix(offset) {
            if byte == UInt8(ascii: "\n") { line += 1; column = 1 } else if byte & 0xC0 != 0x80 { column += 1 }
        }
        let head = detail[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
        return "\(head) at line \(line), column \(column)"
    }
}
