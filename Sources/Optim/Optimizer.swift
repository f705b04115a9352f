import Autograd
import TensorCore

/// An optimizer over one `FlatParameters`: each step is one pass over the flat value and
/// gradient arenas and the optimizer's state buffers, which have the same layout as the
/// parameters and are allocated once, at init.
///
/// Parameters whose `requiresGrad` is false at step time are left untouched (no update, no
/// weight decay, state unchanged), as Keras only updates trainable variables. Conformers
/// implement `applyUpdate` for a range of elements; `step` drives it.
public protocol Optimizer: AnyObject {
    /// The parameters and gradients this optimizer updates.
    var parameters: FlatParameters { get }
    /// The learning rate, or a schedule evaluated at `stepCount`.
    var learningRate: LearningRateSchedule { get set }
    /// Completed steps (Keras' `iterations`). Restore it with the state buffers.
    var stepCount: Int { get set }
    /// When set, gradients are scaled so their global L2 norm is at most this before each step
    /// (Keras' `global_clipnorm`).
    var globalClipNorm: Float? { get set }
    /// The optimizer's state as named flat buffers parallel to the parameter arena (empty for
    /// plain SGD), for checkpoints.
    var stateBuffers: [OptimizerStateBuffer] { get }
    /// Updates the parameter elements in `range` (indices into the flat arenas) with learning
    /// rate `lr` as step number `t` (1-based). `step` calls this once per run of trainable
    /// parameters; a sharded optimizer could call it for its own slice.
    func applyUpdate(_ range: Range<Int>, learningRate lr: Float, step t: Int)
}

extension Optimizer {
    /// The learning rate the next step will use.
    public var currentLearningRate: Float { learningRate(stepCount) }

    /// One update from the gradients currently in the gradient arena, with the scheduled
    /// learning rate or `override`, of every trainable parameter, or with `ranges` (disjoint
    /// ranges of trainable elements) of those elements only: a sharded data-parallel step,
    /// where each rank updates its part and hands the new values to the others
    /// (`DataParallel.update`).
    public func step(learningRate override: Float? = nil, ranges: [Range<Int>]? = nil) {
        if let maxNorm = globalClipNorm { GradientClipping.clipByGlobalNorm(parameters, maxNorm: maxNorm) }
        forEachUpdate(learningRate: override, ranges: ranges) { applyUpdate($0, learningRate: $1, step: $2) }
    }

    /// Calls `update` with each range to update (`ranges`, else every trainable run), the
    /// learning rate and the 1-based step number, then counts the step.
    func forEachUpdate(learningRate override: Float?, ranges: [Range<Int>]?, _ update: (Range<Int>, Float, Int) -> Void) {
        let lr = override ?? learningRate(stepCount)
        let t = stepCount + 1
        if let ranges {
            for r in ranges { update(r, lr, t) }
        } else {
            parameters.forEachTrainableRange { update($0, lr, t) }
        }
        stepCount = t
    }

    /// The state buffer called `name`.
    public func stateBuffer(named name: String) -> OptimizerStateBuffer? { stateBuffers.first { $0.name == name } }

    /// Restores a checkpoint: the step count and every state buffer by name, each with exactly
    /// the parameter count. Nothing is changed if any buffer is missing or the wrong size.
    public func restoreState(stepCount: Int, buffers: [String: [Float]]) throws {
        for b in stateBuffers {
            guard let values = buffers[b.name] else {
                throw OptimizerStateError("state buffer \"\(b.name)\" missing (have: \(buffers.keys.sorted().joined(separator: ", ")))")
            }
            guard values.count == b.count else {
                throw OptimizerStateError("state buffer \"\(b.name)\" has \(values.count) values, expected \(b.count)")
            }
        }
        for b in stateBuffers { buffers[b.name]!.withUnsafeBufferPointer { b.storage.base.update(from: $0.baseAddress!, count: b.count) } }
        self.stepCount = stepCount
    }
}

/// An optimizer whose update pass can take each gradient as the mean over several ranks'
/// gradient arenas (same layout), read where they are: the reduce-scatter of a sharded update
/// fused into the update, which then neither writes the averages nor reads them back
/// (`DataParallel`). The mean is the sum in arena order times 1/count, as every averaging path
/// computes it, so the result has the bits of averaging first and stepping after.
public protocol GradientAveragingOptimizer: Optimizer {
    /// `applyUpdate` with the gradient of each element in `range` the mean of `arenas`.
    func applyUpdate(_ range: Range<Int>, learningRate lr: Float, step t: Int, averaging arenas: [UnsafePointer<Float>])
}

extension GradientAveragingOptimizer {
    /// `step` over `ranges` with the gradients the mean of `arenas`; `around` runs each range's
    /// update (its second argument), e.g. to time it. There is no global-norm clipping here:
    /// that needs every average before any update.
    public func step(learningRate override: Float? = nil, ranges: [Range<Int>], averaging arenas: [UnsafePointer<Float>],
                     around: (Range<Int>, () -> Void) -> Void = { $1() }) {
        precondition(globalClipNorm == nil, "a step averaging the gradients in its pass cannot clip by global norm")
        forEachUpdate(learningRate: override, ranges: ranges) { range, lr, t in
            around(range) { applyUpdate(range, learningRate: lr, step: t, averaging: arenas) }
        }
    }
}

/// A named flat buffer of optimizer state with the parameter arena's layout.
public final class OptimizerStateBuffer {
    public let name: String
    public private(set) var storage: Storage
    /// Whether the buffer is one copy in memory every rank of the node uses (sharded update),
    /// rather than this rank's own.
    public private(set) var sharedAcrossRanks = false
    public var count: Int { storage.count }
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: storage.base, count: count) }

    /// A zero-filled buffer parallel to `parameters`.
    public init(name: String, parallelTo parameters: FlatParameters) {
        self.name = name
        self.storage = Storage(zeros: parameters.count)
    }

    /// Moves the state to `storage` (exactly `count` floats). With `copy` false the values
    /// there are kept (another rank put them there).
    public func move(to storage: Storage, sharedAcrossRanks shared: Bool, copy: Bool) {
        precondition(storage.count == count, "state buffer \(name): \(storage.count) floats for \(count)")
        if copy { storage.base.update(from: self.storage.base, count: count) }
        self.storage = storage
        sharedAcrossRanks = shared
    }
}

/// A checkpoint's optimizer state does not fit this optimizer.
public struct OptimizerStateError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "optimizer state: \(message)" }
}

extension FlatParameters {
    /// Calls `body` with each maximal run of consecutive parameters that require a gradient, as
    /// a range of arena indices (one call for a fully trainable model). Allocates nothing.
    public func forEachTrainableRange(_ body: (Range<Int>) -> Void) {
        var start = -1, end = 0
        for (i, p) in parameters.enumerated() {
            if p.requiresGrad {
                if start < 0 { start = offsets[i] }
                end = offsets[i] + p.count
            } else if start >= 0 {
                body(start..<end)
                start = -1
            }
        }
        if start >= 0 { body(start..<end) }
    }
}
