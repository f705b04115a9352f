/// Where a run was when a checkpoint was taken, stored as checkpoint metadata so that a resumed
/// run continues the same trajectory: `step`, `epoch`, `rng_state` (the four words of the data
/// order / noise generator, hex, comma-separated), `config_digest` (to refuse resuming with
/// another configuration) and `model_name`.
public struct CheckpointInfo: Equatable, Sendable {
    /// Optimizer steps completed.
    public var step: Int
    /// Epochs completed.
    public var epoch: Int
    public var rngState: [UInt64]
    public var configDigest: String
    public var modelName: String

    public init(step: Int, epoch: Int, rngState: [UInt64] = [], configDigest: String = "", modelName: String = "") {
        self.step = step
        self.epoch = epoch
        self.rngState = rngState
        self.configDigest = configDigest
        self.modelName = modelName
    }

    enum Key {
        static let step = "step", epoch = "epoch", rngState = "rng_state", configDigest = "config_digest", modelName = "model_name"
    }

    public var metadata: [String: String] {
        [Key.step: String(step), Key.epoch: String(epoch), Key.rngState: rngState.map { String($0, radix: 16) }.joined(separator: ","),
         Key.configDigest: configDigest, Key.modelName: modelName]
    }

    /// Reads the fields back from `checkpoint`'s metadata.
    public init(_ checkpoint: Checkpoint) throws {
        let m = checkpoint.metadata
        func invalid(_ key: String) -> ArtifactError {
            ArtifactError(.invalidMetadata, path: checkpoint.displayName, "metadata \"\(key)\" is missing or malformed (\(m[key].map { "\"\($0)\"" } ?? "absent"))")
        }
        guard let step = m[Key.step].flatMap({ Int($0) }) else { throw invalid(Key.step) }
        guard let epoch = m[Key.epoch].flatMap({ Int($0) }) else { throw invalid(Key.epoch) }
        guard let words = m[Key.rngState] else { throw invalid(Key.rngState) }
        let rng = words.isEmpty ? [] : words.split(separator: ",").map { UInt64($0, radix: 16) }
        guard !rng.contains(nil) else { throw invalid(Key.rngState) }
        self.init(step: step, epoch: epoch, rngState: rng.map { $0! }, configDigest: m[Key.configDigest] ?? "",
                  modelName: m[Key.modelName] ?? "")
    }

    /// A 64-bit FNV-1a digest of a configuration's canonical text, as 16 hex digits.
    public static func digest(_ text: String) -> String { hex16(fnv1a64(text.utf8)) }
}
