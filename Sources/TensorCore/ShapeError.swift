/// A shape that does not fit an operation. The message names the operation and every shape
/// involved, e.g. `matmul: [2, 3] x [4, 5]: inner dimensions 3 and 4 differ`.
public struct ShapeError: Error, CustomStringConvertible, Equatable {
    public let op: String
    public let message: String
    public init(_ op: String, _ message: String) {
        self.op = op
        self.message = message
    }
    public var description: String { "\(op): \(message)" }
}

/// Runs a throwing shape rule where a mismatch is a programming error (the model was already
/// shape-checked when it was built), stopping with the rule's message.
@inline(__always)
public func checkShape<T>(_ rule: () throws -> T) -> T {
    do { return try rule() } catch { fatalError("shape error: \(error)") }
}

public func shapeString(_ s: [Int]) -> String { "[" + s.map(String.init).joined(separator: ", ") + "]" }
