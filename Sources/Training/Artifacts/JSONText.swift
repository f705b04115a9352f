/// JSON text pieces shared by the safetensors header and the metrics log, written by hand so
/// that key order and number spelling are fixed (tests and other tools compare bytes).
enum JSONText {
    /// `s` as a quoted JSON string: quotes, backslashes and control characters escaped, other
    /// characters kept as UTF-8.
    static func string(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20:
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    /// The shortest spelling that reads back as `x` ("0.4213", "1e-05"), or nil for NaN and
    /// infinities, which JSON cannot represent.
    static func number(_ x: Double) -> String? {
        guard x.isFinite else { return nil }
        if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
        return "\(x)"
    }

    /// `[1, 2, 3]` as `[1,2,3]`.
    static func array(_ values: [Int]) -> String { "[" + values.map(String.init).joined(separator: ",") + "]" }
}
