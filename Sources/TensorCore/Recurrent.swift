/// LSTM cell kernels for one time step over a batch, with Keras' gate layout: each row of
/// gates holds [i | f | c | o], `units` wide each; i, f, o are sigmoids, the candidate c and
/// the cell output are tanh. Rows of each buffer are `stride` elements apart, so the kernels
/// read and write a time step inside batch-major [B, T, ·] buffers in place.
public enum LSTMKernels {
    /// Activates the gate pre-activations z = x·W + b + h_{t−1}·U in place and advances the cell:
    /// c_t = f·c_{t−1} + i·g, h_t = o·tanh(c_t). Writes c_t, tanh(c_t) (saved for backward) and
    /// h_t; `c`, `tanhC` and `h` share `stateStride`.
    public static func cellForward(batch: Int, units u: Int,
                                   gates: UnsafeMutablePointer<Float>, gatesStride: Int,
                                   cPrev: UnsafePointer<Float>, cPrevStride: Int,
                                   c: UnsafeMutablePointer<Float>, tanhC: UnsafeMutablePointer<Float>,
                                   h: UnsafeMutablePointer<Float>, stateStride: Int) {
        for b in 0..<batch {
            let z = gates + b * gatesStride, cp = cPrev + b * cPrevStride
            let cr = c + b * stateStride, tr = tanhC + b * stateStride, hr = h + b * stateStride
            VectorMath.forEachVector(u) { j, lanes in
                let i = VectorMath.sigmoid(VectorMath.load(z + j, lanes))
                let f = VectorMath.sigmoid(VectorMath.load(z + u + j, lanes))
                let g = VectorMath.tanh(VectorMath.load(z + 2 * u + j, lanes))
                let o = VectorMath.sigmoid(VectorMath.load(z + 3 * u + j, lanes))
                VectorMath.store(i, z + j, lanes)
                VectorMath.store(f, z + u + j, lanes)
                VectorMath.store(g, z + 2 * u + j, lanes)
                VectorMath.store(o, z + 3 * u + j, lanes)
                let cv = f * VectorMath.load(cp + j, lanes) + i * g
                let tc = VectorMath.tanh(cv)
                VectorMath.store(cv, cr + j, lanes)
                VectorMath.store(tc, tr + j, lanes)
                VectorMath.store(o * tc, hr + j, lanes)
            }
        }
    }

    /// Backward of `cellForward` from the saved activated gates, c_{t−1} and tanh(c_t).
    /// `dh` ([batch, units], contiguous) is ∂L/∂h_t; `dc` (same layout) is ∂L/∂c_t arriving from
    /// step t+1 on entry and ∂L/∂c_{t−1} on return. Writes the gate pre-activation gradients
    /// ∂L/∂z into `dz`.
    public static func cellBackward(batch: Int, units u: Int,
                                    gates: UnsafePointer<Float>, gatesStride: Int,
                                    cPrev: UnsafePointer<Float>, cPrevStride: Int,
                                    tanhC: UnsafePointer<Float>, stateStride: Int,
                                    dh: UnsafePointer<Float>, dc: UnsafeMutablePointer<Float>,
                                    dz: UnsafeMutablePointer<Float>, dzStride: Int) {
        for b in 0..<batch {
            let z = gates + b * gatesStride, cp = cPrev + b * cPrevStride, tr = tanhC + b * stateStride
            let dhr = dh + b * u, dcr = dc + b * u, d = dz + b * dzStride
            for j in 0..<u {
                let i = z[j], f = z[u + j], g = z[2 * u + j], o = z[3 * u + j]
                let tc = tr[j], gh = dhr[j]
                let gc = dcr[j] + gh * o * (1 - tc * tc)
                d[j] = gc * g * i * (1 - i)
                d[u + j] = gc * cp[j] * f * (1 - f)
                d[2 * u + j] = gc * i * (1 - g * g)
                d[3 * u + j] = gh * tc * o * (1 - o)
                dcr[j] = gc * f
            }
        }
    }
}

extension ShapeRules {
    /// An LSTM over input [batch, time, features] with kernel [features, 4u], recurrent kernel
    /// [u, 4u], optional bias [4u] and optional initial states [batch, u]; returns u.
    public static func lstm(input: [Int], kernel: [Int], recurrentKernel: [Int], bias: [Int]?,
                            initialStates: [[Int]]) throws -> Int {
        guard input.count == 3, input[1] > 0 else {
            throw ShapeError("lstm", "input \(shapeString(input)) should be [batch, time, features] with time > 0")
        }
        let u = recurrentKernel.first ?? 0
        guard u > 0, recurrentKernel == [u, 4 * u] else {
            throw ShapeError("lstm", "recurrent kernel \(shapeString(recurrentKernel)) should be [units, 4·units]")
        }
        guard kernel == [input[2], 4 * u] else {
            throw ShapeError("lstm", "kernel \(shapeString(kernel)) should be [\(input[2]), \(4 * u)] for input \(shapeString(input))")
        }
        if let bias, bias != [4 * u] { throw ShapeError("lstm", "bias \(shapeString(bias)) should be [\(4 * u)]") }
        for s in initialStates where s != [input[0], u] {
            throw ShapeError("lstm", "initial state \(shapeString(s)) should be [\(input[0]), \(u)]")
        }
        return u
    }
}
