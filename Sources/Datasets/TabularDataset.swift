/// Rows of numeric features with a binary label, read from a CSV table: the label column is
/// chosen by name, some columns may be ignored, every other column is a feature.
public struct TabularDataset: Sendable {
    /// The file the rows came from.
    public let source: String
    public let featureNames: [String]
    /// count × featureCount values, row-major.
    public var features: [Float]
    /// 0 or 1 per row.
    public let labels: [Int32]

    public init(source: String, featureNames: [String], features: [Float], labels: [Int32]) {
        precondition(features.count == labels.count * featureNames.count,
                     "\(source): \(features.count) values for \(labels.count) rows of \(featureNames.count) features")
        self.source = source
        self.featureNames = featureNames
        self.features = features
        self.labels = labels
    }

    /// The rows of `table`: `label` names the label column (each value 0 or 1), `ignoring` the
    /// columns to leave out (`""` is an unnamed column, such as the row index pandas writes).
    /// A field that is not a finite number is a `.badField` error naming line and column.
    public init(_ table: CSVTable, label: String, ignoring ignored: [String] = []) throws {
        let labelColumn = try table.column(label)
        for name in ignored { _ = try table.column(name) }
        let featureColumns = table.header.indices.filter { $0 != labelColumn && !ignored.contains(table.header[$0]) }
        guard !featureColumns.isEmpty else {
            throw DataError(.badHeader, file: table.file, at: "line \(table.headerLine)", "at least one feature column expected besides the label and the ignored columns")
        }
        var features: [Float] = []
        features.reserveCapacity(table.records.count * featureColumns.count)
        var labels: [Int32] = []
        labels.reserveCapacity(table.records.count)
        for (r, record) in table.records.enumerated() {
            for c in featureColumns {
                guard let v = Double(record[c]), v.isFinite else {
                    throw DataError(.badField, file: table.file, at: table.location(record: r, column: c),
                                    "a finite number expected, found \"\(record[c])\"")
                }
                features.append(Float(v))
            }
            guard let y = Double(record[labelColumn]), y == 0 || y == 1 else {
                throw DataError(.valueOutOfRange, file: table.file, at: table.location(record: r, column: labelColumn),
                                "a class label 0 or 1 expected, found \"\(record[labelColumn])\"")
            }
            labels.append(Int32(y))
        }
        self.init(source: table.file, featureNames: featureColumns.map { table.header[$0] }, features: features, labels: labels)
    }

    public var count: Int { labels.count }
    public var featureCount: Int { featureNames.count }

    /// Rows per class: [negatives, positives].
    public var classCounts: [Int] {
        let positives = labels.reduce(0) { $0 + Int($1) }
        return [count - positives, positives]
    }

    /// Writes the features of the rows at `indices` into the first rows of `batch`
    /// ([≥ indices.count, featureCount]) and their labels into `targets` (one per row).
    public func fill(_ indices: some Collection<Int>, features batch: UnsafeMutablePointer<Float>, targets: UnsafeMutablePointer<Float>) {
        let d = featureCount
        features.withUnsafeBufferPointer { f in
            for (row, i) in indices.enumerated() {
                (batch + row * d).update(from: f.baseAddress! + i * d, count: d)
                targets[row] = Float(labels[i])
            }
        }
    }
}
