import TensorCore

/// All parameters of a model in one flat buffer, and all their gradients in a second flat
/// buffer with the same layout (llm.c's design). Broadcast, allreduce, checkpoints and optimizer
/// updates are then one pass over a buffer each. Each parameter `Variable` becomes a view into
/// the arena; its gradient a view into the gradient arena at the same offset.
public final class FlatParameters {
    public let parameters: [Variable]
    /// Element offset of each parameter inside the arenas, in `parameters` order.
    public let offsets: [Int]
    public let count: Int
    public private(set) var values: Storage
    public private(set) var grads: Storage
    /// Whether `values` is one copy every rank of the node uses (`moveValues(to:shared:)`):
    /// nothing needs to be sent to other ranks for them to see these values.
    public private(set) var valuesSharedAcrossRanks = false

    /// Moves `parameters` (in this order) into fresh arenas, keeping their current values.
    /// Order matters for data parallelism: listing the parameters that backward finishes first
    /// (the last layers) first makes gradient buckets contiguous ranges that complete early.
    public init(_ parameters: [Variable]) {
        var seen = Set<ObjectIdentifier>()
        let unique = parameters.filter { seen.insert(ObjectIdentifier($0)).inserted }
        self.parameters = unique
        var offsets: [Int] = []
        var total = 0
        for p in unique {
            offsets.append(total)
            total += p.count
        }
        self.offsets = offsets
        self.count = total
        values = Storage(zeros: total)
        grads = Storage(zeros: total)
        for (p, o) in zip(unique, offsets) {
            p.rebind(value: Tensor(view: values, offset: o, shape: p.shape))
            p.bindGrad(Tensor(view: grads, offset: o, shape: p.shape))
        }
    }

    /// Moves the gradient arena to `storage` (of `count` floats), keeping the gradients: the
    /// data-parallel layer puts it in memory the other ranks of the node can read.
    public func moveGradients(to storage: Storage) {
        precondition(storage.count >= count, "gradient arena of \(storage.count) floats for \(count) parameters")
        storage.base.update(from: grads.base, count: count)
        grads = storage
        for (p, o) in zip(parameters, offsets) { p.bindGrad(Tensor(view: storage, offset: o, shape: p.shape)) }
    }

    /// Moves the value arena to `storage` (of `count` floats), keeping the values unless
    /// `keep` is false (another rank puts them there): the data-parallel layer puts it where
    /// other ranks of the node can write their updates, or with `shared` makes it the single
    /// copy all of them use.
    public func moveValues(to storage: Storage, shared: Bool = false, keep: Bool = true) {
        precondition(storage.count >= count, "value arena of \(storage.count) floats for \(count) parameters")
        values = storage
        valuesSharedAcrossRanks = shared
        for (p, o) in zip(parameters, offsets) { p.rebind(value: Tensor(view: storage, offset: o, shape: p.shape), keepingValue: keep) }
    }

    public var valueBuffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: values.base, count: count) }
    public var gradBuffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: grads.base, count: count) }

    /// Element range of parameter `i` inside the arenas.
    public func range(of i: Int) -> Range<Int> { offsets[i]..<(offsets[i] + parameters[i].count) }

    public func zeroGrad() {
        grads.base.update(repeating: 0, count: count)
        for p in parameters { p.settleGrad() }
    }

    /// Starts a step's gradients without writing the arena: every parameter's gradient counts
    /// as zero and its first contribution overwrites it (`Variable.discardGrad`). Whoever runs
    /// backward must call `settleGradients()` before the arena is read.
    public func discardGradients() { for p in parameters { p.discardGrad() } }

    /// Zeroes the gradients of parameters that took no part in the backward since
    /// `discardGradients()` (unused or frozen), so the whole arena holds this step's gradients.
    public func settleGradients() { for p in parameters { p.settleGrad() } }

    /// Freezes (or unfreezes) every parameter: frozen ones get no gradient computed at all.
    public func setTrainable(_ trainable: Bool) { for p in parameters { p.requiresGrad = trainable } }
}
