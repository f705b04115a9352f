import Foundation

/// Corpus BLEU-4 (Papineni et al. 2002) over already tokenised sentences, with one or more
/// references per sentence: clipped n-gram matches and hypothesis n-gram counts summed over the
/// corpus for n = 1...4, the geometric mean of the four precisions, times the brevity penalty
/// exp(1 − r/c) when the hypotheses' total length c is below r, the sum of each sentence's
/// reference length closest to its hypothesis (the shorter one on a tie). Not smoothed: a
/// corpus with no matching n-gram of some order scores 0. This is sacrebleu's
/// `corpus_bleu(..., tokenize="none", smooth_method="none")` on the space-joined tokens.
///
/// The statistics are sums, so ranks that each score a share of the sentences combine them
/// with one allreduce (`values` / `init(values:)`).
public struct BLEUStatistics: Equatable, Sendable {
    public static let order = 4
    /// Clipped matches and hypothesis n-grams for n = 1...4.
    public var matches = [Int](repeating: 0, count: order)
    public var totals = [Int](repeating: 0, count: order)
    public var hypothesisLength = 0
    public var referenceLength = 0

    public init() {}

    /// Adds one sentence: its hypothesis against its references.
    public mutating func add<T: Hashable>(hypothesis: [T], references: [[T]]) {
        precondition(!references.isEmpty, "BLEU needs at least one reference per sentence")
        hypothesisLength += hypothesis.count
        let c = hypothesis.count
        referenceLength += references.map(\.count).min { (abs($0 - c), $0) < (abs($1 - c), $1) }!
        for n in 1...Self.order {
            let counts = Self.ngrams(hypothesis, n)
            var maxReference: [ArraySlice<T>: Int] = [:]
            for r in references { for (g, k) in Self.ngrams(r, n) { maxReference[g] = max(maxReference[g] ?? 0, k) } }
            totals[n - 1] += max(c - n + 1, 0)
            matches[n - 1] += counts.reduce(0) { $0 + min($1.value, maxReference[$1.key] ?? 0) }
        }
    }

    static func ngrams<T: Hashable>(_ tokens: [T], _ n: Int) -> [ArraySlice<T>: Int] {
        var counts: [ArraySlice<T>: Int] = [:]
        if tokens.count >= n { for i in 0...(tokens.count - n) { counts[tokens[i..<(i + n)], default: 0] += 1 } }
        return counts
    }

    /// BLEU in [0, 1] (multiply by 100 for the usual scale).
    public var score: Double {
        guard hypothesisLength > 0, !zip(matches, totals).contains(where: { $0.0 == 0 || $0.1 == 0 }) else { return 0 }
        let logPrecision = zip(matches, totals).reduce(0.0) { $0 + log(Double($1.0) / Double($1.1)) } / Double(Self.order)
        let brevity = hypothesisLength < referenceLength ? 1 - Double(referenceLength) / Double(hypothesisLength) : 0
        return exp(logPrecision + brevity)
    }

    /// The statistics as numbers to sum across ranks.
    public var values: [Double] { (matches + totals + [hypothesisLength, referenceLength]).map(Double.init) }

    public init(values v: [Double]) {
        precondition(v.count == 2 * Self.order + 2, "BLEU statistics are \(2 * Self.order + 2) numbers")
        let ints = v.map { Int($0.rounded()) }
        matches = Array(ints[0..<Self.order])
        totals = Array(ints[Self.order..<(2 * Self.order)])
        hypothesisLength = ints[2 * Self.order]
        referenceLength = ints[2 * Self.order + 1]
    }
}
