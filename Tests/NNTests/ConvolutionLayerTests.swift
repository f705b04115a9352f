import Autograd
import NN
import TensorCore
import TestSupport
import XCTest

final class ConvolutionLayerTests: XCTestCase {

    func testSeedCNNParameterCountsAndSummary() throws {
        let model = Sequential.seedCNN()
        XCTAssertEqual(try model.build(inputShape: [32, 32, 3], seed: 1), [10])
        XCTAssertEqual(model.parameterCount, 167_562)
        XCTAssertEqual(model.outputShapes, [[30, 30, 32], [15, 15, 32], [13, 13, 64], [6, 6, 64], [2304], [64], [10]])
        XCTAssertEqual(model.layers.map(\.parameterCount), [896, 0, 18_496, 0, 0, 147_520, 650])
        let summary = model.summary()
        for line in ["conv2d (Conv2D)", "(None, 30, 30, 32)", "896",
                     "max_pooling2d (MaxPooling2D)", "(None, 15, 15, 32)",
                     "conv2d_1 (Conv2D)", "(None, 13, 13, 64)", "18,496",
                     "max_pooling2d_1 (MaxPooling2D)", "(None, 6, 6, 64)",
                     "flatten (Flatten)", "(None, 2304)",
                     "dense (Dense)", "(None, 64)", "147,520",
                     "dense_1 (Dense)", "(None, 10)", "650",
                     "Total params: 167,562"] {
            XCTAssertTrue(summary.contains(line), "summary lacks \(line):\n\(summary)")
        }
        let y = withoutGradient { model(Variable(GradCheck.random([2, 32, 32, 3]))) }
        XCTAssertEqual(y.shape, [2, 10])
    }

    func testConvKernelFansAreKeras() throws {
        let conv = Conv2D(8, kernelSize: 3)
        var rng = RandomGenerator(seed: 3)
        _ = try conv.build(inputShape: [10, 10, 4], rng: &rng)
        let limit = (6 / Float(3 * 3 * 4 + 3 * 3 * 8)).squareRoot()
        let k = conv.kernel.value
        XCTAssertEqual(k.shape, [3, 3, 4, 8])
        XCTAssertTrue(k.scalars.allSatisfy { abs($0) <= limit })
        XCTAssertGreaterThan(k.scalars.map(abs).max()!, 0.9 * limit)
        XCTAssertEqual(conv.bias!.value.scalars, [Float](repeating: 0, count: 8))
    }

    /// Checks a layer's input gradient and its parameters' gradients by finite differences.
    private func checkLayer(_ layer: Layer, input: Tensor, file: StaticString = #filePath, line: UInt = #line) throws {
        var rng = RandomGenerator(seed: 5)
        _ = try layer.build(inputShape: Array(input.shape.dropFirst()), rng: &rng)
        for p in layer.parameters { rng.fillUniform(p.value, low: -0.5, high: 0.5) }
        GradCheck.check([input], eps: 1e-3, file: file, line: line) { v in layer(v[0]) }
        for p in layer.parameters { p.clearGrad() }

        let x = Variable(input)
        let out = layer(x)
        var seedRNG = RandomGenerator(seed: 6)
        let r = Tensor(uninitialized: out.shape)
        seedRNG.fillUniform(r, low: -1, high: 1)
        out.backward(seed: r)
        func objective() -> Double {
            let o = withoutGradient { layer(Variable(input)) }
            return (0..<o.count).reduce(0.0) { $0 + Double(o.value.data[$1]) * Double(r.data[$1]) }
        }
        for p in layer.parameters {
            let g = try XCTUnwrap(p.grad, "\(p.name) has no gradient", file: file, line: line)
            for i in stride(from: 0, to: p.count, by: max(1, p.count / 25)) {
                let saved = p.value.data[i], eps: Float = 1e-3
                p.value.data[i] = saved + eps
                let plus = objective()
                p.value.data[i] = saved - eps
                let minus = objective()
                p.value.data[i] = saved
                let numeric = (plus - minus) / (2 * Double(eps)), analytic = Double(g.data[i])
                XCTAssertLessThan(abs(numeric - analytic) / max(1, abs(numeric) + abs(analytic)), 2e-2,
                                  "\(p.name)[\(i)]: analytic \(analytic) vs numeric \(numeric)", file: file, line: line)
            }
        }
    }

    func testConvolutionLayerGradients() throws {
        try checkLayer(Conv2D(3, kernelSize: 3, activation: .tanh, name: "c"), input: GradCheck.random([2, 6, 5, 2], seed: 1))
        try checkLayer(Conv2D(2, kernelSize: (2, 3), strides: (2, 2), padding: .same, name: "c"), input: GradCheck.random([1, 7, 7, 3], seed: 2))
        try checkLayer(Conv2D(4, kernelSize: 3, activation: .softmax, name: "c"), input: GradCheck.random([1, 5, 5, 2], seed: 3))
        try checkLayer(Conv1D(3, kernelSize: 3, strides: 2, padding: .same, activation: .sigmoid, name: "c"),
                       input: GradCheck.random([2, 9, 2], seed: 4))
        try checkLayer(Conv1D(2, kernelSize: 4, useBias: false, name: "c"), input: GradCheck.random([1, 8, 3], seed: 5))
    }

    func testPoolingAndReshapingLayerGradients() throws {
        let image = Tensor((0..<(2 * 5 * 6 * 3)).map { Float(($0 * 37) % 180) / 45 - 2 }, shape: [2, 5, 6, 3])
        let sequence = Tensor((0..<(2 * 9 * 2)).map { Float(($0 * 7) % 36) / 9 - 2 }, shape: [2, 9, 2])
        try checkLayer(MaxPooling2D(2), input: image)
        try checkLayer(MaxPooling2D((3, 2), strides: (1, 2), padding: .same), input: image)
        try checkLayer(AveragePooling2D(2, padding: .same), input: image)
        try checkLayer(AveragePooling2D((2, 3), strides: (1, 1)), input: image)
        try checkLayer(MaxPooling1D(3, strides: 2, padding: .same), input: sequence)
        try checkLayer(AveragePooling1D(2), input: sequence)
        try checkLayer(GlobalAveragePooling2D(), input: image)
        try checkLayer(Flatten(), input: image)
        try checkLayer(Reshape([-1, 3]), input: image)
    }

    func testOutputShapes() throws {
        var rng = RandomGenerator(seed: 1)
        XCTAssertEqual(try Conv2D(5, kernelSize: 3, strides: 2, padding: .same).build(inputShape: [7, 8, 3], rng: &rng), [4, 4, 5])
        XCTAssertEqual(try Conv1D(6, kernelSize: 5).build(inputShape: [20, 3], rng: &rng), [16, 6])
        XCTAssertEqual(try MaxPooling2D(2).build(inputShape: [13, 13, 64], rng: &rng), [6, 6, 64])
        XCTAssertEqual(try MaxPooling2D(2, padding: .same).build(inputShape: [13, 13, 64], rng: &rng), [7, 7, 64])
        XCTAssertEqual(try AveragePooling1D(3, strides: 1).build(inputShape: [10, 4], rng: &rng), [8, 4])
        XCTAssertEqual(try GlobalAveragePooling2D().build(inputShape: [6, 6, 64], rng: &rng), [64])
        XCTAssertEqual(try Flatten().build(inputShape: [6, 6, 64], rng: &rng), [2304])
        XCTAssertEqual(try Reshape([4, -1]).build(inputShape: [6, 6, 2], rng: &rng), [4, 18])
    }

    /// Every bad configuration is a thrown `ShapeError` that names the layer.
    func testShapeErrorsNameTheLayer() {
        var rng = RandomGenerator(seed: 1)
        let cases: [(Layer, [Int], String)] = [
            (Conv2D(4, kernelSize: 5, name: "big"), [3, 3, 1], "does not fit"),
            (Conv2D(4, kernelSize: 3, name: "flat"), [32, 32], "[height, width, channels]"),
            (Conv2D(0, kernelSize: 3, name: "none"), [8, 8, 1], "filters"),
            (Conv1D(4, kernelSize: 3, name: "seq"), [8, 8, 3], "[steps, channels]"),
            (Conv1D(4, kernelSize: 9, name: "short"), [8, 3], "does not fit"),
            (MaxPooling2D(4, name: "pool"), [3, 8, 2], "does not fit"),
            (MaxPooling1D(2, name: "pool1"), [8, 8, 2], "[steps, channels]"),
            (AveragePooling2D(2, strides: 0, name: "avg"), [8, 8, 2], "positive"),
            (GlobalAveragePooling2D(name: "gap"), [8, 2], "[height, width, channels]"),
            (Reshape([5, -1], name: "rs"), [4, 3], "cannot reshape"),
            (Reshape([5, 2], name: "rs2"), [4, 3], "cannot view"),
        ]
        for (layer, shape, fragment) in cases {
            XCTAssertThrowsError(try layer.build(inputShape: shape, rng: &rng), "\(layer.name)") { error in
                guard let e = error as? ShapeError else { return XCTFail("\(error) is not a ShapeError") }
                XCTAssertTrue(e.op.hasPrefix("\(layer.name) (\(layer.typeName))"), "\(e)")
                XCTAssertTrue(e.message.contains(fragment), "\(e) lacks \(fragment)")
            }
        }
    }
}
