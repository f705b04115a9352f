extension ShapeRules {
    /// Lookup of `ids` (any shape) in a `[vocabulary, dim]` table: the result is `ids + [dim]`.
    public static func embedding(ids: [Int], table: [Int]) throws -> [Int] {
        guard table.count == 2 else {
            throw ShapeError("embedding", "table \(shapeString(table)) should be [vocabulary, dim]")
        }
        return ids + [table[1]]
    }

    /// Learned positions `[maxLength, dim]` added to `x` of shape `[..., length, dim]`
    /// (positions 0..<length, so inputs may be shorter than the table).
    public static func positionEmbedding(_ x: [Int], table: [Int]) throws -> [Int] {
        guard table.count == 2 else {
            throw ShapeError("position_embedding", "table \(shapeString(table)) should be [sequence_length, dim]")
        }
        guard x.count >= 2 else {
            throw ShapeError("position_embedding", "input \(shapeString(x)) should be [..., length, dim]")
        }
        guard x[x.count - 1] == table[1], x[x.count - 2] <= table[0] else {
            throw ShapeError("position_embedding", "input \(shapeString(x)) does not fit positions \(shapeString(table)): length must be at most \(table[0]) and dim \(table[1])")
        }
        return x
    }
}

/// Row gathers and scatter-adds for embedding tables. Ids arrive as Floats holding integers
/// (as Keras casts its inputs); each must be an index into the table.
public enum EmbeddingKernel {
    /// The table row of `id`. Stops with the id and the vocabulary size when `id` is not one of
    /// 0..<vocabularySize (checked in every build mode: a bad id would read or write out of bounds).
    @inline(__always)
    public static func row(_ id: Float, vocabularySize: Int) -> Int {
        guard let i = Int(exactly: id), i >= 0, i < vocabularySize else {
            fatalError("embedding: id \(id) is out of range for vocabulary size \(vocabularySize)")
        }
        return i
    }

    /// out[i, :] = table[ids[i], :] for `count` ids.
    public static func gather(table: UnsafePointer<Float>, vocabularySize: Int, dim: Int,
                              ids: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<Float>) {
        for i in 0..<count {
            (out + i * dim).update(from: table + row(ids[i], vocabularySize: vocabularySize) * dim, count: dim)
        }
    }

    /// dTable[ids[i], :] += dOut[i, :]; repeated ids add up.
    public static func scatterAdd(_ dOut: UnsafePointer<Float>, ids: UnsafePointer<Float>, count: Int, dim: Int,
                                  vocabularySize: Int, into dTable: UnsafeMutablePointer<Float>) {
        for i in 0..<count {
            BLAS.axpy(dim, 1, dOut + i * dim, dTable + row(ids[i], vocabularySize: vocabularySize) * dim)
        }
    }

    /// out[s, :, :] = x[s, :, :] + table[0..<length, :] for each of `sequences` blocks of `length` rows.
    public static func addPositions(_ x: UnsafePointer<Float>, table: UnsafePointer<Float>, sequences: Int,
                                    length: Int, dim: Int, into out: UnsafeMutablePointer<Float>) {
        let block = length * dim
        for s in 0..<sequences {
            let xs = x + s * block, os = out + s * block
            for i in 0..<block { os[i] = xs[i] + table[i] }
        }
    }

    /// dTable[0..<length, :] += Σ_s dOut[s, :, :].
    public static func positionGradient(_ dOut: UnsafePointer<Float>, sequences: Int, length: Int, dim: Int,
                                        into dTable: UnsafeMutablePointer<Float>) {
        let block = length * dim
        for s in 0..<sequences { BLAS.axpy(block, 1, dOut + s * block, dTable) }
    }
}
