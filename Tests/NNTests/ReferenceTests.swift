import Autograd
import Foundation
import NN
import TensorCore
import XCTest

/// Cross-framework reference test: four small models rebuilt with our layers, given the weights
/// and inputs of the Keras fixtures (`Tests/Fixtures/*.json`, closed formulas in its README),
/// must reproduce Keras 3's loss, output, every weight gradient and the input gradient.
///
/// Each model runs twice:
/// * `logits`: the loss from the last layer's pre-activation (`fromLogits: true`), which is what
///   Keras does — its softmax/sigmoid caches the logits and the cross-entropy uses them;
/// * `probabilities`: the loss on the model's softmax/sigmoid output (`fromLogits: false`, our
///   Keras-style probability path: renormalise (softmax) and clip to [1e-7, 1 − 1e-7]). With
///   these weights no probability is near 0 or 1, so it must agree as well.
///
/// Every comparison is on the scale of its tensor (README, "Comparing"): the loss and each output
/// value relative to themselves; a gradient's `l2` and `max_abs` relative to themselves, its
/// `sum` and each sample relative to `max(|value|, max_abs)` of that tensor; all within 1e-4,
/// against Keras' float32 gradients (`grad`) and its float64 ones (`grad_float64`). (The sum
/// bound is stricter than the README's `1e-4·sqrt(count)·l2`, and holds with a wide margin.)
/// The gradient flagged `mathematically_zero` (the MHA key bias) must stay below 1e-6 × the
/// model's largest gradient entry. The worst ratio per category is printed ("[reference] ...").
final class ReferenceTests: XCTestCase {
    static let tolerance = 1e-4

    func testSeedCNN() throws {
        let f = try ReferenceFixture.load("seed_cnn")
        let model = Sequential.seedCNN(name: "seed_cnn")
        try model.build(inputShape: [32, 32, 3], seed: 1)
        let input = Tensor(ReferenceFixture.cnnInput(count: f.input.shape.reduce(1, *)), shape: f.input.shape)
        let labels = ReferenceFixture.classLabels(batch: f.batch, classes: 10)
        XCTAssertEqual(labels.map(Double.init), f.labels.values, "seed_cnn: label formula")
        let onehot = Tensor(zeros: [f.batch, 10])
        for (b, label) in labels.enumerated() { onehot[b, label] = 1 }
        try runReference(f, model: model, input: input, inputIsFloat: true) { out, fromLogits in
            out.categoricalCrossentropy(targets: onehot, fromLogits: fromLogits)
        }
    }

    func testTransformerBlock() throws {
        try transformer("transformer_block", keyDim: 8, causal: false)
    }

    func testTransformerBlockCausal() throws {
        try transformer("transformer_block_causal", keyDim: 16, causal: true)
    }

    private func transformer(_ name: String, keyDim: Int, causal: Bool) throws {
        let f = try ReferenceFixture.load(name)
        let model = Sequential([
            Embedding(50, 32),
            TransformerEncoderBlock(embedDim: 32, numHeads: 4, keyDim: keyDim, ffDim: 64, dropout: 0,
                                    epsilon: 1e-6, causal: causal),
            GlobalAveragePooling1D(),
            Dense(3, activation: .softmax),
        ], name: name)
        let (batch, length) = (f.input.shape[0], f.input.shape[1])
        try model.build(inputShape: [length], seed: 1)
        let ids = ReferenceFixture.tokenIds(batch: batch, length: length, vocab: 50)
        XCTAssertEqual(ids, f.input.values, "\(name): token id formula")
        let labels = ReferenceFixture.classLabels(batch: batch, classes: 3)
        XCTAssertEqual(labels.map(Double.init), f.labels.values, "\(name): label formula")
        let input = Tensor(ids.flatMap { $0.map(Float.init) }, shape: [batch, length])
        let labelTensor = Tensor(labels.map(Float.init), shape: [batch])
        try runReference(f, model: model, input: input, inputIsFloat: false) { out, fromLogits in
            out.sparseCategoricalCrossentropy(labels: labelTensor, fromLogits: fromLogits)
        }
    }

    func testGANDiscriminator() throws {
        let f = try ReferenceFixture.load("gan_discriminator")
        let model = Sequential([
            Dense(512),
            ActivationLayer(.leakyRelu(alpha: 0.2)),
            Dense(256),
            ActivationLayer(.leakyRelu(alpha: 0.2)),
            Dense(1, activation: .sigmoid),
        ], name: "gan_discriminator")
        try model.build(inputShape: [784], seed: 1)
        let input = Tensor(ReferenceFixture.ganInput(count: f.input.shape.reduce(1, *)), shape: f.input.shape)
        let y = (0..<f.batch).map { b in Float(b < f.batch / 2 ? 1 : 0) }
        XCTAssertEqual(y.map(Double.init), f.labels.values, "gan_discriminator: label formula")
        let targets = Tensor(y, shape: [f.batch, 1])
        try runReference(f, model: model, input: input, inputIsFloat: true) { out, fromLogits in
            out.binaryCrossentropy(targets: targets, fromLogits: fromLogits)
        }
    }

    // MARK: Running a model against its fixture

    /// Fills the model's parameters (which must be in Keras' weight order and shapes) and checks
    /// the formulas, then runs both loss paths and compares each with the fixture.
    private func runReference(_ f: ReferenceFixture, model: Sequential, input: Tensor, inputIsFloat: Bool,
                              loss: (Variable, Bool) -> Variable) throws {
        let params = model.parameters
        XCTAssertEqual(f.formatVersion, 1, "\(f.model): fixture format")
        XCTAssertEqual(model.parameterCount, f.paramCount, "\(f.model): parameter count")
        guard params.count == f.weights.count else {
            XCTFail("\(f.model): \(params.count) parameters, fixture lists \(f.weights.count) weights")
            return
        }
        var formulasMatch = true
        for (p, w) in zip(params, f.weights) {
            guard p.shape == w.shape else {
                XCTFail("\(f.model): weight t=\(w.t) \(w.path): our \(p.name) is \(shapeString(p.shape)), Keras \(w.shape)")
                return
            }
            let values = ReferenceFixture.weightValues(t: w.t, kind: w.`init`, shape: w.shape)
            values.withUnsafeBufferPointer { p.value.data.update(from: $0.baseAddress!, count: p.count) }
            formulasMatch = checkValueSum(values, w.valueSum, "\(f.model): weight t=\(w.t) \(w.path) value_sum") && formulasMatch
        }
        if inputIsFloat {
            if let ref = f.input.valueSum {
                formulasMatch = checkValueSum(input.scalars, ref, "\(f.model): input value_sum") && formulasMatch
            } else {
                XCTFail("\(f.model): the fixture has no input value_sum")
            }
        }
        // Wrong weights or inputs would make every comparison below fail; report only the cause.
        guard formulasMatch else { return }

        let logitsReport = run(f, model: model, input: input, inputIsFloat: inputIsFloat, fromLogits: true, loss: loss)
        for p in params { p.clearGrad() }
        let probabilitiesReport = run(f, model: model, input: input, inputIsFloat: inputIsFloat, fromLogits: false, loss: loss)
        print("[reference] \(f.model) logits: \(logitsReport)")
        print("[reference] \(f.model) probabilities: \(probabilitiesReport)")
    }

    /// One forward/backward; returns a one-line summary of the worst differences.
    private func run(_ f: ReferenceFixture, model: Sequential, input: Tensor, inputIsFloat: Bool, fromLogits: Bool,
                     loss lossFunction: (Variable, Bool) -> Variable) -> String {
        let path = fromLogits ? "logits" : "probabilities"
        var c = Comparison(context: "\(f.model) [\(path) path]")
        let x = Variable(input.copy(), requiresGrad: inputIsFloat)
        let output: Variable, lossValue: Variable
        if fromLogits {
            // Keras' shortcut: the last Dense without its activation gives the logits the loss
            // uses; the activation applied to them is the model's output.
            guard let last = model.layers.last as? Dense else { fatalError("the model should end in Dense") }
            let hidden = model.layers.dropLast().reduce(x) { $1($0) }
            let logits = hidden.dense(weight: last.kernel, bias: last.bias)
            output = last.activation.apply(logits)
            lossValue = lossFunction(logits, true)
        } else {
            output = model(x)
            lossValue = lossFunction(output, false)
        }
        lossValue.backward()

        // Loss: against Keras' float32 and float64 values.
        let ours = Double(lossValue.value.scalar)
        c.check("loss", ours, f.loss, scale: abs(f.loss), category: "loss")
        c.check("loss vs Keras float64", ours, f.lossFloat64, scale: abs(f.lossFloat64), category: "loss64")

        // Output values.
        XCTAssertEqual(output.shape, f.output.shape, "\(c.context): output shape")
        let out = output.value.scalars.map(Double.init)
        if out.count == f.output.values.count {
            c.check("output", zip(out, f.output.values).enumerated().map { i, p in ("[\(i)]", p.0, p.1, abs(p.1)) },
                    category: "output")
        }

        // Weight gradients.
        let globalMax = f.weights.map { $0.grad.maxAbs }.max() ?? 1
        for (p, w) in zip(model.parameters, f.weights) {
            let label = "weight t=\(w.t) \(w.path) (our \(p.name)) gradient"
            guard let g = p.grad else { XCTFail("\(c.context): \(label): no gradient"); continue }
            let stats = TensorStats(g)
            if w.mathematicallyZero {
                // Exactly 0 in exact arithmetic (softmax ignores the key bias): absolute bound.
                c.checkAbsolute("\(label) max_abs (mathematically zero, Keras \(w.grad.maxAbs))", stats.maxAbs,
                                bound: 1e-6 * globalMax, category: "zero")
                continue
            }
            c.compare(label, stats, w.grad, category: "grad")
            c.compare("\(label) vs Keras float64", stats, w.gradFloat64, category: "grad64")
        }

        // Input gradient.
        if let ref = f.inputGrad {
            if let g = x.grad {
                let stats = TensorStats(g)
                c.compare("input gradient", stats, ref.summary, category: "input")
                c.compare("input gradient vs Keras float64", stats, ref.gradFloat64, category: "input64")
            } else {
                XCTFail("\(c.context): the input received no gradient")
            }
        }
        return c.report
    }

    /// Checks a formula's values against the fixture's `value_sum` (float32 values summed in
    /// float64), so a formula slip shows up as such rather than as a gradient mismatch.
    private func checkValueSum(_ values: [Float], _ ref: Double, _ label: String,
                               file: StaticString = #filePath, line: UInt = #line) -> Bool {
        let sum = values.reduce(0.0) { $0 + Double($1) }
        let magnitude = values.reduce(0.0) { $0 + abs(Double($1)) }
        guard abs(sum - ref) <= 1e-9 * max(magnitude, 1) else {
            XCTFail("\(label): ours \(sum), fixture \(ref) (formula mismatch)", file: file, line: line)
            return false
        }
        return true
    }
}

/// Sum, l2 norm and largest magnitude of a tensor, accumulated in Double (one pass).
private struct TensorStats {
    let tensor: Tensor
    let sum: Double, l2: Double, maxAbs: Double

    init(_ t: Tensor) {
        var s = 0.0, q = 0.0, m = 0.0
        let p = t.data
        for i in 0..<t.count {
            let v = Double(p[i])
            s += v
            q += v * v
            m = max(m, abs(v))
        }
        tensor = t
        (sum, l2, maxAbs) = (s, q.squareRoot(), m)
    }
}

/// Collects the comparisons of one run. A mismatch fails the test once per compared tensor (or
/// scalar), naming the fixture, the loss path, the tensor's Keras path and the worst entry with
/// both values, plus how many entries exceeded the tolerance; the worst |ours − ref| / scale per
/// category is kept for the printed report.
private struct Comparison {
    let context: String
    var worst: [(category: String, ratio: Double, what: String)] = []

    init(context: String) { self.context = context }

    mutating func note(_ category: String, _ ratio: Double, _ what: String) {
        if let i = worst.firstIndex(where: { $0.category == category }) {
            if ratio > worst[i].ratio || ratio.isNaN { worst[i] = (category, ratio, what) }
        } else {
            worst.append((category, ratio, what))
        }
    }

    /// One entry of a tensor: its name, our value, Keras' value and the scale of the comparison.
    typealias Entry = (what: String, ours: Double, ref: Double, scale: Double)

    /// |ours − ref| ≤ tolerance · scale for every entry; one failure for the tensor if any exceeds.
    mutating func check(_ tensor: String, _ entries: [Entry], category: String,
                        file: StaticString = #filePath, line: UInt = #line) {
        var failing = 0
        var worstEntry: (entry: Entry, ratio: Double)?
        for e in entries {
            let diff = abs(e.ours - e.ref)
            let ratio = e.scale > 0 ? diff / e.scale : (diff == 0 ? 0 : .infinity)
            if !(ratio <= ReferenceTests.tolerance) { failing += 1 }
            if worstEntry == nil || ratio > worstEntry!.ratio || ratio.isNaN { worstEntry = (e, ratio) }
        }
        guard let (e, ratio) = worstEntry else { return }
        note(category, ratio, "\(tensor) \(e.what)")
        if failing > 0 {
            XCTFail("\(context): \(tensor): \(failing) of \(entries.count) checks exceed \(ReferenceTests.tolerance) × scale; "
                    + "worst \(e.what): ours \(e.ours), Keras \(e.ref), |diff| \(abs(e.ours - e.ref)) = \(ratio) × scale \(e.scale)",
                    file: file, line: line)
        }
    }

    mutating func check(_ what: String, _ ours: Double, _ ref: Double, scale: Double, category: String,
                        file: StaticString = #filePath, line: UInt = #line) {
        check(what, [("value", ours, ref, scale)], category: category, file: file, line: line)
    }

    mutating func checkAbsolute(_ what: String, _ ours: Double, bound: Double, category: String,
                                file: StaticString = #filePath, line: UInt = #line) {
        note(category, ours / bound, what)
        if !(ours <= bound) {
            XCTFail("\(context): \(what): ours \(ours) exceeds \(bound)", file: file, line: line)
        }
    }

    /// A gradient's sum, l2, max_abs and samples against a fixture summary, on the tensor's scale:
    /// l2 and max_abs relative to themselves, the sum and each sample relative to
    /// max(|their value|, max_abs).
    mutating func compare(_ tensor: String, _ ours: TensorStats, _ ref: ReferenceFixture.Summary, category: String,
                          file: StaticString = #filePath, line: UInt = #line) {
        var entries: [Entry] = [
            ("sum", ours.sum, ref.sum, max(abs(ref.sum), ref.maxAbs)),
            ("l2", ours.l2, ref.l2, ref.l2),
            ("max_abs", ours.maxAbs, ref.maxAbs, ref.maxAbs),
        ]
        for s in ref.samples ?? [] {
            let i = Int(s[0])
            guard i < ours.tensor.count else {
                XCTFail("\(context): \(tensor): sample index \(i) out of \(ours.tensor.count)", file: file, line: line)
                continue
            }
            entries.append(("[\(i)]", Double(ours.tensor.data[i]), s[1], max(abs(s[1]), ref.maxAbs)))
        }
        check(tensor, entries, category: category, file: file, line: line)
    }

    var report: String {
        worst.map { "\($0.category) \(String(format: "%.2e", $0.ratio)) (\($0.what))" }.joined(separator: "; ")
    }
}
