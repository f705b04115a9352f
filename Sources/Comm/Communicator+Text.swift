extension Communicator {
    /// Root's string on every rank (for messages that need another rank's details).
    public func broadcast(string: String, root: Int) -> String {
        var length = UInt64(string.utf8.count)
        withUnsafeMutableBytes(of: &length) { broadcast(bytes: $0, root: root) }
        guard length > 0 else { return "" }
        var bytes = rank == root ? Array(string.utf8) : [UInt8](repeating: 0, count: Int(length))
        bytes.withUnsafeMutableBytes { broadcast(bytes: $0, root: root) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
