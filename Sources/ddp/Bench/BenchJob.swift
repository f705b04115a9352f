import Autograd
import Comm
import NN
import Optim
import TensorCore
import Training

/// The job models `ddp bench` times, at the peer-benchmark shapes of `bench/peers/models.md`.
enum BenchModel: String, CaseIterable {
    case cnn, transformer, transformerK64 = "transformer-k64", gan

    var defaultBatch: Int { self == .transformer || self == .transformerK64 ? 32 : 64 }

    /// The parameter count of models.md, which the Keras and PyTorch benchmarks assert too.
    var expectedParameters: Int {
        switch self {
        case .cnn: return 167_562
        case .transformer: return 353_602
        case .transformerK64: return 403_330
        case .gan: return 2_019_857
        }
    }

    /// Forward multiply-adds per sample in models.md (the GAN's: generator, then discriminator).
    var expectedMultiplyAdds: [Int] {
        switch self {
        case .cnn: return [4_040_704]
        case .transformer: return [6_291_584]
        case .transformerK64: return [18_874_496]
        case .gan: return [1_483_776, 532_736]
        }
    }
}

/// A model that does not match the shapes the peers were measured at.
struct BenchModelMismatch: Error, CustomStringConvertible {
    let description: String
}

/// One model set up for timing: its trainer on one fixed synthetic batch, and a closure running
/// one full training step as `ddp train` runs it (forward, loss, backward with bucketed gradient
/// averaging across ranks, Adam update, metrics reduction).
struct BenchJob {
    let model: BenchModel
    let parameters: Int
    /// Analytic training FLOPs of one step on one rank (models.md: 3 × 2 × multiply-adds per
    /// sample; for the GAN B × (8·G + 16·D)).
    let flopsPerStep: Double
    let loss: String
    /// Each network's gradient averaging, by name.
    let networks: [(name: String, parallel: DataParallel)]
    let step: () -> Void
    let attach: (Timeline?) -> Void

    static func make(_ model: BenchModel, batch b: Int, comm: Communicator, options: ParallelOptions = ParallelOptions()) throws -> BenchJob {
        var rng = RandomGenerator(seed: 42, stream: [0x6265_6E63, UInt64(comm.rank)])
        switch model {
        case .cnn, .transformer, .transformerK64:
            let net = model == .cnn ? Sequential.seedCNN(name: "cnn") : Sequential.benchTransformer(keyDim: model == .transformer ? 16 : 64)
            let inputShape = model == .cnn ? [32, 32, 3] : [128]
            try net.build(inputShape: inputShape, seed: 42)
            try check(model, parameters: net.parameterCount, multiplyAdds: [net.forwardMultiplyAdds()])
            let x = Tensor(uninitialized: [b] + inputShape)
            let y: Tensor, loss: Loss
            if model == .cnn {
                // Keras' set-up in models.md: softmax output, one-hot labels, categorical cross-entropy.
                rng.fillUniform(x, low: 0, high: 1)
                y = Tensor(zeros: [b, 10])
                for i in 0..<b { y.data[i * 10 + Int(rng.next() % 10)] = 1 }
                loss = .categoricalCrossentropy(fromLogits: false)
            } else {
                for i in 0..<x.count { x.data[i] = Float(rng.next() % 5000) }
                y = Tensor(uninitialized: [b])
                for i in 0..<b { y.data[i] = Float(rng.next() % 2) }
                loss = .sparseCategoricalCrossentropy(fromLogits: false)
            }
            let trainer = DataParallelTrainer(model: net, loss: loss, metric: loss.accuracyMetric, comm: comm, options: options) {
                Adam($0, learningRate: 1e-3)
            }
            return BenchJob(model: model, parameters: net.parameterCount,
                            flopsPerStep: 6 * Double(net.forwardMultiplyAdds()) * Double(b), loss: loss.description,
                            networks: [("", trainer.parallel)],
                            step: { _ = trainer.step([(x, y)]) }, attach: { trainer.timeline = $0 })
        case .gan:
            let g = Sequential.seedGenerator(), d = Sequential.seedDiscriminator()
            var weights = RandomGenerator(seed: 42)
            _ = try g.build(inputShape: [100], rng: &weights)
            _ = try d.build(inputShape: [784], rng: &weights)
            let macs = [g.forwardMultiplyAdds(), d.forwardMultiplyAdds()]
            try check(model, parameters: g.parameterCount + d.parameterCount, multiplyAdds: macs)
            let trainer = GANTrainer(generator: g, discriminator: d, latentDimension: 100, seed: 42, comm: comm, options: options,
                                     generatorOptimizer: { Adam($0, learningRate: 2e-4, beta1: 0.5) },
                                     discriminatorOptimizer: { Adam($0, learningRate: 2e-4, beta1: 0.5) })
            // models.md: "real" images are a fixed batch of tanh(N(0, 1)) vectors.
            let real = Tensor(uninitialized: [b, 784])
            rng.fillNormal(real)
            for i in 0..<real.count { real.data[i] = ftanh(real.data[i]) }
            return BenchJob(model: model, parameters: g.parameterCount + d.parameterCount,
                            flopsPerStep: Double(b) * Double(8 * macs[0] + 16 * macs[1]), loss: "binary_crossentropy",
                            networks: [("discriminator", trainer.discriminatorParallel), ("generator", trainer.generatorParallel)],
                            step: { _ = trainer.step(real: real) }, attach: { trainer.timeline = $0 })
        }
    }

    /// Refuses a model whose parameters or multiply-adds differ from models.md: its figures
    /// would not compare with the peers'.
    static func check(_ model: BenchModel, parameters: Int, multiplyAdds: [Int]) throws {
        guard parameters == model.expectedParameters, multiplyAdds == model.expectedMultiplyAdds else {
            throw BenchModelMismatch(description: "\(model.rawValue): \(parameters) parameters and \(multiplyAdds) forward multiply-adds per sample; bench/peers/models.md has \(model.expectedParameters) and \(model.expectedMultiplyAdds)")
        }
    }
}
