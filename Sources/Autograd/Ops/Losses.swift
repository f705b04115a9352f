import TensorCore

// Losses as single fused ops returning a scalar of shape [] (Keras semantics: the mean over the
// loss elements, `sum_over_batch_size`). `self` holds the predictions (logits or probabilities);
// targets, labels and sample weights are constants. Sample weights, when given, scale each
// sample's loss and the sum is still divided by the number of loss elements, as in Keras.

extension Variable {
    /// Keras `SparseCategoricalCrossentropy`: predictions [..., classes] against one class index
    /// per row (`labels`, any shape with that many elements, indices stored as Float).
    /// From logits this is the fused, stable log-softmax + negative log-likelihood.
    public func sparseCategoricalCrossentropy(labels: Tensor, fromLogits: Bool, sampleWeights: Tensor? = nil) -> Variable {
        let op = "sparse_categorical_crossentropy"
        let rows = checkShape { try ShapeRules.sparseLabels(predictions: shape, labels: labels.shape, op: op) }
        let classes = shape.last!
        if let bad = LossKernels.firstInvalidLabel(labels.data, count: rows, classes: classes) {
            fatalError("\(op): label \(bad.label) at position \(bad.index) is not a class index in 0..<\(classes)")
        }
        return classCrossentropy(.indices(labels.data), keepAlive: labels, rows: rows, fromLogits: fromLogits,
                                 sampleWeights: sampleWeights, op: op)
    }

    /// Keras `CategoricalCrossentropy`: predictions [..., classes] against a distribution per row
    /// (one-hot or smoothed targets of the same shape).
    public func categoricalCrossentropy(targets: Tensor, fromLogits: Bool, sampleWeights: Tensor? = nil) -> Variable {
        let op = "categorical_crossentropy"
        checkShape { try ShapeRules.lossTargets(predictions: shape, targets: targets.shape, op: op) }
        let classes = shape.last ?? 1
        return classCrossentropy(.distributions(targets.data), keepAlive: targets, rows: count / max(classes, 1),
                                 fromLogits: fromLogits, sampleWeights: sampleWeights, op: op)
    }

    /// Keras `BinaryCrossentropy` (targets in [0, 1], same shape as the predictions).
    public func binaryCrossentropy(targets: Tensor, fromLogits: Bool, sampleWeights: Tensor? = nil) -> Variable {
        pointwiseLoss(fromLogits ? .binaryCrossentropyFromLogits : .binaryCrossentropy, targets: targets,
                      sampleWeights: sampleWeights, op: "binary_crossentropy")
    }

    /// Keras `MeanSquaredError`.
    public func meanSquaredError(targets: Tensor, sampleWeights: Tensor? = nil) -> Variable {
        pointwiseLoss(.squaredError, targets: targets, sampleWeights: sampleWeights, op: "mean_squared_error")
    }

    /// Shared by the categorical losses: one loss element per row of class scores. `keepAlive`
    /// is the tensor behind `targets`' pointer, captured so it outlives the backward closure.
    private func classCrossentropy(_ targets: LossKernels.ClassTargets, keepAlive: Tensor, rows: Int, fromLogits: Bool,
                                   sampleWeights: Tensor?, op: String) -> Variable {
        let x = value, n = shape.last ?? 1
        let span = sampleWeights.map { w in checkShape { try ShapeRules.sampleWeights(w.shape, elements: rows, op: op) } } ?? 1
        let w = sampleWeights?.data
        let lse = fromLogits ? Tensor(uninitialized: [rows]) : nil
        let total = fromLogits
            ? LossKernels.softmaxCrossentropy(logits: x.data, targets: targets, rows: rows, n: n, weights: w, span: span, lse: lse!.data)
            : LossKernels.crossentropy(probabilities: x.data, targets: targets, rows: rows, n: n, weights: w, span: span)
        let out = Tensor([Float(total / Double(max(rows, 1)))], shape: [])
        return Variable.record(out, inputs: [self]) { [self] g in
            withExtendedLifetime((keepAlive, sampleWeights)) {
                let (dst, acc) = gradSlot()
                let scale = g.data[0] / Float(max(rows, 1))
                if let lse {
                    LossKernels.softmaxCrossentropyBackward(logits: x.data, targets: targets, lse: lse.data, rows: rows, n: n,
                                                            weights: w, span: span, scale: scale, dx: dst.data, accumulate: acc)
                } else {
                    LossKernels.crossentropyBackward(probabilities: x.data, targets: targets, rows: rows, n: n,
                                                     weights: w, span: span, scale: scale, dx: dst.data, accumulate: acc)
                }
            }
        }
    }

    private func pointwiseLoss(_ kind: LossKernels.Pointwise, targets: Tensor, sampleWeights: Tensor?, op: String) -> Variable {
        checkShape { try ShapeRules.lossTargets(predictions: shape, targets: targets.shape, op: op) }
        let x = value, n = count
        let span = sampleWeights.map { w in checkShape { try ShapeRules.sampleWeights(w.shape, elements: n, op: op) } } ?? 1
        let total = LossKernels.pointwise(kind, predictions: x.data, targets: targets.data, count: n,
                                          weights: sampleWeights?.data, span: span)
        let out = Tensor([Float(total / Double(max(n, 1)))], shape: [])
        return Variable.record(out, inputs: [self]) { [self] g in
            let (dst, acc) = gradSlot()
            LossKernels.pointwiseBackward(kind, predictions: x.data, targets: targets.data, count: n,
                                          weights: sampleWeights?.data, span: span, scale: g.data[0] / Float(max(n, 1)),
                                          dx: dst.data, accumulate: acc)
        }
    }
}
