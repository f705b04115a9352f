import TensorCore

/// Sentence pairs split into training, validation and test sets, with word vocabularies built
/// from the training set alone and fixed-length id sequences for the model.
///
/// The split is by source sentence: Tatoeba often gives one English sentence several French
/// translations, and all pairs of one source go to the same set, so the validation and test
/// sources are never seen in training, and each of them is scored against all its translations
/// (multi-reference BLEU). The distinct sources are shuffled by (seed, "spli") and the last
/// `round(n · testFraction)` go to test, the `round(n · validationFraction)` before them to
/// validation, the rest to training.
///
/// Sequences: the source is its first `sourceLength − 1` tokens and `<eos>`; the decoder input
/// `<bos>` and the first `targetLength − 1` target tokens; the decoder target those tokens and
/// `<eos>`; each padded with `<pad>` (0) to its length. Longer sentences are cut.
public struct TranslationData: Sendable {
    public let pairs: [SentencePair]
    /// Pair indices of each set, in file order.
    public let train: [Int]
    public let validation: [Int]
    public let test: [Int]
    public let sourceVocabulary: WordVocabulary
    public let targetVocabulary: WordVocabulary
    public let sourceLength: Int
    public let targetLength: Int

    public init(pairs: [SentencePair], validationFraction: Double, testFraction: Double, seed: UInt64,
                sourceLength: Int, targetLength: Int, minCount: Int = 1, maxVocabulary: Int? = nil) {
        precondition(sourceLength >= 1 && targetLength >= 1, "sequence lengths must be positive")
        self.pairs = pairs
        self.sourceLength = sourceLength
        self.targetLength = targetLength
        var sources: [[String]] = []
        var group: [[String]: Int] = [:]
        let groupOfPair = pairs.map { p in
            if let g = group[p.source] { return g }
            group[p.source] = sources.count
            sources.append(p.source)
            return sources.count - 1
        }
        var rng = RandomGenerator(seed: seed, stream: [StreamPurpose.split.rawValue])
        let order = rng.permutation(sources.count)
        let n = sources.count
        let testCount = Int((Double(n) * testFraction).rounded()), validationCount = Int((Double(n) * validationFraction).rounded())
        var setOfGroup = [Int](repeating: 0, count: n)
        for (position, g) in order.enumerated() {
            setOfGroup[g] = position >= n - testCount ? 2 : position >= n - testCount - validationCount ? 1 : 0
        }
        let sets = (0..<3).map { s in pairs.indices.filter { setOfGroup[groupOfPair[$0]] == s } }
        (train, validation, test) = (sets[0], sets[1], sets[2])
        sourceVocabulary = WordVocabulary(counting: sets[0].map { pairs[$0].source }, minCount: minCount, maxSize: maxVocabulary)
        targetVocabulary = WordVocabulary(counting: sets[0].map { pairs[$0].target }, minCount: minCount, maxSize: maxVocabulary)
    }

    /// The source ids (padded to `sourceLength`) of a tokenised sentence.
    public func sourceIDs(_ tokens: [String]) -> [Int32] {
        padded(sourceVocabulary.encode(Array(tokens.prefix(sourceLength - 1))) + [WordVocabulary.end], to: sourceLength)
    }

    /// Model inputs [n, sourceLength + targetLength] (source ids, then decoder input ids) and
    /// targets [n, targetLength] for the pairs at `indices`, ids as Floats.
    public func batch(_ indices: some Collection<Int>) -> (inputs: Tensor, targets: Tensor) {
        let width = sourceLength + targetLength
        let inputs = Tensor(uninitialized: [indices.count, width]), targets = Tensor(uninitialized: [indices.count, targetLength])
        for (row, i) in indices.enumerated() {
            let tokens = targetVocabulary.encode(Array(pairs[i].target.prefix(targetLength - 1)))
            let decoderInput = padded([WordVocabulary.begin] + tokens, to: targetLength)
            let decoderTarget = padded(tokens + [WordVocabulary.end], to: targetLength)
            for (j, id) in (sourceIDs(pairs[i].source) + decoderInput).enumerated() { inputs.data[row * width + j] = Float(id) }
            for (j, id) in decoderTarget.enumerated() { targets.data[row * targetLength + j] = Float(id) }
        }
        return (inputs, targets)
    }

    /// The distinct source sentences among the pairs at `indices`, in order of first appearance,
    /// each with all its translations there (the references of multi-reference BLEU).
    public func sentences(_ indices: [Int]) -> [(source: [String], references: [[String]])] {
        var out: [(source: [String], references: [[String]])] = []
        var slot: [[String]: Int] = [:]
        for i in indices {
            let p = pairs[i]
            if let k = slot[p.source] {
                out[k].references.append(p.target)
            } else {
                slot[p.source] = out.count
                out.append((p.source, [p.target]))
            }
        }
        return out
    }

    private func padded(_ ids: [Int32], to length: Int) -> [Int32] {
        ids + [Int32](repeating: WordVocabulary.pad, count: length - ids.count)
    }
}
