#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension DataFile {
    /// The names in `directory` (without "." and ".."), sorted by their bytes so every rank and
    /// every run sees the same order; an `.unreadable` error when it cannot be listed.
    public static func entries(in directory: String) throws -> [String] {
        guard let dir = opendir(directory) else {
            throw DataError(.unreadable, file: directory, "cannot list the folder: \(String(cString: strerror(errno)))")
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }
}
