/// A token sequence cut into `count` contiguous streams of equal length, read chunk by chunk
/// for truncated backpropagation through time: at chunk c every stream advances by
/// `chunkLength` tokens, so a stateful model that carries each stream's state from one chunk
/// to the next sees one long text per stream.
///
/// Streams may be shifted by an `offset` in 0..<chunkLength (a different one each epoch), and
/// that much text is kept in reserve at the end, so every chunk has its targets.
public struct TextStreams: Sendable, Equatable {
    public let count: Int
    public let chunkLength: Int
    /// Tokens per stream, a whole number of chunks.
    public let streamLength: Int
    public var chunksPerStream: Int { streamLength / chunkLength }

    /// nil when `tokenCount` tokens do not give each of `count` streams one chunk of
    /// `chunkLength` inputs (plus targets and the offset reserve).
    public init?(tokenCount: Int, count: Int, chunkLength: Int, offsetReserve: Bool) {
        guard count >= 1, chunkLength >= 1 else { return nil }
        let usable = tokenCount - 1 - (offsetReserve ? chunkLength - 1 : 0)
        let length = usable / count / chunkLength * chunkLength
        guard length >= chunkLength else { return nil }
        self.count = count
        self.chunkLength = chunkLength
        streamLength = length
    }

    /// Where chunk `chunk` of stream `stream` starts (its inputs are the `chunkLength` tokens
    /// from there, its targets the same shifted by one).
    public func start(stream: Int, chunk: Int, offset: Int = 0) -> Int {
        precondition(stream >= 0 && stream < count && chunk >= 0 && chunk < chunksPerStream && offset >= 0 && offset < chunkLength,
                     "stream \(stream) chunk \(chunk) offset \(offset) outside \(count) streams of \(chunksPerStream) chunks")
        return offset + stream * streamLength + chunk * chunkLength
    }
}
