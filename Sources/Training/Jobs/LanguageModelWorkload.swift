import Autograd
import Comm
import Datasets
import NN
import Optim
import TensorCore

/// A causal character-level language model on a text corpus. A training sample is a window of
/// `sequenceLength` characters and its targets, the same window shifted by one; the sampler
/// shuffles the non-overlapping windows of the training split.
public final class LanguageModelWorkload: Workload {
    public let trainer: DataParallelTrainer
    public let vocabulary: CharacterVocabulary
    public let trainWindows: TokenWindows
    public let validationWindows: TokenWindows
    public let sequenceLength: Int
    public let microBatch: Int
    public let evaluationBatch: Int
    public let seed: UInt64
    /// Characters generated for the text sample at each evaluation.
    public var sampleLength = 300
    public var comm: Communicator { trainer.comm }
    public var timeline: Timeline? {
        get { trainer.timeline }
        set { trainer.timeline = newValue }
    }
    public var trainSampleCount: Int { trainWindows.startCount / sequenceLength }
    public var samplesPerStep: Int { microBatch * trainer.options.gradientAccumulation }

    public init(trainer: DataParallelTrainer, vocabulary: CharacterVocabulary, train: ArraySlice<Int32>,
                validation: ArraySlice<Int32>, sequenceLength: Int, microBatch: Int, evaluationBatch: Int, seed: UInt64) {
        self.trainer = trainer
        self.vocabulary = vocabulary
        self.sequenceLength = sequenceLength
        trainWindows = TokenWindows(tokens: train, blockSize: sequenceLength)
        validationWindows = TokenWindows(tokens: validation, blockSize: sequenceLength)
        self.microBatch = microBatch
        self.evaluationBatch = evaluationBatch
        self.seed = seed
    }

    public var networks: [Network] { [trainer.network] }

    public func trainStep(_ indices: ArraySlice<Int>, step: Int) -> StepLog {
        trainer.trainStep(microBatches(indices, size: microBatch) { windows(trainWindows, $0.map { $0 * sequenceLength }) },
                          seed: seed, step: step)
    }

    /// Mean loss per character over the validation split's non-overlapping windows.
    public func evaluate() -> EvaluationLog? {
        let count = validationWindows.startCount / sequenceLength + (validationWindows.startCount % sequenceLength == 0 ? 0 : 1)
        let mine = Array(stride(from: comm.rank, to: max(count, 0), by: comm.size))
        let batches = stride(from: 0, to: mine.count, by: evaluationBatch).lazy.map { s in
            self.windows(self.validationWindows, mine[s..<min(s + self.evaluationBatch, mine.count)].map { $0 * self.sequenceLength })
        }
        let r = trainer.evaluate(batches)
        return EvaluationLog(loss: r.loss, metrics: [], samples: r.samples)
    }

    /// Text generated from a newline, sampling each next character from the model's softmax
    /// with a fixed-seed stream (the same text on every rank).
    public func sample(step: Int) -> Sample? {
        .text(generate(length: sampleLength, prompt: "\n", seed: seed &+ UInt64(step)))
    }

    public func generate(length: Int, prompt: String, seed: UInt64, temperature: Float = 1) -> String {
        trainer.model.setTraining(false)
        defer { trainer.model.setTraining(true) }
        var ids = (try? vocabulary.encode(prompt)) ?? [0]
        if ids.isEmpty { ids = [0] }
        var rng = RandomGenerator(seed: seed, stream: [0x7361_6D70])
        let v = vocabulary.count
        withoutGradient {
            for _ in 0..<length {
                let context = ids.suffix(sequenceLength)
                let x = Tensor(context.map { Float($0) }, shape: [1, context.count])
                let logits = trainer.model(Variable(x)).value
                let last = logits.data + (context.count - 1) * v
                var m = -Float.infinity
                for j in 0..<v { m = max(m, last[j] / temperature) }
                var p = [Float](repeating: 0, count: v)
                var sum: Float = 0
                for j in 0..<v { p[j] = fexp(last[j] / temperature - m); sum += p[j] }
                var u = rng.nextUniform() * sum
                var next = v - 1
                for j in 0..<v { u -= p[j]; if u <= 0 { next = j; break } }
                ids.append(Int32(next))
            }
        }
        return vocabulary.decode(ids.dropFirst(max(1, prompt.unicodeScalars.count)))
    }

    /// Inputs (ids as Float) and targets for windows starting at `starts`.
    func windows(_ w: TokenWindows, _ starts: [Int]) -> (inputs: Tensor, targets: Tensor) {
        let x = Tensor(uninitialized: [starts.count, sequenceLength])
        let y = Tensor(uninitialized: [starts.count, sequenceLength])
        w.fill(starts.map { min($0, w.startCount - 1) }, inputs: x, targets: y)
        return (x, y)
    }
}
