import TensorCore

/// The content of one checkpoint file: named Float32 tensors, in file order, and string
/// metadata. Stored in the safetensors format (see `Checkpoint+Safetensors.swift`), so
/// `safetensors.torch.load_file` or `safetensors.numpy.load_file` read it as a dictionary of
/// arrays with the same names and shapes.
///
/// Tensor names are free-form; the model helpers use the parameter names ("dense_1/kernel"),
/// optionally under a prefix ("generator/dense_1/kernel"), and `optimizer/<buffer>/<parameter>`
/// for optimizer state (see `Checkpoint+Model.swift`).
public struct Checkpoint: Sendable {
    /// One tensor: its name, shape and row-major values.
    public struct Entry: Equatable, Sendable {
        public let name: String
        public let shape: [Int]
        public let values: [Float]
    }

    public private(set) var tensors: [Entry] = []
    private var index: [String: Int] = [:]
    public var metadata: [String: String]
    /// The file this checkpoint was read from, named in error messages; nil when built in memory.
    public internal(set) var source: String?

    public init(metadata: [String: String] = [:]) {
        self.metadata = metadata
    }

    /// The file name used in error messages.
    var displayName: String { source ?? "checkpoint" }

    public var names: [String] { tensors.map(\.name) }

    public subscript(name: String) -> Entry? { index[name].map { tensors[$0] } }

    /// Appends a tensor. Names must be non-empty, unique and not the reserved `__metadata__`.
    public mutating func add(_ name: String, shape: [Int], values: [Float]) throws {
        precondition(shape.allSatisfy { $0 >= 0 } && values.count == shape.reduce(1, *),
                     "checkpoint tensor \(name): \(values.count) values do not fill shape \(shapeString(shape))")
        guard !name.isEmpty, name != Checkpoint.metadataKey else {
            throw ArtifactError(.invalidName, path: displayName, "invalid tensor name \"\(name)\"")
        }
        guard index[name] == nil else {
            throw ArtifactError(.invalidName, path: displayName, "tensor name \"\(name)\" is used twice")
        }
        index[name] = tensors.count
        tensors.append(Entry(name: name, shape: shape, values: values))
    }

    /// Appends a copy of `tensor`'s values.
    public mutating func add(_ name: String, _ tensor: Tensor) throws {
        try add(name, shape: tensor.shape, values: tensor.scalars)
    }

    /// The tensor called `name`, which must exist with exactly `shape`; errors name the tensor,
    /// the file and both shapes.
    public func entry(_ name: String, shape: [Int]) throws -> Entry {
        guard let e = self[name] else {
            throw ArtifactError(.missingTensor, path: displayName, "tensor \"\(name)\" \(shapeString(shape)) is missing from the checkpoint")
        }
        guard e.shape == shape else {
            throw ArtifactError(.shapeMismatch, path: displayName,
                                "tensor \"\(name)\" has shape \(shapeString(e.shape)) in the checkpoint but \(shapeString(shape)) in the model")
        }
        return e
    }
}
