import Autograd
import Optim
import TensorCore

/// Models and optimizers in a checkpoint, one tensor per parameter so that PyTorch users get a
/// state dict with meaningful names and shapes:
/// - parameter `p` → `<prefix><p.name>` ("dense_1/kernel"), with `p`'s shape;
/// - optimizer state buffer `b` (Adam's "m" and "v", SGD's "momentum"), the slice belonging to
///   `p` → `<prefix>optimizer/<b>/<p.name>` ("optimizer/m/dense_1/kernel"), with `p`'s shape;
/// - the optimizer's step count → metadata `<prefix>optimizer_step`.
///
/// A single model uses the empty prefix; a GAN stores its networks under "generator/" and
/// "discriminator/". Restoring is all or nothing: every tensor is checked (present, same shape,
/// nothing unexpected under the prefix) before any value changes.
extension Checkpoint {
    public static let generatorPrefix = "generator/"
    public static let discriminatorPrefix = "discriminator/"

    /// The namespace of a workload's carried state (`Workload.carriedState`), which belongs to
    /// no network.
    public static let carriedStatePrefix = "carried_state/"

    public static func optimizerTensorName(buffer: String, parameter: String, prefix: String = "") -> String {
        "\(prefix)optimizer/\(buffer)/\(parameter)"
    }

    static func optimizerStepKey(prefix: String) -> String { "\(prefix)optimizer_step" }

    /// A checkpoint of one model, its optimizer and the run's position.
    public init(parameters: FlatParameters, optimizer: Optimizer?, info: CheckpointInfo) throws {
        self.init(metadata: info.metadata)
        try add(parameters, optimizer: optimizer, prefix: "")
    }

    /// A checkpoint of a GAN's two networks and their optimizers.
    public init(generator: FlatParameters, generatorOptimizer: Optimizer?, discriminator: FlatParameters,
                discriminatorOptimizer: Optimizer?, info: CheckpointInfo) throws {
        self.init(metadata: info.metadata)
        try add(generator, optimizer: generatorOptimizer, prefix: Checkpoint.generatorPrefix)
        try add(discriminator, optimizer: discriminatorOptimizer, prefix: Checkpoint.discriminatorPrefix)
    }

    /// Adds the values of `parameters` and the state of `optimizer` (which must update them).
    public mutating func add(_ parameters: FlatParameters, optimizer: Optimizer?, prefix: String = "") throws {
        for (i, p) in parameters.parameters.enumerated() {
            try add(prefix + p.name, shape: p.shape, values: Array(parameters.valueBuffer[parameters.range(of: i)]))
        }
        guard let optimizer else { return }
        precondition(optimizer.parameters === parameters, "the optimizer updates other parameters")
        for b in optimizer.stateBuffers {
            for (i, p) in parameters.parameters.enumerated() {
                try add(Checkpoint.optimizerTensorName(buffer: b.name, parameter: p.name, prefix: prefix), shape: p.shape,
                        values: Array(b.buffer[parameters.range(of: i)]))
            }
        }
        metadata[Checkpoint.optimizerStepKey(prefix: prefix)] = String(optimizer.stepCount)
    }

    /// Copies the tensors under `prefix` into `parameters` and `optimizer` (nil: optimizer state
    /// is left alone), or throws without changing anything.
    public func restore(_ parameters: FlatParameters, optimizer: Optimizer?, prefix: String = "") throws {
        try prepareRestore(parameters, optimizer: optimizer, prefix: prefix).apply()
    }

    /// Restores both networks of a GAN, or neither.
    public func restore(generator: FlatParameters, generatorOptimizer: Optimizer?, discriminator: FlatParameters,
                        discriminatorOptimizer: Optimizer?) throws {
        let g = try prepareRestore(generator, optimizer: generatorOptimizer, prefix: Checkpoint.generatorPrefix)
        let d = try prepareRestore(discriminator, optimizer: discriminatorOptimizer, prefix: Checkpoint.discriminatorPrefix)
        try g.apply()
        try d.apply()
    }

    /// Validated values, ready to be copied.
    struct PendingRestore {
        let parameters: FlatParameters
        let values: [(range: Range<Int>, values: [Float])]
        let optimizer: Optimizer?
        let optimizerStep: Int
        let optimizerBuffers: [String: [Float]]

        /// Cannot fail after `prepareRestore`, which checked what `restoreState` checks.
        func apply() throws {
            try optimizer?.restoreState(stepCount: optimizerStep, buffers: optimizerBuffers)
            let arena = parameters.valueBuffer
            for (range, v) in values { _ = arena[range].update(fromContentsOf: v) }
        }
    }

    func prepareRestore(_ parameters: FlatParameters, optimizer: Optimizer?, prefix: String) throws -> PendingRestore {
        var used = Set<String>()
        func take(_ name: String, shape: [Int]) throws -> [Float] {
            used.insert(name)
            return try entry(name, shape: shape).values
        }
        var values: [(range: Range<Int>, values: [Float])] = []
        for (i, p) in parameters.parameters.enumerated() {
            values.append((parameters.range(of: i), try take(prefix + p.name, shape: p.shape)))
        }
        var step = 0
        var buffers: [String: [Float]] = [:]
        if let optimizer {
            precondition(optimizer.parameters === parameters, "the optimizer updates other parameters")
            let key = Checkpoint.optimizerStepKey(prefix: prefix)
            guard let s = metadata[key].flatMap({ Int($0) }) else {
                throw ArtifactError(.invalidMetadata, path: displayName, "metadata \"\(key)\" (the optimizer's step count) is missing or malformed")
            }
            step = s
            for b in optimizer.stateBuffers {
                var flat = [Float](repeating: 0, count: b.count)
                for (i, p) in parameters.parameters.enumerated() {
                    let v = try take(Checkpoint.optimizerTensorName(buffer: b.name, parameter: p.name, prefix: prefix), shape: p.shape)
                    flat.replaceSubrange(parameters.range(of: i), with: v)
                }
                buffers[b.name] = flat
            }
        }
        let optimizerNamespace = prefix + "optimizer/"
        let unexpected = names.filter {
            $0.hasPrefix(prefix) && !used.contains($0) && !(optimizer == nil && $0.hasPrefix(optimizerNamespace))
                && !$0.hasPrefix(Checkpoint.carriedStatePrefix)
        }
        guard unexpected.isEmpty else {
            let shown = unexpected.prefix(5).map { "\"\($0)\"" }.joined(separator: ", ") + (unexpected.count > 5 ? ", ..." : "")
            throw ArtifactError(.unexpectedTensor, path: displayName,
                                "\(unexpected.count) checkpoint tensor(s) are not in the model: \(shown)")
        }
        return PendingRestore(parameters: parameters, values: values, optimizer: optimizer, optimizerStep: step, optimizerBuffers: buffers)
    }
}

extension DataParallelTrainer {
    /// The model, its optimizer state and `info`. Replicas are identical, so one rank suffices.
    public func checkpoint(_ info: CheckpointInfo) throws -> Checkpoint {
        try Checkpoint(parameters: parameters, optimizer: optimizer, info: info)
    }

    /// Restores model and optimizer state; every rank restores the same checkpoint, so replicas
    /// stay identical. Returns where the run was.
    @discardableResult
    public func restore(from checkpoint: Checkpoint) throws -> CheckpointInfo {
        let info = try CheckpointInfo(checkpoint)
        try checkpoint.restore(parameters, optimizer: optimizer)
        return info
    }
}

extension GANTrainer {
    /// Both networks, both optimizers' state and `info`.
    public func checkpoint(_ info: CheckpointInfo) throws -> Checkpoint {
        try Checkpoint(generator: generatorParameters, generatorOptimizer: generatorOptimizer,
                       discriminator: discriminatorParameters, discriminatorOptimizer: discriminatorOptimizer, info: info)
    }

    /// Restores both networks and optimizers (every rank, same checkpoint). Returns where the run was.
    @discardableResult
    public func restore(from checkpoint: Checkpoint) throws -> CheckpointInfo {
        let info = try CheckpointInfo(checkpoint)
        try checkpoint.restore(generator: generatorParameters, generatorOptimizer: generatorOptimizer,
                               discriminator: discriminatorParameters, discriminatorOptimizer: discriminatorOptimizer)
        return info
    }
}
