import TensorCore

/// (input, target) windows of a token sequence for next-token prediction, as in nanoGPT's
/// `get_batch`: a window starting at s has inputs `tokens[s ..< s+T]` and targets
/// `tokens[s+1 ... s+T]`, for any s in `0 ..< tokens.count − T`.
public struct TokenWindows: Sendable {
    public let tokens: [Int32]
    /// T, the window length.
    public let blockSize: Int

    public init(tokens: some Collection<Int32>, blockSize: Int) {
        precondition(blockSize >= 1 && tokens.count > blockSize,
                     "\(tokens.count) tokens hold no window of \(blockSize) inputs plus 1 target")
        self.tokens = Array(tokens)
        self.blockSize = blockSize
    }

    /// The number of distinct window starts.
    public var startCount: Int { tokens.count - blockSize }

    /// Replaces the contents of `starts` with uniformly random window starts, keeping its
    /// count (and its storage: no allocation after the first call).
    public func randomStarts(_ starts: inout [Int], rng: inout RandomGenerator) {
        let n = UInt64(startCount)
        for k in starts.indices { starts[k] = Int(rng.next() % n) }
    }

    /// Writes the windows at `starts` as float token ids into `inputs` and `targets`, each
    /// holding at least `starts.count × blockSize` values (e.g. [B, T]), row k for `starts[k]`.
    public func fill(_ starts: some Collection<Int>, inputs: Tensor, targets: Tensor) {
        fill(starts, inputCapacity: inputs.count, targetCapacity: targets.count) { offset, token, isTarget in
            (isTarget ? targets.data : inputs.data)[offset] = Float(token)
        }
    }

    /// Writes the windows at `starts` as token ids into `inputs` and `targets`.
    public func fill(_ starts: some Collection<Int>, inputs: inout [Int32], targets: inout [Int32]) {
        inputs.withUnsafeMutableBufferPointer { i in
            targets.withUnsafeMutableBufferPointer { t in
                fill(starts, inputCapacity: i.count, targetCapacity: t.count) { offset, token, isTarget in
                    if isTarget { t[offset] = token } else { i[offset] = token }
                }
            }
        }
    }

    private func fill(_ starts: some Collection<Int>, inputCapacity: Int, targetCapacity: Int,
                      write: (_ offset: Int, _ token: Int32, _ isTarget: Bool) -> Void) {
        let needed = starts.count * blockSize
        precondition(inputCapacity >= needed && targetCapacity >= needed,
                     "\(starts.count) windows of \(blockSize) need \(needed) values, inputs hold \(inputCapacity), targets \(targetCapacity)")
        for (row, s) in starts.enumerated() {
            precondition(s >= 0 && s < startCount, "window start \(s) outside 0..<\(startCount)")
            for t in 0..<blockSize {
                write(row * blockSize + t, tokens[s + t], false)
                write(row * blockSize + t, tokens[s + t + 1], true)
            }
        }
    }
}
