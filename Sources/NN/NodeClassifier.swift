import Autograd
import TensorCore

/// A graph network applied to one fixed graph, whose samples are its nodes: the input is a
/// batch of node numbers [k] (as Floats), the output the network's rows for those nodes
/// [k, classes]. Each call runs the network on the whole graph (every node's features, every
/// edge) and keeps the rows asked for, so a loss over a batch of nodes is a loss on those
/// nodes only and its gradient still flows through all the neighbours they aggregate.
///
/// That makes node classification an ordinary supervised job: a sampler hands out node
/// numbers, and data parallelism splits the labelled nodes across ranks.
public final class NodeClassifier: Layer {
    public var name: String
    /// The per-node network, already built for [nodes, features] and mapping it to
    /// [nodes, outputs] (GraphConv layers with the adjacency set).
    public let network: Sequential
    /// [nodes, features], the same for every call.
    public let features: Tensor

    public init(network: Sequential, features: Tensor, name: String = "node_classifier") {
        precondition(network.inputShape == features.shape, "the network is built for \(network.inputShape), not the features' \(features.shape)")
        self.network = network
        self.features = features
        self.name = name
    }

    public var typeName: String { "NodeClassifier" }
    public var sublayers: [Layer] { [network] }

    /// The network comes built, so this only checks that a sample is one node number and
    /// returns the per-node output shape.
    public func build(inputShape: [Int], rng: inout RandomGenerator) throws -> [Int] {
        guard inputShape == [] || inputShape == [1] else { throw shapeError("input \(shapeString(inputShape)) should be one node number per sample") }
        return [network.outputShapes.last!.last!]
    }

    /// Node numbers [k] (or [k, 1]) → the network's rows for them, [k, outputs].
    public func forward(_ nodes: Variable) -> Variable {
        network(Variable(features)).embeddingLookup(Variable(nodes.value.reshaped([nodes.value.count])))
    }
}
