/// `--name value` options of a subcommand, parsed up front so that a typo is a usage error
/// before any work starts.
struct Options {
    private var values: [String: String] = [:]
    private var setFlags: Set<String> = []

    /// Parses `arguments`, accepting only the option names in `known` (which take a value) and
    /// `flags` (which do not).
    init(_ arguments: [String], known: Set<String>, flags: Set<String> = []) throws {
        var i = 0
        while i < arguments.count {
            let key = arguments[i], name = String(key.dropFirst(2))
            if key.hasPrefix("--") && flags.contains(name) {
                setFlags.insert(name)
                i += 1
                continue
            }
            guard key.hasPrefix("--"), known.contains(name) else {
                let all = known.union(flags).sorted().map { "--" + $0 }.joined(separator: ", ")
                throw UsageError(description: "unknown option '\(key)' (known: \(all))")
            }
            guard i + 1 < arguments.count else { throw UsageError(description: "option \(key) needs a value") }
            values[String(key.dropFirst(2))] = arguments[i + 1]
            i += 2
        }
    }

    func flag(_ name: String) -> Bool { setFlags.contains(name) }

    /// A positive integer option, or `defaultValue` when absent.
    func positiveInt(_ name: String, default defaultValue: Int) throws -> Int {
        guard let text = values[name] else { return defaultValue }
        guard let v = Int(text), v > 0 else { throw UsageError(description: "--\(name) needs a positive integer, got '\(text)'") }
        return v
    }
}
