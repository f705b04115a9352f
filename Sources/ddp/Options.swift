/// A subcommand's arguments, parsed up front so that a typo is a usage error before any work
/// starts: positional arguments, `--name value` options (the repeatable ones may appear several
/// times, like `--set`), and flags.
struct Options {
    private(set) var positional: [String] = []
    private var values: [String: [String]] = [:]
    private var setFlags: Set<String> = []

    /// Accepts only the option names in `known` (which take a value) and `flags` (which do not).
    init(_ arguments: [String], known: Set<String>, flags: Set<String> = []) throws {
        var i = 0
        while i < arguments.count {
            let key = arguments[i]
            guard key.hasPrefix("--") else {
                positional.append(key)
                i += 1
                continue
            }
            var name = String(key.dropFirst(2))
            var inlineValue: String?
            if let eq = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            if flags.contains(name) && inlineValue == nil {
                setFlags.insert(name)
                i += 1
                continue
            }
            guard known.contains(name) else {
                let all = known.union(flags).sorted().map { "--" + $0 }.joined(separator: ", ")
                throw UsageError(description: "unknown option '\(key)' (known: \(all))")
            }
            if let inlineValue {
                values[name, default: []].append(inlineValue)
                i += 1
            } else {
                guard i + 1 < arguments.count else { throw UsageError(description: "option \(key) needs a value") }
                values[name, default: []].append(arguments[i + 1])
                i += 2
            }
        }
    }

    func flag(_ name: String) -> Bool { setFlags.contains(name) }

    /// The last value given for `name`.
    func value(_ name: String) -> String? { values[name]?.last }

    /// Every value given for a repeatable option, in order.
    func all(_ name: String) -> [String] { values[name] ?? [] }

    /// A positive integer option, or `defaultValue` when absent.
    func positiveInt(_ name: String, default defaultValue: Int) throws -> Int {
        guard let text = value(name) else { return defaultValue }
        guard let v = Int(text), v > 0 else { throw UsageError(description: "--\(name) needs a positive integer, got '\(text)'") }
        return v
    }

    /// A positive real option, or nil when absent.
    func positiveReal(_ name: String) throws -> Double? {
        guard let text = value(name) else { return nil }
        guard let v = Double(text), v > 0, v.isFinite else { throw UsageError(description: "--\(name) needs a positive number, got '\(text)'") }
        return v
    }

    /// Exactly `count` positional arguments, named in the error.
    func positionals(_ names: [String]) throws -> [String] {
        guard positional.count == names.count else {
            throw UsageError(description: "expected \(names.joined(separator: " ")), got \(positional.isEmpty ? "nothing" : positional.joined(separator: " "))")
        }
        return positional
    }
}
