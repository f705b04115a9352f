import Autograd
import TensorCore

extension Sequential {
    /// Multiply-adds of one sample's forward pass in the matrix products and convolutions (the
    /// count FLOP figures use: forward FLOPs = 2 × this). Activations, normalisation, pooling
    /// and losses are not counted, as in models.md.
    public func forwardMultiplyAdds() -> Int {
        var shape = inputShape
        var total = 0
        for (layer, out) in zip(layers, outputShapes) {
            total += multiplyAdds(layer, input: shape, output: out)
            shape = out
        }
        return total
    }
}

/// Multiply-adds of `layer` for one sample with the given per-sample input and output shapes.
func multiplyAdds(_ layer: Layer, input: [Int], output: [Int]) -> Int {
    let positions = { (s: [Int]) in s.dropLast().reduce(1, *) }
    switch layer {
    case let d as Dense:
        return positions(output) * (input.last ?? 0) * d.units
    case let c as ConvolutionLayer:
        return output.reduce(1, *) * c.parameters[0].count / max(c.parameters[0].shape.last ?? 1, 1)
    case let m as MultiHeadAttention:
        let l = positions(input), d = input.last ?? 0
        let h = m.numHeads, k = m.keyDim, v = m.valueDim
        return 2 * l * d * h * k + l * d * h * v + h * l * l * (k + v) + l * h * v * d
    case let g as GraphConv:
        // X·W on every node, and Â times the narrower of X and X·W (the order forward picks).
        let nodes = input.count > 1 ? input[input.count - 2] : 1, f = input.last ?? 0
        return nodes * f * g.units + nodes * nodes * min(f, g.units)
    case let lstm as LSTM:
        let t = input.count > 1 ? input[0] : 1
        return t * 4 * lstm.units * ((input.last ?? 0) + lstm.units)
    default:
        var shape = input
        var total = 0
        for sub in layer.sublayers {
            let out = (sub as? Sequential)?.outputShapes.last ?? (sub as? Dense).map { Array(shape.dropLast()) + [$0.units] } ?? shape
            total += multiplyAdds(sub, input: shape, output: out)
            shape = out
        }
        return total
    }
}
