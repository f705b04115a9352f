/// A 2-D window (kernel, pool or stride size), written as Keras accepts it: an integer for a
/// square window or `[height, width]`. Normalised to `[height, width]` in the effective config.
public struct WindowSize: Sendable, Equatable {
    public var height: Int
    public var width: Int

    public init(_ height: Int, _ width: Int) {
        self.height = height
        self.width = width
    }

    public init(_ size: Int) { self.init(size, size) }

    var pair: (Int, Int) { (height, width) }
}

extension WindowSize: ConfigValue {
    static var expectation: String { "an integer or an array [height, width]" }
    static var plural: String { "window sizes" }

    static func decode(_ json: JSONValue, at path: ConfigPath, in document: ConfigDocument) throws -> WindowSize {
        switch json {
        case .int(let n): return WindowSize(n)
        case .array(let items) where items.count == 2:
            let sizes = try [Int].decode(json, at: path, in: document)
            return WindowSize(sizes[0], sizes[1])
        default: throw mismatch(json, at: path, in: document)
        }
    }

    var json: JSONValue { .array([.int(height), .int(width)]) }
}

extension Constraint where T == WindowSize {
    static var positive: Constraint { Constraint(description: "with sizes ≥ 1") { $0.height >= 1 && $0.width >= 1 } }
}
