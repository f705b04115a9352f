import TensorCore

/// PyTorch's `DistributedSampler`: splits the sample indices 0..<n among `replicas` ranks.
///
/// Each epoch the full index list is a permutation seeded by (seed, epoch) — the same on every
/// rank, with no communication — or 0..<n in order when `shuffle` is off. With `dropLast` the
/// list is cut to `replicas × floor(n / replicas)`; without it, it is padded to
/// `replicas × ceil(n / replicas)` by repeating indices from its start. Rank r then takes
/// positions r, r + replicas, r + 2·replicas, … So every rank gets `countPerRank` indices and the
/// ranks' shards are disjoint (without padding) and together cover the list.
public struct DistributedSampler: Sendable, Equatable {
    public let datasetCount: Int
    public let replicas: Int
    public let rank: Int
    public let shuffle: Bool
    public let seed: UInt64
    public let dropLast: Bool

    public init(datasetCount: Int, replicas: Int, rank: Int, shuffle: Bool = true, seed: UInt64 = 0, dropLast: Bool = false) {
        precondition(datasetCount >= 0, "dataset count \(datasetCount) is negative")
        precondition(replicas >= 1 && rank >= 0 && rank < replicas, "rank \(rank) outside 0..<\(replicas)")
        self.datasetCount = datasetCount
        self.replicas = replicas
        self.rank = rank
        self.shuffle = shuffle
        self.seed = seed
        self.dropLast = dropLast
    }

    /// Indices each rank gets per epoch: PyTorch's `num_samples`, ceil((n − N) / N) with
    /// `dropLast` when N does not divide n, else ceil(n / N).
    public static func countPerRank(datasetCount n: Int, replicas: Int, dropLast: Bool) -> Int {
        dropLast ? n / replicas : (n + replicas - 1) / replicas
    }

    public var countPerRank: Int { Self.countPerRank(datasetCount: datasetCount, replicas: replicas, dropLast: dropLast) }
    /// The length of the cut or padded list shared by all ranks: PyTorch's `total_size`.
    public var totalCount: Int { countPerRank * replicas }

    /// The epoch's order of all `datasetCount` indices, identical on every rank.
    public func permutation(epoch: Int) -> [Int] {
        guard shuffle else { return Array(0..<datasetCount) }
        var rng = RandomGenerator(seed: seed, stream: [StreamPurpose.shuffle.rawValue, UInt64(truncatingIfNeeded: epoch)])
        return rng.permutation(datasetCount)
    }

    /// This rank's `countPerRank` indices for `epoch`.
    public func indices(epoch: Int) -> [Int] {
        let order = permutation(epoch: epoch)
        return (0..<countPerRank).map { order[(rank + $0 * replicas) % datasetCount] }
    }

    /// Batches per epoch of `batchSize` from this rank's shard: the last one is smaller when
    /// `batchSize` does not divide the shard, and dropped with `dropLastBatch`.
    public func batchCount(batchSize: Int, dropLastBatch: Bool = false) -> Int {
        precondition(batchSize >= 1, "batch size \(batchSize) should be at least 1")
        return dropLastBatch ? countPerRank / batchSize : (countPerRank + batchSize - 1) / batchSize
    }

    /// This rank's indices for `epoch` cut into batches, in order.
    public func batches(epoch: Int, batchSize: Int, dropLastBatch: Bool = false) -> Batches {
        Batches(shard: indices(epoch: epoch), batchSize: batchSize, count: batchCount(batchSize: batchSize, dropLastBatch: dropLastBatch))
    }

    /// Consecutive slices of one rank's shard (views, no copies).
    public struct Batches: RandomAccessCollection, Sendable {
        /// The rank's whole shard, in order.
        public let shard: [Int]
        public let batchSize: Int
        public let count: Int

        public var startIndex: Int { 0 }
        public var endIndex: Int { count }
        public subscript(position: Int) -> ArraySlice<Int> {
            precondition(position >= 0 && position < count, "batch \(position) outside 0..<\(count)")
            let start = position * batchSize
            return shard[start..<Swift.min(start + batchSize, shard.count)]
        }
    }
}
