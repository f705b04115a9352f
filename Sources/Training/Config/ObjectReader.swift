/// Reads the fields of one JSON object of a configuration: the one mechanism behind every section
/// and layer spec. Each read names its key, type, default and range; any mismatch becomes a
/// `ConfigError` with the full key path.
///
/// The reader remembers the keys it was asked for, so `finish` can reject every other key with
/// the list of allowed ones (which may depend on earlier fields: an optimizer's keys depend on
/// its name), and the values in effect — defaults filled in, numbers normalised — from which
/// the configuration's canonical form and digest are made.
final class ObjectReader {
    let document: ConfigDocument
    let path: ConfigPath
    /// Qualifies "unknown key" messages, e.g. `for optimizer "adam"`.
    var scope: String?
    private let fields: [String: JSONValue]
    private var allowed: [String] = []
    private(set) var effective: [String: JSONValue] = [:]

    init(_ value: JSONValue, at path: ConfigPath, in document: ConfigDocument) throws {
        guard case .object(let fields) = value else { throw document.error(at: path, "expected an object, found \(value.summary)") }
        self.fields = fields
        self.path = path
        self.document = document
    }

    /// A field that must be present.
    func required<T: ConfigValue>(_ key: String, _ constraint: Constraint<T>? = nil) throws -> T {
        guard let json = take(key) else { throw missing(key, expected: T.expectation + (constraint.map { " " + $0.description } ?? "")) }
        return try decode(json, key, constraint)
    }

    /// A field that takes `default` when absent (`null` is not absent: it is a type error).
    func optional<T: ConfigValue>(_ key: String, default value: T, _ constraint: Constraint<T>? = nil) throws -> T {
        guard let json = take(key) else {
            effective[key] = value.json
            return value
        }
        return try decode(json, key, constraint)
    }

    /// A field that may be `null`, which is also its default.
    func nullable<T: ConfigValue>(_ key: String, _ constraint: Constraint<T>? = nil) throws -> T? {
        guard let json = take(key), json != .null else {
            effective[key] = .null
            return nil
        }
        return try decode(json, key, constraint)
    }

    /// A nested object read by `body`. An optional section that is absent or `null` is read as
    /// `{}`, so all its defaults apply.
    func object<T>(_ key: String, required: Bool = true, _ body: (ObjectReader) throws -> T) throws -> T {
        var json = take(key)
        if json == .null && !required { json = nil }
        if json == nil && required { throw missing(key, expected: "an object") }
        let child = try ObjectReader(json ?? .object([:]), at: path.appending(key), in: document)
        let result = try body(child)
        try child.finish()
        effective[key] = .object(child.effective)
        return result
    }

    /// A required array of objects, each read by `body`.
    func objects<T>(_ key: String, _ body: (ObjectReader) throws -> T) throws -> [T] {
        guard let json = take(key) else { throw missing(key, expected: "an array of objects") }
        guard case .array(let items) = json else { throw error(key, "expected an array of objects, found \(json.summary)") }
        var results: [T] = [], effectiveItems: [JSONValue] = []
        for (i, item) in items.enumerated() {
            let child = try ObjectReader(item, at: path.appending(key).appending(index: i), in: document)
            results.append(try body(child))
            try child.finish()
            effectiveItems.append(.object(child.effective))
        }
        effective[key] = .array(effectiveItems)
        return results
    }

    /// Rejects the keys no read asked for.
    func finish() throws {
        guard let key = fields.keys.filter({ !allowed.contains($0) }).min() else { return }
        var message = "unknown key\(scope.map { " " + $0 } ?? "") (allowed: \(allowed.sorted().joined(separator: ", ")))"
        if let suggestion = closestMatch(to: key, among: allowed) { message += "; did you mean \"\(suggestion)\"?" }
        throw document.error(at: path.appending(key), message)
    }

    /// An error about field `key` (or this object when nil), for checks across fields.
    func error(_ key: String?, _ message: String) -> ConfigError {
        document.error(at: key.map(path.appending) ?? path, message)
    }

    private func take(_ key: String) -> JSONValue? {
        if !allowed.contains(key) { allowed.append(key) }
        return fields[key]
    }

    private func decode<T: ConfigValue>(_ json: JSONValue, _ key: String, _ constraint: Constraint<T>?) throws -> T {
        let value = try T.decode(json, at: path.appending(key), in: document)
        if let constraint, !constraint.holds(value) {
            throw error(key, "expected \(T.expectation) \(constraint.description), found \(json.summary)")
        }
        effective[key] = value.json
        return value
    }

    /// A missing key; when the object holds an unread key that looks like a misspelling of it,
    /// the message says so (its unknown-key error would only come at `finish`).
    private func missing(_ key: String, expected: String) -> ConfigError {
        var message = "missing required key (expected \(expected))"
        let unread = fields.keys.filter { !allowed.contains($0) }.sorted()
        if let typo = unread.first(where: { closestMatch(to: $0, among: [key]) != nil }) {
            message += "; found unknown key \"\(typo)\" — a misspelling of \"\(key)\"?"
        }
        return error(key, message)
    }
}
