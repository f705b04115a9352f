import Autograd
import Comm
import NN
import Optim
import TensorCore
import Training

/// Small CNN, Transformer-block, residual-network and GAN training runs on synthetic data,
/// shared by the in-process tests and the `mpirun` worker, so both exercise exactly the same
/// code. The residual network uses batch normalisation, synchronised across ranks unless
/// `syncBatchNorm` is false (then N ranks × b no longer equal 1 × N·b).
///
/// Rank r of N takes rows N·j + r of each step's global batch (the interleaving the
/// DistributedSampler uses), so N ranks × b and one rank × N·b see the same samples each step.
public enum Scenario: String, CaseIterable, Sendable {
    case cnn, transformer, resnet, gan

    /// Trains for `steps` optimizer steps and returns the final parameters (for the GAN,
    /// generator then discriminator) as flat arrays. With `perRankSeeds` every rank initialises
    /// its model from a different seed; the initial broadcast must make that irrelevant. With a
    /// `timeline`, the trainer records its steps there. `sharedMemory: false` averages gradients
    /// through the communicator's allreduce instead of the node's shared memory; with shared
    /// memory, `shardedUpdate` has each rank update only its share of the parameters.
    public func run(comm: Communicator, perRankBatch b: Int, steps: Int, seed: UInt64 = 42,
                    perRankSeeds: Bool = false, gradientAccumulation: Int = 1, overlap: Bool = true,
                    syncBatchNorm: Bool = true, sharedMemory: Bool = true, shardedUpdate: Bool = true,
                    timeline: Timeline? = nil) throws -> [Float] {
        let modelSeed = perRankSeeds ? seed + UInt64(comm.rank) * 1000 : seed
        var options = ParallelOptions()
        options.overlap = overlap
        options.gradientAccumulation = gradientAccumulation
        options.syncBatchNorm = syncBatchNorm
        options.sharedMemory = sharedMemory
        options.shardedUpdate = shardedUpdate
        // Tiny buckets so even these small models use several, exercising the bucket order.
        options.firstBucketBytes = 2048
        options.bucketBytes = 8192
        switch self {
        case .cnn, .transformer, .resnet:
            let (model, inputShape, classes) = try buildClassifier(seed: modelSeed)
            let trainer = DataParallelTrainer(model: model, loss: .sparseCategoricalCrossentropy(fromLogits: true),
                                              metric: .sparseCategoricalAccuracy, comm: comm, options: options) {
                // The Transformer uses SGD: its attention key bias has a gradient that is exactly
                // zero in exact arithmetic (softmax cancels it), and Adam would normalise the
                // float rounding noise of that zero into full-size steps, so the comparison
                // with one large batch would compare noise.
                self == .cnn ? Adam($0, learningRate: 0.01) as Optimizer : SGD($0, learningRate: 0.05, momentum: 0.9)
            }
            trainer.timeline = timeline
            for s in 0..<steps {
                let micro = b / gradientAccumulation
                let batches = (0..<gradientAccumulation).map { k in
                    globalRows(step: s, rank: comm.rank, ranks: comm.size, perRankBatch: b, offset: k * micro, count: micro)
                }.map { rows in makeBatch(rows: rows, inputShape: inputShape, classes: classes) }
                _ = trainer.step(batches)
            }
            return Array(trainer.parameters.valueBuffer)
        case .gan:
            var rng = RandomGenerator(seed: modelSeed)
            let g = Sequential([Dense(16, activation: .leakyRelu(alpha: 0.2)), Dense(12, activation: .tanh)])
            let d = Sequential([Dense(16, activation: .leakyRelu(alpha: 0.2)), Dense(1, activation: .sigmoid)])
            _ = try g.build(inputShape: [8], rng: &rng)
            _ = try d.build(inputShape: [12], rng: &rng)
            let trainer = GANTrainer(generator: g, discriminator: d, latentDimension: 8, seed: seed, comm: comm, options: options,
                                     generatorOptimizer: { Adam($0, learningRate: 2e-3, beta1: 0.5) },
                                     discriminatorOptimizer: { Adam($0, learningRate: 2e-3, beta1: 0.5) })
            trainer.timeline = timeline
            for s in 0..<steps {
                let rows = globalRows(step: s, rank: comm.rank, ranks: comm.size, perRankBatch: b, offset: 0, count: b)
                let real = Tensor(uninitialized: [rows.count, 12])
                for (j, row) in rows.enumerated() {
                    var r = RandomGenerator(seed: 7, stream: [UInt64(row)])
                    for k in 0..<12 { real.data[j * 12 + k] = ftanh(2 * r.nextNormal()) }
                }
                _ = trainer.step(real: real)
            }
            return Array(trainer.generatorParameters.valueBuffer) + Array(trainer.discriminatorParameters.valueBuffer)
        }
    }

    private func buildClassifier(seed: UInt64) throws -> (Layer, [Int], Int) {
        switch self {
        case .resnet:
            let m = Sequential([Conv2D(4, kernelSize: 3, padding: .same, useBias: false), BatchNormalization(momentum: 0.9),
                                ActivationLayer(.relu), ResidualBlock(filters: 4),
                                ResidualBlock(filters: 6, strides: 2, shortcut: .padding), ResidualBlock(filters: 8, strides: 2),
                                GlobalAveragePooling2D(), Dense(5)])
            try m.build(inputShape: [8, 8, 3], seed: seed)
            return (m, [8, 8, 3], 5)
        case .cnn:
            let m = Sequential([Conv2D(6, kernelSize: 3, activation: .relu), MaxPooling2D(2),
                                Conv2D(8, kernelSize: 3, padding: .same, activation: .relu), Flatten(), Dense(5)])
            try m.build(inputShape: [10, 10, 3], seed: seed)
            return (m, [10, 10, 3], 5)
        default:
            let m = Sequential([Embedding(20, 16),
                                TransformerEncoderBlock(embedDim: 16, numHeads: 2, keyDim: 8, ffDim: 32, dropout: 0),
                                GlobalAveragePooling1D(), Dense(3)])
            try m.build(inputShape: [6], seed: seed)
            return (m, [6], 3)
        }
    }

    /// Global sample indices of rank `rank`'s rows `offset..<offset+count` in step `step`.
    private func globalRows(step: Int, rank: Int, ranks: Int, perRankBatch b: Int, offset: Int, count: Int) -> [Int] {
        (offset..<(offset + count)).map { j in step * ranks * b + ranks * j + rank }
    }

    /// Deterministic synthetic samples: inputs and labels are functions of the global index.
    private func makeBatch(rows: [Int], inputShape: [Int], classes: Int) -> (inputs: Tensor, targets: Tensor) {
        let size = inputShape.reduce(1, *)
        let x = Tensor(uninitialized: [rows.count] + inputShape)
        let y = Tensor(uninitialized: [rows.count])
        for (j, row) in rows.enumerated() {
            var r = RandomGenerator(seed: 11, stream: [UInt64(row)])
            let label = Int(r.next() % UInt64(classes))
            y.data[j] = Float(label)
            for k in 0..<size {
                if self == .transformer {
                    x.data[j * size + k] = Float((Int(r.next() % 7) + label * 5 + k) % 20)
                } else {
                    x.data[j * size + k] = r.nextUniform() + (k % classes == label ? 0.5 : 0)
                }
            }
        }
        return (x, y)
    }
}

/// Largest |a − b| / max(|b|, 0.01 · max|b|): the relative difference, with a floor at 1% of
/// the largest parameter so that values that are nearly zero (where float rounding of
/// differently ordered sums is all there is) do not dominate — numpy's `allclose` idea.
public func maxRelativeDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "parameter counts differ: \(a.count) vs \(b.count)")
    let floor = 0.01 * (b.map { abs($0) }.max() ?? 0)
    var m: Float = 0
    for i in a.indices { m = max(m, abs(a[i] - b[i]) / max(abs(b[i]), floor, .leastNormalMagnitude)) }
    return m
}
