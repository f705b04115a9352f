import Glibc

/// A JSON-lines metrics file (`metrics.jsonl`): one `MetricsRecord` object per line, each
/// line handed to the kernel in a single `write`, so a crash never leaves a buffered line
/// behind and `tail -f` or a plotting script sees every step as it happens.
public final class MetricsLog {
    public let path: String
    private let fd: Int32

    /// Opens `path`, truncating it unless `append` (a resumed run continues its log).
    public init(path: String, append: Bool = false) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (append ? 0 : O_TRUNC), 0o644)
        guard fd >= 0 else { throw FileIO.failure("cannot open metrics log", path: path) }
    }

    deinit { close(fd) }

    public func write(_ record: MetricsRecord) throws {
        let line = Array((record.jsonLine + "\n").utf8)
        try line.withUnsafeBytes { try FileIO.writeAll(fd, $0, path: path) }
    }
}
