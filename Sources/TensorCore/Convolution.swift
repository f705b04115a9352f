/// Convolution kernels in NHWC layout with Keras semantics, lowered to GEMM via im2col.
///
/// The im2col matrix has one row per output position (batch × out-height × out-width rows) and
/// one column per kernel tap in (kh, kw, c) order, which is exactly the row-major order of a
/// Keras kernel [kh, kw, cin, cout]. The kernel is therefore used as a [kh·kw·cin, cout] matrix
/// as stored, and every product (forward, input gradient, kernel gradient) is one `cblas_sgemm`
/// over the whole batch. 1-D convolutions (NWC, kernel [k, cin, cout]) are the height-1 case.

/// Padding of convolution and pooling windows, with Keras' names.
public enum Padding: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Only positions where the whole window lies inside the input.
    case valid
    /// Output length ceil(input / stride), padding split as TensorFlow does (the odd element
    /// goes after). Convolutions pad with zeros; pooling ignores the padded positions.
    case same

    public var description: String { rawValue }
}

/// Where a window (a convolution kernel or a pooling window) visits one NHWC image: everything
/// a kernel needs to map output positions to input positions. 1-D operations are the case
/// height 1, window height 1, so one implementation serves both ranks.
public struct WindowGeometry: Equatable, Sendable {
    /// 1 for [steps, channels] samples, 2 for [height, width, channels].
    public let spatialRank: Int
    public let inputHeight: Int, inputWidth: Int, channels: Int
    public let windowHeight: Int, windowWidth: Int
    public let strideHeight: Int, strideWidth: Int
    public let padTop: Int, padLeft: Int
    public let outputHeight: Int, outputWidth: Int

    /// Elements of one input sample.
    public var inputSize: Int { inputHeight * inputWidth * channels }
    /// Output positions of one sample (im2col rows per sample).
    public var outputPositions: Int { outputHeight * outputWidth }
    /// Length of one im2col row: window taps × channels, in (kh, kw, c) order.
    public var patchSize: Int { windowHeight * windowWidth * channels }
    /// Whether im2col is the identity (1×1 window, stride 1, no padding): the input already is
    /// the column matrix, so no copy is made.
    public var isPointwise: Bool {
        windowHeight == 1 && windowWidth == 1 && strideHeight == 1 && strideWidth == 1 && padTop == 0 && padLeft == 0
    }

    /// Per-sample output shape with `channels` output channels.
    public func outputShape(channels: Int) -> [Int] {
        spatialRank == 2 ? [outputHeight, outputWidth, channels] : [outputWidth, channels]
    }

    /// Number of samples in a batched tensor of these per-sample inputs.
    public func batch(of input: Tensor) -> Int { input.count / max(inputSize, 1) }
}

extension ShapeRules {
    /// Output length and leading padding along one axis (TensorFlow's rule): valid gives
    /// floor((in − k) / s) + 1; same gives ceil(in / s) with
    /// pad_total = max((out − 1)·s + k − in, 0) and pad_before = pad_total / 2.
    public static func slidingAxis(input: Int, window: Int, stride: Int, padding: Padding) -> (length: Int, padBefore: Int) {
        switch padding {
        case .valid:
            return (input >= window ? (input - window) / stride + 1 : 0, 0)
        case .same:
            let out = (input + stride - 1) / stride
            return (out, max((out - 1) * stride + window - input, 0) / 2)
        }
    }

    /// Geometry of a window of size `window` (1 or 2 spatial axes) sliding with `strides` over
    /// per-sample inputs of shape [steps, channels] or [height, width, channels].
    public static func window(_ op: String, input: [Int], window: [Int], strides: [Int], padding: Padding) throws -> WindowGeometry {
        let rank = window.count
        precondition(rank == 1 || rank == 2, "\(op): 1 or 2 spatial axes")
        let names = rank == 2 ? "[height, width, channels]" : "[steps, channels]"
        guard input.count == rank + 1 else {
            throw ShapeError(op, "input \(shapeString(input)) should have shape \(names) per sample (rank \(rank + 1)), got rank \(input.count)")
        }
        guard input.allSatisfy({ $0 > 0 }) else { throw ShapeError(op, "input \(shapeString(input)) has an empty axis") }
        guard strides.count == rank, window.allSatisfy({ $0 > 0 }), strides.allSatisfy({ $0 > 0 }) else {
            throw ShapeError(op, "window \(sizeString(window)) and strides \(sizeString(strides)) must be \(rank)-D and positive")
        }
        let spatial = Array(input.dropLast())
        if padding == .valid && zip(spatial, window).contains(where: { $0 < $1 }) {
            throw ShapeError(op, "window \(sizeString(window)) does not fit in input \(sizeString(spatial)) with valid padding")
        }
        let h = rank == 2 ? slidingAxis(input: input[0], window: window[0], stride: strides[0], padding: padding) : (1, 0)
        let w = slidingAxis(input: spatial[rank - 1], window: window[rank - 1], stride: strides[rank - 1], padding: padding)
        return WindowGeometry(spatialRank: rank, inputHeight: rank == 2 ? input[0] : 1, inputWidth: spatial[rank - 1],
                              channels: input[rank], windowHeight: rank == 2 ? window[0] : 1, windowWidth: window[rank - 1],
                              strideHeight: rank == 2 ? strides[0] : 1, strideWidth: strides[rank - 1],
                              padTop: h.1, padLeft: w.padBefore, outputHeight: h.0, outputWidth: w.length)
    }

    /// 2-D convolution of per-sample inputs [height, width, cin] with a kernel [kh, kw, cin, cout].
    public static func conv2d(input: [Int], kernel: [Int], strides: [Int], padding: Padding) throws -> WindowGeometry {
        try convolution("conv2d", input: input, kernel: kernel, strides: strides, padding: padding, rank: 2)
    }

    /// 1-D convolution of per-sample inputs [steps, cin] with a kernel [k, cin, cout].
    public static func conv1d(input: [Int], kernel: [Int], stride: Int, padding: Padding) throws -> WindowGeometry {
        try convolution("conv1d", input: input, kernel: kernel, strides: [stride], padding: padding, rank: 1)
    }

    private static func convolution(_ op: String, input: [Int], kernel: [Int], strides: [Int], padding: Padding,
                                    rank: Int) throws -> WindowGeometry {
        guard kernel.count == rank + 2, kernel.allSatisfy({ $0 > 0 }) else {
            throw ShapeError(op, "kernel \(shapeString(kernel)) should be \(rank == 2 ? "[kh, kw, in, out]" : "[k, in, out]") with positive sizes")
        }
        let g = try window(op, input: input, window: Array(kernel.prefix(rank)), strides: strides, padding: padding)
        guard g.channels == kernel[rank] else {
            throw ShapeError(op, "input \(shapeString(input)) has \(g.channels) channels but kernel \(shapeString(kernel)) expects \(kernel[rank])")
        }
        return g
    }

    private static func sizeString(_ s: [Int]) -> String { s.map(String.init).joined(separator: "x") }
}

public enum Convolution {
    /// Fills the column matrix `col` [batch · outputPositions, patchSize] from NHWC input `x`.
    /// Each (output position, kernel row) copies one contiguous run of kw·c floats when the
    /// window is inside the input, else c floats per tap with zeros for padding.
    public static func im2col(_ x: UnsafePointer<Float>, batch: Int, _ g: WindowGeometry, into col: UnsafeMutablePointer<Float>) {
        visitPatches(g, batch: batch) { row, inputOffset, x0, x1 in
            let dst = col + row
            if let inputOffset {
                let src = x + inputOffset
                if x0 > 0 { dst.update(repeating: 0, count: x0 * g.channels) }
                copy(src + x0 * g.channels, dst + x0 * g.channels, (x1 - x0) * g.channels)
                if x1 < g.windowWidth { (dst + x1 * g.channels).update(repeating: 0, count: (g.windowWidth - x1) * g.channels) }
            } else {
                dst.update(repeating: 0, count: g.windowWidth * g.channels)
            }
        }
    }

    /// The adjoint of `im2col`: adds every column entry back onto the input element it was
    /// copied from (`dx` += scatter(col)); padding entries are dropped.
    public static func col2im(_ col: UnsafePointer<Float>, batch: Int, _ g: WindowGeometry, addingInto dx: UnsafeMutablePointer<Float>) {
        visitPatches(g, batch: batch) { row, inputOffset, x0, x1 in
            guard let inputOffset else { return }
            let src = col + row + x0 * g.channels, dst = dx + inputOffset + x0 * g.channels
            for i in 0..<(x1 - x0) * g.channels { dst[i] += src[i] }
        }
    }

    /// Calls `body` for every (output position, kernel row ky) with the offset of that kernel
    /// row inside the column matrix, the input offset of its tap kx = 0 (nil when the whole row
    /// lies in the padding), and the range x0..<x1 of its taps that lie inside the input.
    @inline(__always)
    static func visitPatches(_ g: WindowGeometry, batch: Int,
                             _ body: (_ colOffset: Int, _ inputOffset: Int?, _ x0: Int, _ x1: Int) -> Void) {
        let rowLength = g.windowWidth * g.channels
        var colOffset = 0
        for n in 0..<batch {
            let sample = n * g.inputSize
            for oy in 0..<g.outputHeight {
                let iy0 = oy * g.strideHeight - g.padTop
                for ox in 0..<g.outputWidth {
                    let ix0 = ox * g.strideWidth - g.padLeft
                    let x0 = max(0, -ix0), x1 = min(g.windowWidth, g.inputWidth - ix0)
                    for ky in 0..<g.windowHeight {
                        let iy = iy0 + ky
                        let inside = iy >= 0 && iy < g.inputHeight
                        body(colOffset, inside ? sample + (iy * g.inputWidth + ix0) * g.channels : nil, x0, x1)
                        colOffset += rowLength
                    }
                }
            }
        }
    }

    @inline(__always)
    static func copy(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { dst[i] = src[i] }
    }

    /// y = im2col(x) · K (+ bias), y of shape [batch, ...output..., cout]. Returns the column
    /// matrix for the kernel gradient (the input itself for pointwise geometry). The bias is
    /// written first and the GEMM accumulates onto it (beta = 1), so no pass zeroes y.
    @discardableResult
    public static func forward(_ x: Tensor, kernel: Tensor, bias: Tensor?, _ g: WindowGeometry, into y: Tensor) -> Tensor {
        let batch = g.batch(of: x), filters = kernel.shape.last!, rows = batch * g.outputPositions
        precondition(y.count == rows * filters, "conv: output \(shapeString(y.shape)) does not hold \(rows)x\(filters)")
        let col = columns(x, g)
        if let bias {
            let pb = bias.data, py = y.data
            for r in 0..<rows { copy(pb, py + r * filters, filters) }
        }
        BLAS.gemm(m: rows, n: filters, k: g.patchSize, a: col.data, lda: g.patchSize, b: kernel.data, ldb: filters,
                  beta: bias == nil ? 0 : 1, c: y.data, ldc: filters)
        return col
    }

    /// The column matrix of `x` (pooled buffer, or `x` itself when pointwise).
    public static func columns(_ x: Tensor, _ g: WindowGeometry) -> Tensor {
        let batch = g.batch(of: x)
        if g.isPointwise { return x.reshaped([batch * g.outputPositions, g.patchSize]) }
        let col = Tensor(uninitialized: [batch * g.outputPositions, g.patchSize])
        im2col(x.data, batch: batch, g, into: col.data)
        return col
    }

    /// dX (+)= col2im(dY · Kᵀ). With `accumulate` false, `dx` is fresh memory and is
    /// overwritten. Pointwise geometry writes the GEMM straight into dX.
    public static func inputGradient(_ dy: Tensor, kernel: Tensor, _ g: WindowGeometry, into dx: Tensor, accumulate: Bool) {
        let filters = kernel.shape.last!, batch = g.batch(of: dx), rows = batch * g.outputPositions
        if g.isPointwise {
            BLAS.gemm(transB: true, m: rows, n: g.patchSize, k: filters, a: dy.data, lda: filters, b: kernel.data,
                      ldb: filters, beta: accumulate ? 1 : 0, c: dx.data, ldc: g.patchSize)
            return
        }
        let dcol = Tensor(uninitialized: [rows, g.patchSize])
        BLAS.gemm(transB: true, m: rows, n: g.patchSize, k: filters, a: dy.data, lda: filters, b: kernel.data,
                  ldb: filters, beta: 0, c: dcol.data, ldc: g.patchSize)
        if !accumulate { dx.zero() }
        col2im(dcol.data, batch: batch, g, addingInto: dx.data)
    }

    /// dK (+)= colᵀ · dY, the kernel gradient as one GEMM over the whole batch.
    public static func kernelGradient(columns col: Tensor, _ dy: Tensor, into dk: Tensor, accumulate: Bool) {
        let filters = dk.shape.last!, rows = col.shape[0], patch = col.shape[1]
        BLAS.gemm(transA: true, m: patch, n: filters, k: rows, a: col.data, lda: patch, b: dy.data, ldb: filters,
                  beta: accumulate ? 1 : 0, c: dk.data, ldc: filters)
    }

    /// db (+)= column sums of dY viewed as [rows, cout].
    public static func biasGradient(_ dy: UnsafePointer<Float>, rows: Int, filters: Int, into db: UnsafeMutablePointer<Float>, accumulate: Bool) {
        if !accumulate { db.update(repeating: 0, count: filters) }
        for r in 0..<rows {
            let row = dy + r * filters
            for j in 0..<filters { db[j] += row[j] }
        }
    }
}
