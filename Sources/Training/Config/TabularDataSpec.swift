/// The `data` keys of a CSV data set (binary classification): which column is the label, which
/// columns to ignore, how much to hold out, and whether to standardise the features.
public struct TabularDataSpec: Sendable, Equatable {
    /// The header name of the 0/1 label column.
    public var labelColumn: String
    /// Header names of columns that are neither label nor feature; `""` is an unnamed column
    /// (the row index pandas writes first).
    public var ignoredColumns: [String]
    /// The share of each class held out for testing (a stratified split).
    public var testFraction: Double
    /// Seeds the split; nil: the job's seed.
    public var splitSeed: UInt64?
    /// Standardise each feature with the mean and standard deviation of the training split.
    public var standardize: Bool

    init(reading r: ObjectReader) throws {
        labelColumn = try r.required("label_column", .nonEmpty)
        ignoredColumns = try r.optional("ignore_columns", default: [String]())
        if let i = ignoredColumns.firstIndex(of: labelColumn) {
            throw r.document.error(at: r.path.appending("ignore_columns").appending(index: i),
                                   "\"\(labelColumn)\" is the label column (label_column) and cannot be ignored")
        }
        testFraction = try r.optional("test_fraction", default: 0.2, .open(0, 1))
        splitSeed = try r.nullable("split_seed", Constraint<Int>.atLeast(0)).map(UInt64.init)
        standardize = try r.optional("standardize", default: true)
    }
}
