extension ShapeRules {
    /// A residual block's output and its shortcut: the same shape, no broadcasting.
    public static func residualAdd(_ a: [Int], _ b: [Int]) throws -> [Int] {
        guard a == b else { throw ShapeError("add_relu", "block output \(shapeString(a)) and shortcut \(shapeString(b)) differ") }
        return a
    }

    /// The parameter-free shortcut of a residual block whose shape changes ("option A" of He et
    /// al. 2016): NHWC input subsampled by `stride` on both spatial axes, channels zero-padded
    /// to `channels`.
    public static func paddedShortcut(_ x: [Int], stride: Int, channels: Int) throws -> [Int] {
        guard x.count == 4, stride >= 1, channels >= x[3] else {
            throw ShapeError("padded_shortcut", "input \(shapeString(x)) should be [batch, height, width, channels] with at most \(channels) channels")
        }
        return [x[0], (x[1] + stride - 1) / stride, (x[2] + stride - 1) / stride, channels]
    }
}

/// The two element-wise steps that close a residual block.
public enum Residual {
    /// y = max(a + b, 0): the shortcut added to the block's output, then the ReLU.
    public static func addReLU(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { y[i] = max(a[i] + b[i], 0) }
    }

    /// The gradient for either addend: dy where y > 0, else 0; written or (`accumulate`) added.
    public static func addReLUBackward(y: UnsafePointer<Float>, dy: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>,
                                       count n: Int, accumulate: Bool) {
        // Unconditional loads, so the ternary is a vector select rather than a branch.
        if accumulate {
            for i in 0..<n { let g = dy[i], v = d[i]; d[i] = y[i] > 0 ? v + g : v }
        } else {
            for i in 0..<n { let g = dy[i]; d[i] = y[i] > 0 ? g : 0 }
        }
    }

    /// The padded shortcut: y[n, i, j, offset + c] = x[n, i·stride, j·stride, c], other channels 0,
    /// with offset = (cout − cin) / 2 (the zeros split between both ends, as the reference code).
    public static func paddedShortcut(_ x: UnsafePointer<Float>, batch: Int, height h: Int, width w: Int, channels cin: Int,
                                      stride s: Int, _ y: UnsafeMutablePointer<Float>, channels cout: Int) {
        let ho = (h + s - 1) / s, wo = (w + s - 1) / s, offset = (cout - cin) / 2
        y.update(repeating: 0, count: batch * ho * wo * cout)
        for n in 0..<batch {
            for i in 0..<ho {
                for j in 0..<wo {
                    let src = x + ((n * h + i * s) * w + j * s) * cin
                    (y + ((n * ho + i) * wo + j) * cout + offset).update(from: src, count: cin)
                }
            }
        }
    }

    /// Backward of `paddedShortcut`: dx takes dy at the sampled positions and 0 elsewhere.
    public static func paddedShortcutBackward(dy: UnsafePointer<Float>, batch: Int, height h: Int, width w: Int, channels cin: Int,
                                              stride s: Int, channels cout: Int, dx: UnsafeMutablePointer<Float>, accumulate: Bool) {
        let ho = (h + s - 1) / s, wo = (w + s - 1) / s, offset = (cout - cin) / 2
        if !accumulate { dx.update(repeating: 0, count: batch * h * w * cin) }
        for n in 0..<batch {
            for i in 0..<ho {
                for j in 0..<wo {
                    let dst = dx + ((n * h + i * s) * w + j * s) * cin
                    let src = dy + ((n * ho + i) * wo + j) * cout + offset
                    for c in 0..<cin { dst[c] += src[c] }
                }
            }
        }
    }
}
