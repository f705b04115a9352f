/// Where the values of one configuration came from: the file, and the subtrees that `--set`
/// overrides put into it. Errors at or below such a subtree name the override instead of the file.
struct ConfigDocument: Sendable, Equatable {
    struct Attribution: Sendable, Equatable {
        let origin: ConfigPath
        let source: String
    }

    let file: String
    private(set) var overrides: [Attribution] = []

    init(file: String) { self.file = file }

    mutating func record(_ override: ConfigOverride, origin: ConfigPath) {
        overrides.append(Attribution(origin: origin, source: override.source))
    }

    /// An error at `path`; `qualifier` follows the path in the message ("model.layers[4] (Dense)").
    func error(at path: ConfigPath, qualifier: String? = nil, _ message: String) -> ConfigError {
        let source = overrides.last { path.hasPrefix($0.origin) }?.source ?? file
        return ConfigError(source: source, keyPath: path.description + (qualifier.map { " (\($0))" } ?? ""), message: message)
    }
}

/// Where a spec was read from, so that problems found later, when the model is built, are
/// reported like parse errors: file (or `--set`), key path, message.
public struct ConfigLocation: Sendable, Equatable {
    let document: ConfigDocument
    public let path: ConfigPath

    init(document: ConfigDocument, path: ConfigPath) {
        self.document = document
        self.path = path
    }

    /// A spec made in code rather than read from a file: `file` names it in messages.
    public init(file: String, path: ConfigPath = .root) {
        self.init(document: ConfigDocument(file: file), path: path)
    }

    public var file: String { document.file }

    func error(at path: ConfigPath, qualifier: String? = nil, _ message: String) -> ConfigError {
        document.error(at: path, qualifier: qualifier, message)
    }
}
