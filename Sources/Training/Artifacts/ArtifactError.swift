/// A problem with a run artifact (checkpoint, image, chart, log), naming the file and what is
/// wrong with it. `kind` lets callers and tests tell problems apart without parsing messages.
public struct ArtifactError: Error, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable {
        /// A system call failed (open, write, fsync, rename, ...).
        case io
        /// The file is shorter than its own header says.
        case truncated
        /// The 8-byte header length is larger than the file or than 100 MB.
        case headerLength
        /// The JSON header does not parse or does not have the safetensors structure.
        case invalidHeader
        /// A tensor's byte range is out of bounds, overlaps another, leaves a hole, or does not
        /// match its dtype and shape.
        case invalidOffsets
        case unsupportedDtype
        /// The data section's checksum differs from the one recorded in the header.
        case corrupt
        /// A tensor the model needs is not in the checkpoint.
        case missingTensor
        /// A checkpoint tensor is not part of the model being restored.
        case unexpectedTensor
        case shapeMismatch
        /// A tensor name is empty, reserved or used twice.
        case invalidName
        /// A metadata entry is missing or malformed.
        case invalidMetadata
    }

    public let path: String
    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, path: String, _ message: String) {
        self.kind = kind
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}
