import Glibc

/// Whole-file writes that are atomic and durable: readers see either the previous file or the
/// complete new one, even if the process is killed or the machine loses power mid-write.
///
/// The bytes go to a temporary file in the target's directory (so `rename` stays within one
/// file system), which is fsynced, renamed over the target, and then the directory is fsynced so
/// the rename itself survives a crash.
public enum AtomicFile {
    /// Marker in the names of temporary files: `.<name>.tmp.<pid>.<n>`.
    static let temporaryMarker = ".tmp."

    /// Fault injection for the crash-safety tests: a process whose environment sets
    /// `DDP_TEST_KILL_DURING_WRITE` to a file name kills itself (SIGKILL) after writing half of
    /// that file's temporary copy, as a crash or `kill -9` mid-write would.
    static let killDuringWrite = getenv("DDP_TEST_KILL_DURING_WRITE").map { String(cString: $0) }

    public static func write(_ bytes: [UInt8], to path: String) throws {
        let (directory, name) = FileIO.split(path)
        let temporary = "\(directory)/.\(name)\(temporaryMarker)\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileIO.failure("cannot create temporary file \(temporary)", path: path) }
        do {
            defer { close(fd) }
            try bytes.withUnsafeBytes { all in
                if name == killDuringWrite {
                    try FileIO.writeAll(fd, UnsafeRawBufferPointer(rebasing: all[..<(all.count / 2)]), path: temporary)
                    kill(getpid(), SIGKILL)
                }
                try FileIO.writeAll(fd, all, path: temporary)
            }
            guard fsync(fd) == 0 else { throw FileIO.failure("fsync failed", path: temporary) }
        } catch {
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let e = FileIO.failure("cannot rename \(temporary) over it", path: path)
            unlink(temporary)
            throw e
        }
        try FileIO.syncDirectory(directory)
    }

    /// Removes `path` and makes the removal durable.
    public static func remove(_ path: String) throws {
        guard unlink(path) == 0 || errno == ENOENT else { throw FileIO.failure("cannot remove", path: path) }
        try FileIO.syncDirectory(FileIO.split(path).directory)
    }

    /// The process id in a temporary file name written by `write`, or nil if `name` is not one.
    static func temporaryFileOwner(_ name: String) -> pid_t? {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard name.hasPrefix("."), parts.count >= 4, parts[parts.count - 3] == "tmp" else { return nil }
        return pid_t(parts[parts.count - 2])
    }
}
