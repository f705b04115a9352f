/// A condition on a field's value beyond its type, with the words a message uses for it:
/// `expected an integer ≥ 1, found integer 0`.
struct Constraint<T> {
    let description: String
    let holds: (T) -> Bool
}

extension Constraint where T: Comparable & CustomStringConvertible {
    static func atLeast(_ low: T) -> Constraint { Constraint(description: "≥ \(format(low))") { $0 >= low } }
    static func greaterThan(_ low: T) -> Constraint { Constraint(description: "> \(format(low))") { $0 > low } }
    /// low ≤ x < high.
    static func halfOpen(_ low: T, _ high: T) -> Constraint {
        Constraint(description: "in [\(format(low)), \(format(high)))") { $0 >= low && $0 < high }
    }
    /// low < x < high.
    static func open(_ low: T, _ high: T) -> Constraint {
        Constraint(description: "in (\(format(low)), \(format(high)))") { $0 > low && $0 < high }
    }
    /// low ≤ x ≤ high.
    static func closed(_ low: T, _ high: T) -> Constraint {
        Constraint(description: "in [\(format(low)), \(format(high))]") { $0 >= low && $0 <= high }
    }

    /// Bounds as people write them: `0` rather than `0.0`.
    private static func format(_ v: T) -> String {
        let text = v.description
        return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
    }
}

extension Constraint where T == String {
    static var nonEmpty: Constraint { Constraint(description: "that is not empty") { !$0.isEmpty } }
}

extension Constraint where T == [Int] {
    /// A per-sample shape: at least one axis, every size ≥ 1.
    static var shape: Constraint { Constraint(description: "with at least one entry, all ≥ 1") { !$0.isEmpty && $0.allSatisfy { $0 >= 1 } } }
}
