import Synchronization

/// A contiguous block of Float memory. Tensors are views (offset + shape) into a storage.
///
/// Storage either comes from the `BufferPool` (temporary activations and gradients, returned to
/// the pool when the last view dies, so a steady-state training step does not call malloc), is
/// an arena allocated once (flat parameter, gradient and optimizer-state buffers), or is memory
/// someone else owns (a gradient arena in memory shared between ranks).
public final class Storage: @unchecked Sendable {
    public let base: UnsafeMutablePointer<Float>
    public let count: Int
    /// The pool this storage's memory returns to (nil: an arena or external memory).
    private let pool: BufferPool?
    /// Keeps the owner of external memory alive as long as this storage.
    private let owner: AnyObject?

    /// A fresh arena of `count` floats, zero-filled, owned by this storage.
    public init(zeros count: Int) {
        self.count = count
        self.base = BufferPool.allocateAligned(count)
        self.base.initialize(repeating: 0, count: count)
        self.pool = nil
        self.owner = nil
    }

    /// `count` floats at `base`, owned (and eventually freed) by `owner`, not by this storage.
    public init(external base: UnsafeMutablePointer<Float>, count: Int, owner: AnyObject) {
        self.count = count
        self.base = base
        self.pool = nil
        self.owner = owner
    }

    /// Uninitialised memory from the calling thread's pool (callers overwrite every element).
    init(pooled count: Int) {
        let pool = BufferPool.current
        self.count = count
        self.base = pool.take(count)
        self.pool = pool
        self.owner = nil
    }

    deinit {
        if let pool { pool.give(base, count: count) } else if owner == nil { base.deallocate() }
    }
}

/// A caching allocator keyed by exact element count, in the spirit of PyTorch's caching
/// allocator: a training step requests the same sizes every iteration, so after the first step
/// every request is served from a free list and the heap stops growing.
///
/// Each in-process rank has a pool of its own (`current`), as each MPI rank has its process's:
/// ranks sharing one pool would contend for its lock on every tensor, and how their steps
/// interleave would decide the pool's peak, so its size could creep up long after warm-up.
public final class BufferPool: Sendable {
    public static let shared = BufferPool()
    /// The pool tensors made on this thread come from: `shared` unless bound with `withValue`
    /// (task-local, hence thread-local outside tasks). A buffer returns to the pool it came from.
    @TaskLocal public static var current = BufferPool.shared

    private struct State {
        var free: [Int: [UInt]] = [:]  // addresses: raw pointers are not Sendable
        var cachedFloats = 0
        var liveFloats = 0
        var allocations = 0
    }
    private let state = Mutex(State())

    public init() {}

    deinit { trim() }

    static func allocateAligned(_ count: Int) -> UnsafeMutablePointer<Float> {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        return raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    func take(_ count: Int) -> UnsafeMutablePointer<Float> {
        let reused: UInt? = state.withLock { s in
            s.liveFloats += count
            guard let p = s.free[count]?.popLast() else {
                s.allocations += 1
                return nil
            }
            s.cachedFloats -= count
            return p
        }
        if let address = reused { return UnsafeMutablePointer<Float>(bitPattern: address)! }
        return BufferPool.allocateAligned(count)
    }

    func give(_ p: UnsafeMutablePointer<Float>, count: Int) {
        state.withLock { s in
            s.free[count, default: []].append(UInt(bitPattern: p))
            s.cachedFloats += count
            s.liveFloats -= count
        }
    }

    /// Number of fresh allocations made so far (constant in an allocation-free steady state).
    public var allocationCount: Int { state.withLock { $0.allocations } }
    /// Bytes held by live pooled tensors and by the free lists.
    public var bytesInUse: Int { state.withLock { $0.liveFloats * 4 } }
    public var bytesCached: Int { state.withLock { $0.cachedFloats * 4 } }

    /// Releases every cached (unused) buffer back to the system.
    public func trim() {
        let lists = state.withLock { s -> [[UInt]] in
            let l = Array(s.free.values)
            s.free = [:]
            s.cachedFloats = 0
            return l
        }
        for list in lists { for p in list { UnsafeMutablePointer<Float>(bitPattern: p)!.deallocate() } }
    }
}
