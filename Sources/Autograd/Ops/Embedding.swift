import TensorCore

extension Variable {
    /// Rows of this `[vocabulary, dim]` table picked by `ids` (Floats holding integer indices, any
    /// shape); the result has shape `ids.shape + [dim]`. Ids get no gradient; the table's
    /// gradient is a scatter-add of the output gradient's rows.
    public func embeddingLookup(_ ids: Variable) -> Variable {
        let table = self
        let outShape = checkShape { try ShapeRules.embedding(ids: ids.shape, table: table.shape) }
        let vocabulary = shape[0], dim = shape[1]
        let idValues = ids.value
        let out = Tensor(uninitialized: outShape)
        EmbeddingKernel.gather(table: value.data, vocabularySize: vocabulary, dim: dim,
                               ids: idValues.data, count: idValues.count, into: out.data)
        return Variable.record(out, inputs: [table]) { g in
            EmbeddingKernel.scatterAdd(g.data, ids: idValues.data, count: idValues.count, dim: dim,
                                       vocabularySize: vocabulary, into: table.zeroedGrad().data)
        }
    }

    /// This `[..., length, dim]` input plus rows 0..<length of the learned `positions` table
    /// `[maxLength, dim]`, the same for every sequence.
    public func addingPositions(_ positions: Variable) -> Variable {
        let x = self
        _ = checkShape { try ShapeRules.positionEmbedding(x.shape, table: positions.shape) }
        let dim = positions.shape[1], length = shape[shape.count - 2]
        let sequences = count / max(length * dim, 1)
        let out = Tensor(uninitialized: shape)
        EmbeddingKernel.addPositions(x.value.data, table: positions.value.data, sequences: sequences,
                                     length: length, dim: dim, into: out.data)
        return Variable.record(out, inputs: [x, positions]) { g in
            if x.requiresGrad { x.accumulateGrad(g) }
            if positions.requiresGrad {
                EmbeddingKernel.positionGradient(g.data, sequences: sequences, length: length, dim: dim,
                                                 into: positions.zeroedGrad().data)
            }
        }
    }
}
