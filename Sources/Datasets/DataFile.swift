#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads and the few file-system questions the readers ask, on the C library so the
/// data layer needs no Foundation.
public enum DataFile {
    /// The contents of `path`, gunzipped when the file starts with the gzip magic bytes 1f 8b
    /// (whatever its name), so every reader accepts raw and `.gz` files alike.
    public static func read(_ path: String) throws -> [UInt8] {
        try decode(readRaw(path), file: path)
    }

    /// A file's stored bytes as the readers see them: gunzipped when they start with 1f 8b.
    public static func decode(_ bytes: [UInt8], file: String) throws -> [UInt8] {
        Gzip.isCompressed(bytes) ? try Gzip.decompress(bytes, file: file) : bytes
    }

    /// The bytes of `path` exactly as stored.
    public static func readRaw(_ path: String) throws -> [UInt8] {
        guard let f = fopen(path, "rb") else {
            throw DataError(.unreadable, file: path, "cannot open: \(systemError())")
        }
        defer { fclose(f) }
        var info = stat()
        guard fstat(fileno(f), &info) == 0 else {
            throw DataError(.unreadable, file: path, "cannot stat: \(systemError())")
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            throw DataError(.unreadable, file: path, "a file expected, found a folder")
        }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        let got = bytes.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
        if ferror(f) != 0 { throw DataError(.unreadable, file: path, "read failed: \(systemError())") }
        if got < bytes.count {
            throw DataError(.truncated, file: path, at: "byte \(grouped(got))",
                            "file shrank while being read: \(grouped(bytes.count)) bytes expected")
        }
        return bytes
    }

    /// `name` in `directory`, or `name.gz` when only the compressed copy is there. Neither
    /// existing is an `.unreadable` error naming both.
    public static func locate(_ name: String, in directory: String) throws -> String {
        let plain = join(directory, name)
        if isFile(plain) { return plain }
        if isFile(plain + ".gz") { return plain + ".gz" }
        throw DataError(.unreadable, file: plain, "no such file (nor \(name).gz)")
    }

    public static func isFile(_ path: String) -> Bool { fileMode(path).map { $0 & S_IFMT == S_IFREG } ?? false }
    public static func isDirectory(_ path: String) -> Bool { fileMode(path).map { $0 & S_IFMT == S_IFDIR } ?? false }

    /// `directory/name`, or `name` alone when it is absolute.
    public static func join(_ directory: String, _ name: String) -> String {
        if name.hasPrefix("/") || directory.isEmpty { return name }
        return directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// The names in `directory` (not `.` and `..`), sorted by their UTF-8 bytes so the order is
    /// the same on every platform and locale.
    public static func list(_ directory: String) throws -> [String] {
        guard let d = opendir(directory) else {
            throw DataError(.unreadable, file: directory, "cannot list the folder: \(systemError())")
        }
        defer { closedir(d) }
        var names: [String] = []
        while let entry = readdir(d) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// The process's current directory.
    public static func currentDirectory() -> String {
        guard let p = getcwd(nil, 0) else { return "." }
        defer { free(p) }
        return String(cString: p)
    }

    private static func fileMode(_ path: String) -> mode_t? {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode : nil
    }

    private static func systemError() -> String { String(cString: strerror(errno)) }
}
