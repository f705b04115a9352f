import Foundation

/// A directory of numbered checkpoints, `ckpt-000001200.safetensors` for step 1200, of which
/// the newest `keepLast` are kept.
///
/// Crash safety: each file is written atomically (`AtomicFile`), and older files are deleted
/// only after the new one is durable, so at any moment the directory holds at least one
/// complete checkpoint once one was saved. Temporary files of interrupted writes never match
/// the naming pattern, so `latest()` ignores them; `save` removes those whose process is gone.
public struct CheckpointDirectory: Sendable {
    public let path: String
    public let keepLast: Int

    /// Creates the directory (and its parents) if needed.
    public init(path: String, keepLast: Int = 3) throws {
        precondition(keepLast >= 1, "keep at least one checkpoint")
        self.path = path
        self.keepLast = keepLast
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw ArtifactError(.io, path: path, "cannot create checkpoint directory: \(error)")
        }
    }

    public static func fileName(step: Int) -> String {
        "ckpt-" + String(step).leftPadded(to: 9, with: "0") + ".safetensors"
    }

    /// The step of a checkpoint file name, or nil for any other file.
    public static func step(ofFileName name: String) -> Int? {
        guard name.hasPrefix("ckpt-"), name.hasSuffix(".safetensors") else { return nil }
        let digits = name.dropFirst(5).dropLast(12)
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        return Int(digits)
    }

    public func filePath(step: Int) -> String { "\(path)/\(CheckpointDirectory.fileName(step: step))" }

    /// Steps of the checkpoint files present, oldest first (valid or not).
    public func steps() throws -> [Int] {
        try entries().compactMap(CheckpointDirectory.step(ofFileName:)).sorted()
    }

    /// Writes `checkpoint` as the file for `step`, then deletes the oldest files beyond the
    /// newest `keepLast` (never the new file or a later one) and stale temporary files. Returns
    /// the new file's path.
    @discardableResult
    public func save(_ checkpoint: Checkpoint, step: Int) throws -> String {
        let file = filePath(step: step)
        try checkpoint.write(to: file)
        for old in try steps().filter({ $0 != step }).dropLast(keepLast - 1) where old < step {
            try AtomicFile.remove(filePath(step: old))
        }
        for name in try entries() {
            if let owner = AtomicFile.temporaryFileOwner(name), name.hasPrefix(".ckpt-"), owner != getpid(),
               kill(owner, 0) != 0, errno == ESRCH {
                try AtomicFile.remove("\(path)/\(name)")
            }
        }
        return file
    }

    /// A checkpoint file that read and validated.
    public struct Found: Sendable {
        public let step: Int
        public let path: String
        public let checkpoint: Checkpoint
    }

    /// The newest checkpoint that reads and validates; older ones are tried when newer ones are
    /// damaged, and each rejected file is reported to `skipped`.
    public func latest(skipped: (ArtifactError) -> Void = { _ in }) throws -> Found? {
        for step in try steps().reversed() {
            let file = filePath(step: step)
            do { return Found(step: step, path: file, checkpoint: try Checkpoint(contentsOf: file)) } catch let error as ArtifactError {
                skipped(error)
            }
        }
        return nil
    }

    private func entries() throws -> [String] {
        do { return try FileManager.default.contentsOfDirectory(atPath: path) } catch {
            throw ArtifactError(.io, path: path, "cannot list checkpoint directory: \(error)")
        }
    }
}
