import Glibc

/// The POSIX I/O underneath the artifacts: whole-buffer reads and writes that retry short
/// transfers and EINTR, directory fsync, and errors carrying `errno`'s text.
enum FileIO {
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        var done = 0
        while done < bytes.count {
            let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw failure("write failed", path: path)
            }
            done += n
        }
    }

    /// Fills `buffer` from the start of the file; a file shorter than the buffer is `.truncated`.
    static func read(_ fd: Int32, into buffer: inout [UInt8], path: String) throws {
        try buffer.withUnsafeMutableBytes { out in
            var done = 0
            while done < out.count {
                let n = pread(fd, out.baseAddress! + done, out.count - done, off_t(done))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else {
                    if n == 0 { throw ArtifactError(.truncated, path: path, "file ended after \(done) of \(out.count) bytes") }
                    throw failure("read failed", path: path)
                }
                done += n
            }
        }
    }

    /// Makes renames and removals in `directory` durable.
    static func syncDirectory(_ directory: String) throws {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("cannot open directory", path: directory) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw failure("fsync of directory failed", path: directory) }
    }

    /// (directory, file name) of a path; "." for a bare name.
    static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }

    /// An `.io` error carrying the current `errno`'s text.
    static func failure(_ what: String, path: String) -> ArtifactError {
        ArtifactError(.io, path: path, "\(what): \(String(cString: strerror(errno)))")
    }
}
