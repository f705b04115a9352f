import Autograd
import Comm
import Datasets
import NN
import Optim
import TensorCore

/// A causal character-level language model on a text corpus, in one of two ways:
///
/// - Windows (a Transformer): a training sample is a window of `sequenceLength` characters
///   and its targets, the same window shifted by one; the sampler shuffles the non-overlapping
///   window slots of the training split, and with `randomOffsets` each window starts at a random
///   place within its slot, drawn from (seed, step, sample index), so that it does not depend
///   on how samples are split across ranks and a resumed run draws the same windows.
/// - Streams (a model with stateful LSTMs): truncated backpropagation through time. The
///   training split is cut into one contiguous stream per row of the global batch
///   (`TextStreams`); step s of an epoch reads chunk s of every stream and the LSTMs carry each
///   stream's state from one chunk to the next, starting from zeros each epoch (shifted by a
///   random offset per epoch with `randomOffsets`). Rank r holds streams r, r + N, r + 2N…, so
///   N ranks × b rows train like one rank × N·b. The carried state goes into checkpoints.
///   Validation reads `evaluationBatch` streams of the validation split the same way, so each
///   character is predicted from all the text before it in its stream.
public final class LanguageModelWorkload: SingleNetworkWorkload {
    public let trainer: DataParallelTrainer
    public let vocabulary: CharacterVocabulary
    public let trainWindows: TokenWindows
    public let validationWindows: TokenWindows
    public var evaluationSplit: String { "validation" }
    public let sequenceLength: Int
    public let microBatch: Int
    public let evaluationBatch: Int
    public let randomOffsets: Bool
    public let seed: UInt64
    /// The model's stateful LSTMs; non-empty means training on streams.
    public let statefulLayers: [LSTM]
    /// Training streams (stateful models only).
    public let trainStreams: TextStreams?
    /// The training streams this rank holds (r, r + N, r + 2N…), fixed for the run.
    private let myTrainStreams: [Int]
    /// Characters generated for the text sample at each evaluation.
    public var sampleLength = 300
    public var trainSampleCount: Int {
        trainStreams.map { $0.count * $0.chunksPerStream } ?? trainWindows.startCount / sequenceLength
    }
    public var samplesPerStep: Int { microBatch * trainer.options.gradientAccumulation }

    public init(trainer: DataParallelTrainer, vocabulary: CharacterVocabulary, train: ArraySlice<Int32>,
                validation: ArraySlice<Int32>, sequenceLength: Int, microBatch: Int, evaluationBatch: Int,
                randomOffsets: Bool = true, seed: UInt64) throws {
        self.trainer = trainer
        self.vocabulary = vocabulary
        self.sequenceLength = sequenceLength
        trainWindows = TokenWindows(tokens: train, blockSize: sequenceLength)
        validationWindows = TokenWindows(tokens: validation, blockSize: sequenceLength)
        self.microBatch = microBatch
        self.evaluationBatch = evaluationBatch
        self.randomOffsets = randomOffsets
        self.seed = seed
        statefulLayers = trainer.model.allLayers.compactMap { $0 as? LSTM }.filter(\.stateful)
        guard !statefulLayers.isEmpty else { trainStreams = nil; myTrainStreams = []; return }
        guard trainer.options.gradientAccumulation == 1 else {
            throw TrainingError("a stateful LSTM carries one state per batch row: train it without gradient accumulation")
        }
        let streams = microBatch * trainer.comm.size
        guard let t = TextStreams(tokenCount: train.count, count: streams, chunkLength: sequenceLength, offsetReserve: randomOffsets),
              TextStreams(tokenCount: validation.count, count: evaluationBatch, chunkLength: sequenceLength, offsetReserve: false) != nil else {
            throw TrainingError("the text is too short for \(streams) training streams and \(evaluationBatch) validation streams of at least \(sequenceLength) characters")
        }
        trainStreams = t
        myTrainStreams = Training.rankShare(of: streams, rank: trainer.comm.rank, ranks: trainer.comm.size)
    }


    public func trainStep(_ indices: ArraySlice<Int>, step: Int) -> StepLog {
        guard let streams = trainStreams else {
            return trainer.trainStep(microBatches(indices, size: microBatch) { windows(trainWindows, $0.map { trainingStart($0, step: step) }) },
                                     seed: seed, step: step)
        }
        let chunk = step % streams.chunksPerStream, epoch = step / streams.chunksPerStream
        if chunk == 0 { resetStates() }
        var offset = 0
        if randomOffsets {
            var rng = RandomGenerator(seed: seed, stream: [StreamPurpose.sampling.rawValue, UInt64(epoch)])
            offset = Int(rng.next() % UInt64(sequenceLength))
        }
        let starts = myTrainStreams.map { streams.start(stream: $0, chunk: chunk, offset: offset) }
        return trainer.trainStep([windows(trainWindows, starts)], seed: seed, step: step)
    }

    /// Where the training window of sample `index` starts at `step`.
    func trainingStart(_ index: Int, step: Int) -> Int {
        guard randomOffsets else { return index * sequenceLength }
        var rng = RandomGenerator(seed: seed, stream: [StreamPurpose.sampling.rawValue, UInt64(step), UInt64(index)])
        return index * sequenceLength + Int(rng.next() % UInt64(sequenceLength))
    }


    /// Mean loss per character over the validation split: non-overlapping windows, or streams
    /// read chunk by chunk with the state carried (the training state is kept aside meanwhile).
    public func evaluate() -> EvaluationLog? {
        guard trainStreams != nil else {
            let count = validationWindows.startCount / sequenceLength + (validationWindows.startCount % sequenceLength == 0 ? 0 : 1)
            let mine = rankShare(of: count)
            let batches = stride(from: 0, to: mine.count, by: evaluationBatch).lazy.map { s in
                self.windows(self.validationWindows, mine[s..<min(s + self.evaluationBatch, mine.count)].map { $0 * self.sequenceLength })
            }
            let r = trainer.evaluate(batches)
            return EvaluationLog(loss: r.loss, metrics: [], samples: r.samples)
        }
        let streams = TextStreams(tokenCount: validationWindows.tokens.count, count: evaluationBatch,
                                  chunkLength: sequenceLength, offsetReserve: false)!
        let saved = statefulLayers.map(\.states)
        resetStates()
        defer { for (layer, s) in zip(statefulLayers, saved) { layer.states = s } }
        let mine = rankShare(of: streams.count)
        let batches = (0..<(mine.isEmpty ? 0 : streams.chunksPerStream)).lazy.map { c in
            self.windows(self.validationWindows, mine.map { streams.start(stream: $0, chunk: c) })
        }
        let r = trainer.evaluate(batches)
        return EvaluationLog(loss: r.loss, metrics: [], samples: r.samples)
    }

    private func resetStates() { for layer in statefulLayers { layer.resetStates() } }

    public var carriedStateShapes: [(name: String, shape: [Int])] {
        guard let streams = trainStreams else { return [] }
        return statefulLayers.flatMap { l in ["hidden", "cell"].map { ("\(l.name)/\($0)", [streams.count, l.units]) } }
    }

    /// The stateful LSTMs' carried states of all training streams ([streams, units] each),
    /// gathered from every rank: rank q broadcasts the rows of its streams.
    public func carriedState() -> [(name: String, tensor: Tensor)] {
        guard let streams = trainStreams else { return [] }
        var out: [(name: String, tensor: Tensor)] = []
        for layer in statefulLayers {
            guard let states = layer.states else { return [] }
            for (part, local) in [("hidden", states.hidden), ("cell", states.cell)] {
                let all = Tensor(zeros: [streams.count, layer.units])
                for q in 0..<comm.size {
                    let rows = rankShare(of: streams.count, rank: q)
                    let block = Tensor(uninitialized: [rows.count, layer.units])
                    if q == comm.rank { block.data.update(from: local.data, count: block.count) }
                    comm.broadcast(UnsafeMutableBufferPointer(start: block.data, count: block.count), root: q)
                    for (j, g) in rows.enumerated() { (all.data + g * layer.units).update(from: block.data + j * layer.units, count: layer.units) }
                }
                out.append(("\(layer.name)/\(part)", all))
            }
        }
        return out
    }

    /// Rank 0 reads the carried states from `tensors` (nil on the other ranks) and broadcasts
    /// them; each rank keeps the rows of its streams. No states saved: start from zeros.
    public func restoreCarriedState(_ tensors: [String: Tensor]?) {
        guard let streams = trainStreams else { return }
        var present: [Float] = [tensors?.isEmpty == false ? 1 : 0]
        present.withUnsafeMutableBufferPointer { comm.broadcast($0, root: 0) }
        guard present[0] == 1 else { resetStates(); return }
        let mine = rankShare(of: streams.count)
        for layer in statefulLayers {
            var parts: [Tensor] = []
            for part in ["hidden", "cell"] {
                let all = tensors?["\(layer.name)/\(part)"] ?? Tensor(zeros: [streams.count, layer.units])
                comm.broadcast(UnsafeMutableBufferPointer(start: all.data, count: all.count), root: 0)
                let local = Tensor(uninitialized: [mine.count, layer.units])
                for (j, g) in mine.enumerated() { (local.data + j * layer.units).update(from: all.data + g * layer.units, count: layer.units) }
                parts.append(local)
            }
            layer.states = (parts[0], parts[1])
        }
    }

    /// Text generated from a newline, sampling each next character from the model's softmax
    /// with a fixed-seed stream (the same text on every rank).
    public func sample(step: Int) -> Sample? {
        .text(generate(length: sampleLength, prompt: "\n", seed: seed &+ UInt64(step)))
    }

    public func generate(length: Int, prompt: String, seed: UInt64, temperature: Float = 1) -> String {
        trainer.model.setTraining(false)
        // Each next character is predicted from its whole context window afresh.
        for layer in statefulLayers { layer.stateful = false }
        defer {
            trainer.model.setTraining(true)
            for layer in statefulLayers { layer.stateful = true }
        }
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
