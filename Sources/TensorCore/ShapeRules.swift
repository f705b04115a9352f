/// Shape inference for every operation. Layers call these when a model is built (so a bad
/// configuration is a thrown, catchable error); kernels call them through `checkShape` at run
/// time. One rule per operation, so the build-time and run-time checks cannot disagree.
/// Kernel families extend this enum next to their kernels.
public enum ShapeRules {
    public static func reshape(_ from: [Int], _ to: [Int]) throws {
        if to.contains(where: { $0 < 0 }) || to.reduce(1, *) != from.reduce(1, *) {
            throw ShapeError("reshape", "cannot view \(shapeString(from)) (\(from.reduce(1, *)) elements) as \(shapeString(to))")
        }
    }

    /// `a · b` for matrices, with optional transposes; returns the output shape `[m, n]`.
    public static func matmul(_ a: [Int], _ b: [Int], transposeA: Bool = false, transposeB: Bool = false) throws -> [Int] {
        guard a.count == 2, b.count == 2 else {
            throw ShapeError("matmul", "\(shapeString(a)) x \(shapeString(b)): both operands must be matrices")
        }
        let (m, k1) = transposeA ? (a[1], a[0]) : (a[0], a[1])
        let (k2, n) = transposeB ? (b[1], b[0]) : (b[0], b[1])
        guard k1 == k2 else {
            throw ShapeError("matmul", "\(shapeString(a))\(transposeA ? "ᵀ" : "") x \(shapeString(b))\(transposeB ? "ᵀ" : ""): inner dimensions \(k1) and \(k2) differ")
        }
        return [m, n]
    }

    /// NumPy broadcasting of two shapes.
    public static func broadcast(_ a: [Int], _ b: [Int], op: String = "broadcast") throws -> [Int] {
        let r = max(a.count, b.count)
        let pa = [Int](repeating: 1, count: r - a.count) + a
        let pb = [Int](repeating: 1, count: r - b.count) + b
        var out = [Int](repeating: 0, count: r)
        for i in 0..<r {
            if pa[i] == pb[i] || pb[i] == 1 { out[i] = pa[i] }
            else if pa[i] == 1 { out[i] = pb[i] }
            else {
                throw ShapeError(op, "\(shapeString(a)) and \(shapeString(b)) do not broadcast (axis \(i): \(pa[i]) vs \(pb[i]))")
            }
        }
        return out
    }

    /// Normalises a possibly negative axis against a rank.
    public static func axis(_ axis: Int, rank: Int, op: String) throws -> Int {
        let a = axis < 0 ? axis + rank : axis
        guard a >= 0 && a < rank else { throw ShapeError(op, "axis \(axis) out of range for rank \(rank)") }
        return a
    }
}
