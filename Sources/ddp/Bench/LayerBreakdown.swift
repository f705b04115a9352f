import Autograd
import NN
import TensorCore
import Training

/// `ddp bench --breakdown`: each layer of the seed CNN timed alone on its real input (the
/// previous layers' output): forward, then backward from a random output gradient. The first
/// layer's input needs no gradient, as in a real step. One JSON line per layer.
struct LayerBreakdown {
    let steps: Int, warmup: Int, batch: Int

    func run() throws {
        let model = Sequential.seedCNN(name: "cnn")
        try model.build(inputShape: [32, 32, 3], seed: 42)
        _ = model.flattenParameters()
        var rng = RandomGenerator(seed: 9)
        var input = Tensor(uninitialized: [batch, 32, 32, 3])
        rng.fillUniform(input, low: 0, high: 1)
        for (index, layer) in model.layers.enumerated() {
            var forward = Samples(), backward = Samples()
            var output = input
            for i in 0..<(warmup + steps) {
                for p in layer.parameters { p.grad?.zero() }
                let x = Variable(input, requiresGrad: index > 0)
                let t0 = Stamp()
                let y = layer(x)
                let t1 = Stamp()
                let seed = Tensor(uninitialized: y.shape)
                rng.fillUniform(seed, low: -1, high: 1)
                let t2 = Stamp()
                y.backward(seed: seed)
                let t3 = Stamp()
                if i >= warmup {
                    forward.add(t0, t1)
                    backward.add(t2, t3)
                }
                output = y.value
            }
            say(json([
                ("layer", "\"\(layer.name)\""), ("output", "\"\(shapeString(output.shape))\""),
                ("forward_ms", fixed(forward.wall, 2)), ("backward_ms", fixed(backward.wall, 2)),
                ("forward_cpu_ms", fixed(forward.cpu, 2)), ("backward_cpu_ms", fixed(backward.cpu, 2)),
            ]))
            input = output
        }
    }
}
