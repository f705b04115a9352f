/// Per-feature standardisation (scikit-learn's `StandardScaler`): x ↦ (x − mean) / std, with
/// the mean and the population standard deviation fitted on chosen rows only (the training
/// split), so nothing about the held-out rows leaks into training. A constant feature (std
/// zero up to rounding) keeps std 1.
public struct Standardizer: Sendable, Equatable {
    public let mean: [Double]
    public let std: [Double]

    public init(mean: [Double], std: [Double]) {
        self.mean = mean
        self.std = std
    }

    /// Fits on the rows at `rows` of a row-major `features` table with `columns` columns.
    public init(fitting features: [Float], columns: Int, rows: [Int]) {
        var mean = [Double](repeating: 0, count: columns), square = [Double](repeating: 0, count: columns)
        for r in rows { for c in 0..<columns { mean[c] += Double(features[r * columns + c]) } }
        let n = Double(max(rows.count, 1))
        for c in 0..<columns { mean[c] /= n }
        for r in rows {
            for c in 0..<columns {
                let d = Double(features[r * columns + c]) - mean[c]
                square[c] += d * d
            }
        }
        self.init(mean: mean, std: zip(square, mean).map { s, m in
            let std = (s / n).squareRoot()
            return std > 1e-12 * max(1, abs(m)) ? std : 1
        })
    }

    /// Standardises every row of `features` in place.
    public func apply(to features: inout [Float]) {
        let columns = mean.count
        for i in features.indices {
            let c = i % columns
            features[i] = Float((Double(features[i]) - mean[c]) / std[c])
        }
    }
}
