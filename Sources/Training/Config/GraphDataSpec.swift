import Datasets

/// What a node starts with before the first graph convolution.
public enum NodeFeatures: String, CaseIterable, Sendable, ConfigChoice {
    /// A one-hot vector of the node's number (the features matrix is the identity).
    case identity

    static let kind = "node features"
}

/// The `data` keys of a node-classification graph: the edge and label files (see `NodeGraph`),
/// the node features, and which nodes are labelled for training (the others are the test set).
public struct GraphDataSpec: Sendable, Equatable {
    /// The files as the configuration names them, relative to the configuration file's folder
    /// unless absolute; `edgesPath` and `labelsPath` are the resolved paths.
    public var edges: String
    public var labels: String
    public var edgesPath: String
    public var labelsPath: String
    public var features: NodeFeatures
    /// Explicit training nodes, or `trainPerClass` nodes of each class drawn with the split
    /// seed: exactly one of the two is set.
    public var trainNodes: [Int]?
    public var trainPerClass: Int?
    /// Seeds the choice of training nodes; nil: the job's seed.
    public var splitSeed: UInt64?
    /// The data section, for errors found when the graph is loaded (a node that does not exist).
    public var location: ConfigLocation

    init(reading r: ObjectReader) throws {
        let file = r.document.file
        let folder = file.lastIndex(of: "/").map { $0 == file.startIndex ? "/" : String(file[..<$0]) } ?? ""
        let resolve = { (path: String) in DataFile.join(folder, path) }
        edges = try r.required("edges", .nonEmpty)
        labels = try r.required("labels", .nonEmpty)
        edgesPath = resolve(edges)
        labelsPath = resolve(labels)
        features = try r.optional("features", default: .identity)
        let distinct = Constraint<[Int]>(description: "with at least one entry, all ≥ 0 and distinct") {
            !$0.isEmpty && $0.allSatisfy { $0 >= 0 } && Set($0).count == $0.count
        }
        trainNodes = try r.nullable("train_nodes", distinct)
        trainPerClass = try r.nullable("train_per_class", .atLeast(1))
        switch (trainNodes, trainPerClass) {
        case (nil, nil): throw r.error("train_per_class", "a number of training nodes per class expected (or a list in train_nodes), found null")
        case (_?, _?): throw r.error("train_nodes", "train_nodes and train_per_class are both given: set one of them to null")
        default: break
        }
        splitSeed = try r.nullable("split_seed", Constraint<Int>.atLeast(0)).map(UInt64.init)
        location = ConfigLocation(document: r.document, path: r.path)
    }

    /// A `ConfigError` about `key` of this section.
    func error(_ key: String, index: Int? = nil, _ message: String) -> ConfigError {
        var path = location.path.appending(key)
        if let index { path = path.appending(index: index) }
        return location.error(at: path, message)
    }
}
