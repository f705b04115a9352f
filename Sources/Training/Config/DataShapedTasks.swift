import NN
import TensorCore

/// Binary classification of CSV rows and node classification on a graph: tasks whose model
/// input (the number of features, the graph's nodes) is known only once the data is read, so
/// `model.input_shape` may be null and is checked against the data when the model is built.
extension InputShapeRule {
    static let fromData = InputShapeRule(shape: [], reshapable: false, reason: "the data")
}

extension JobConfig {
    /// Binary classification learns 0/1 labels with binary cross-entropy, a network ending in a
    /// sigmoid unless the loss takes logits; node classification learns class indices with the
    /// sparse categorical cross-entropy, ending in a softmax unless the loss takes logits. GraphConv
    /// layers need a graph, so only node classification may use them.
    static func checkDataShapedTask(_ task: TaskKind, loss: Loss, model: ModelSpec, _ r: ObjectReader) throws {
        let layers = model.sequentialSpec?.layers ?? []
        if task != .nodeClassification, let i = layers.firstIndex(where: { if case .graphConv = $0 { return true } else { return false } }) {
            throw r.document.error(at: r.path.appending("model").appending("layers").appending(index: i).appending("type"),
                                   "GraphConv needs a graph: task \"node_classification\", not \"\(task.rawValue)\"")
        }
        let required: (ending: Activation, fromLogits: Bool)
        switch (task, loss) {
        case (.binaryClassification, .binaryCrossentropy(let l)): required = (.sigmoid, l)
        case (.nodeClassification, .sparseCategoricalCrossentropy(let l)): required = (.softmax, l)
        case (.binaryClassification, _):
            throw r.document.error(at: r.path.appending("loss").appending("name"), "binary classification learns 0/1 labels: expected \"binary_crossentropy\", found \(loss)")
        case (.nodeClassification, _):
            throw r.document.error(at: r.path.appending("loss").appending("name"),
                                   "node classification learns a class index per node: expected \"sparse_categorical_crossentropy\", found \(loss)")
        default: return
        }
        guard !required.fromLogits, let last = layers.indices.last, layers[last].activation != required.ending else { return }
        throw r.document.error(at: r.path.appending("model").appending("layers").appending(index: last),
                               "the loss takes probabilities (from_logits false), so the network must end in a \(required.ending) (or set loss.from_logits to true)")
    }

    /// The binary classifier for rows of `features` values (`source` names them in messages):
    /// one score per row.
    public func buildBinaryClassifier(features: Int, source: String) throws -> Sequential {
        try buildForData([features], reason: "the \(features) feature columns of \(source)",
                         output: [1], outputReason: "one score per row")
    }

    /// The per-node network for a graph of `nodes` nodes with `features` features each and
    /// `classes` classes (`source` names the graph in messages): one row of class scores per node.
    public func buildNodeNetwork(nodes: Int, features: Int, classes: Int, source: String) throws -> Sequential {
        try buildForData([nodes, features], reason: "the \(nodes) nodes × \(features) features of \(source)",
                         output: [nodes, classes], outputReason: "\(classes) class scores for each of the \(nodes) nodes")
    }

    private func buildForData(_ shape: [Int], reason: String, output: [Int], outputReason: String) throws -> Sequential {
        guard case .sequential(let spec)? = model else { preconditionFailure("task \(task.rawValue) has a sequential model") }
        if !spec.inputShape.isEmpty && spec.inputShape != shape {
            throw spec.location.error(at: spec.location.path.appending("input_shape"),
                                      "\(shapeString(spec.inputShape)) does not fit \(reason): expected \(shapeString(shape)) or null")
        }
        let built = try buildSequential(spec, inputShape: shape, seed: seed)
        if built.outputShapes.last! != output {
            throw spec.error(layer: spec.layers.count - 1, of: built,
                             "output shape \(shapeString(built.outputShapes.last!)) does not fit \(outputReason): expected \(shapeString(output))")
        }
        return built
    }
}

extension LayerSpec {
    /// The activation the layer ends in, for the layers that have one.
    var activation: Activation? {
        switch self {
        case .dense(_, let a, _), .conv2D(_, _, _, _, let a, _), .conv1D(_, _, _, _, let a, _), .graphConv(_, let a, _), .activation(let a):
            return a
        default: return nil
        }
    }
}
