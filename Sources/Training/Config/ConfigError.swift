/// A configuration that cannot be used. The message names where the problem is (the file, or the
/// `--set` argument that introduced the value), the key path, what was expected and what was
/// found: `configs/x.json: model.layers[2].filters: expected an integer ≥ 1, found real 3.5`.
public struct ConfigError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file name as given, or `--set key=value` for a value that came from an override.
    public let source: String
    /// The key path ("model.layers[2].filters"), or empty when the problem is the whole document.
    public let keyPath: String
    public let message: String

    public init(source: String, keyPath: String, message: String) {
        self.source = source
        self.keyPath = keyPath
        self.message = message
    }

    public var description: String { keyPath.isEmpty ? "\(source): \(message)" : "\(source): \(keyPath): \(message)" }
}
