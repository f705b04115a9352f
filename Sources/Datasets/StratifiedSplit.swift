import TensorCore

extension StreamPurpose {
    /// The choice of held-out rows or labelled nodes (`StratifiedSplit`), shared by all ranks.
    public static let split = StreamPurpose(rawValue: 0x7370_6C69)       // "spli"
}

/// Splits the rows of a labelled data set class by class, so both parts keep the class shares
/// (scikit-learn's `stratify=y`).
public enum StratifiedSplit {
    /// For each class c (labels 0..<classCount) with n_c rows, `take(n_c)` of them, chosen by a
    /// permutation seeded by (seed, c), go to the first list and the others to the second; both
    /// lists are in increasing order. The same labels and seed give the same split everywhere.
    public static func split(labels: [Int32], classCount: Int, seed: UInt64, take: (Int) -> Int) -> (taken: [Int], rest: [Int]) {
        var byClass = [[Int]](repeating: [], count: classCount)
        for (i, y) in labels.enumerated() { byClass[Int(y)].append(i) }
        var taken: [Int] = [], rest: [Int] = []
        for (c, rows) in byClass.enumerated() {
            var rng = RandomGenerator(seed: seed, stream: [StreamPurpose.split.rawValue, UInt64(c)])
            let order = rng.permutation(rows.count).map { rows[$0] }
            let k = min(max(take(rows.count), 0), rows.count)
            taken += order[..<k]
            rest += order[k...]
        }
        return (taken.sorted(), rest.sorted())
    }

    /// A train / test split holding out `round(n_c · testFraction)` rows of each class.
    public static func trainTest(labels: [Int32], classCount: Int, testFraction: Double, seed: UInt64) -> (train: [Int], test: [Int]) {
        let (test, train) = split(labels: labels, classCount: classCount, seed: seed) { Int((Double($0) * testFraction).rounded()) }
        return (train, test)
    }
}
