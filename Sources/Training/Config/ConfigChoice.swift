/// A field that names one of a fixed set of things (an optimizer, a dataset, a layer type...).
/// An unknown name lists the valid ones and suggests the closest.
protocol ConfigChoice: ConfigValue {
    /// What is being named, for messages: "optimizer", "layer type".
    static var kind: String { get }
    static var choices: [String] { get }
    init?(choice: String)
    var choice: String { get }
}

extension ConfigChoice {
    static var expectation: String { "a\(kind.first.map { "aeiou".contains($0) } == true ? "n" : "") \(kind) (one of \(quotedList(choices)))" }
    static var plural: String { "\(kind) names" }

    static func decode(_ json: JSONValue, at path: ConfigPath, in document: ConfigDocument) throws -> Self {
        guard case .string(let name) = json else { throw mismatch(json, at: path, in: document) }
        guard let value = Self(choice: name) else {
            var message = "unknown \(kind) \"\(name)\" (valid: \(quotedList(choices)))"
            if let suggestion = closestMatch(to: name, among: choices) { message += "; did you mean \"\(suggestion)\"?" }
            throw document.error(at: path, message)
        }
        return value
    }

    var json: JSONValue { .string(choice) }
}

extension ConfigChoice where Self: RawRepresentable & CaseIterable, RawValue == String {
    static var choices: [String] { allCases.map(\.rawValue) }
    init?(choice: String) { self.init(rawValue: choice) }
    var choice: String { rawValue }
}
