import Autograd
import TensorCore

/// A graph convolution (Kipf & Welling): `activation(Â · X · W + b)` for node features X
/// [nodes, features] (one graph) or [batch, nodes, features] (a batch of signals on the same
/// graph), with a constant normalised adjacency Â [nodes, nodes] set on the layer.
///
/// The products are associated in the cheaper order: (Â·X)·W when features ≤ units, else
/// Â·(X·W), which for wide sparse-ish inputs (e.g. bag-of-words node features) is far cheaper.
public final class GraphConv: Layer {
    public var name: String
    public let units: Int
    public let activation: Activation
    public let useBias: Bool
    /// Â [nodes, nodes], shared by every sample; must be set before the first forward pass
    /// (see `normalizedAdjacency`).
    public var adjacency: Tensor?
    public private(set) var kernel: Variable!
    public private(set) var bias: Variable?

    public init(_ units: Int, activation: Activation = .linear, useBias: Bool = true, adjacency: Tensor? = nil,
                name: String = "") {
        self.units = units
        self.activation = activation
        self.useBias = useBias
        self.adjacency = adjacency
        self.name = name
    }

    public func build(inputShape: [Int], rng: inout RandomGenerator) throws -> [Int] {
        guard inputShape.count == 2, inputShape[0] > 0, inputShape[1] > 0 else {
            throw shapeError("input \(shapeString(inputShape)) should be [nodes, features] per sample")
        }
        guard units > 0 else { throw shapeError("units must be positive, got \(units)") }
        if let a = adjacency, a.shape != [inputShape[0], inputShape[0]] {
            throw shapeError("adjacency \(shapeString(a.shape)) should be [\(inputShape[0]), \(inputShape[0])] for \(inputShape[0]) nodes")
        }
        kernel = try Initializer.glorotUniform.makeParameter([inputShape[1], units], name: "\(name)/kernel", rng: &rng)
        bias = useBias ? try Initializer.zeros.makeParameter([units], name: "\(name)/bias", rng: &rng) : nil
        return [inputShape[0], units]
    }

    public var parameters: [Variable] { [kernel, bias].compactMap { $0 } }

    public func forward(_ x: Variable) -> Variable {
        guard let a = adjacency else { fatalError("\(name) (GraphConv): adjacency was not set") }
        if x.shape.last! <= units {
            let ax = x.propagate(adjacency: a)
            switch activation {
            case .pointwise(let k): return ax.dense(weight: kernel, bias: bias, activation: k)
            case .softmax: return ax.dense(weight: kernel, bias: bias).softmax()
            }
        }
        var y = x.dense(weight: kernel, bias: nil).propagate(adjacency: a)
        if let bias { y = y + bias }
        return activation.apply(y)
    }

    /// The symmetric-normalised adjacency with self-loops, D^−½ (A + I) D^−½, where A has a 1
    /// for every edge (in both directions unless `directed`) and D holds the row sums of A + I.
    /// Repeated edges count once; self-loops in `edges` merge with the added ones.
    public static func normalizedAdjacency(nodeCount n: Int, edges: [(Int, Int)], directed: Bool = false) throws -> Tensor {
        let a = Tensor(zeros: [n, n])
        let p = a.data
        for (k, (i, j)) in edges.enumerated() {
            guard i >= 0, i < n, j >= 0, j < n else {
                throw ShapeError("graph_conv", "edge \(k) (\(i), \(j)) names a node outside 0..<\(n)")
            }
            p[i * n + j] = 1
            if !directed { p[j * n + i] = 1 }
        }
        var invSqrtDegree = [Float](repeating: 0, count: n)
        for i in 0..<n {
            p[i * n + i] = 1
            var d: Float = 0
            for j in 0..<n { d += p[i * n + j] }
            invSqrtDegree[i] = 1 / d.squareRoot()
        }
        for i in 0..<n { for j in 0..<n { p[i * n + j] *= invSqrtDegree[i] * invSqrtDegree[j] } }
        return a
    }
}

extension Variable {
    /// Â · X for a constant square matrix Â [nodes, nodes] and X [nodes, features] or
    /// [batch, nodes, features]: one GEMM per sample forward, and ∂L/∂X = Âᵀ · ∂L/∂Y backward.
    public func propagate(adjacency a: Tensor) -> Variable {
        guard shape.count == 2 || shape.count == 3 else {
            fatalError("propagate: input \(shapeString(shape)) should be [nodes, features] or [batch, nodes, features]")
        }
        let nodes = shape[shape.count - 2], features = shape.last!, batch = count / max(nodes * features, 1)
        _ = checkShape { try ShapeRules.matmul(a.shape, [nodes, features]) }
        let x = self
        let out = Tensor(uninitialized: shape)
        let block = nodes * features
        BLAS.gemmBatched(count: batch, m: nodes, n: features, k: nodes, a: a.data, lda: nodes, strideA: 0,
                         b: x.value.data, ldb: features, strideB: block, c: out.data, ldc: features, strideC: block)
        return Variable.record(out, inputs: [x]) { g in
            let (gx, acc) = x.gradSlot()
            BLAS.gemmBatched(count: batch, transA: true, m: nodes, n: features, k: nodes, a: a.data, lda: nodes, strideA: 0,
                             b: g.data, ldb: features, strideB: block, beta: acc ? 1 : 0, c: gx.data, ldc: features, strideC: block)
        }
    }
}
