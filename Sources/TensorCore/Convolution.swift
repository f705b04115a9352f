/// Convolution kernels in NHWC layout with Keras semantics, lowered to GEMM via im2col.
///
/// The im2col matrix has one row per output position (batch × out-height × out-width rows) and
/// one column per kernel tap in (kh, kw, c) order, which is exactly the row-major order of a
/// Keras kernel [kh, kw, cin, cout]. The kernel is therefore used as a [kh·kw·cin, cout] matrix
/// as stored, and every product (forward, input gradient, kernel gradient) is a `cblas_sgemm`.
/// 1-D convolutions (NWC, kernel [k, cin, cout]) are the height-1 case.
///
/// The column matrix is never materialised for the whole batch: both passes walk it in chunks
/// of rows small enough to stay in L2 cache, so each chunk is written by im2col and read by the
/// GEMMs while hot (a whole-batch matrix streams 6-12 MB through DRAM twice, and the seed CNN's
/// GEMMs ran at 50-80% of their in-cache speed on it). Bias, activation and the activation derivative are
/// applied to each chunk of the output while it is in cache too. Backward recomputes im2col
/// instead of keeping the matrix from forward: rewriting a chunk costs less than reading it
/// back from memory, and nothing large is held between the passes.

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
    /// Bytes of column matrix per chunk, at most `maxChunkRows` rows: with the chunk's output
    /// and gradient rows and the kernel this stays well within a 1 MB L2 (Zen 4). Measured on
    /// the seed CNN: flat between 128 and 512 KB; the row cap helps narrow patches (conv1's
    /// 27 columns), whose output and gradient rows outweigh the columns.
    static let chunkBytes = 192 << 10
    static let maxChunkRows = 512

    /// Row ranges of the column matrix, each about `chunkBytes`.
    static func chunks(_ rows: Int, _ g: WindowGeometry) -> StrideTo<Int> {
        stride(from: 0, to: rows, by: chunkRows(g))
    }

    static func chunkRows(_ g: WindowGeometry) -> Int { min(maxChunkRows, max(16, chunkBytes / (4 * g.patchSize))) }

    /// y = f(im2col(x) · K + bias) with y of shape [batch, ...output..., cout]. When `z` is
    /// given it receives the pre-activation (for activations whose derivative needs it).
    public static func forward(_ x: Tensor, kernel: Tensor, bias: Tensor?, activation: ActivationKind, _ g: WindowGeometry,
                               into y: Tensor, preActivation z: Tensor? = nil) {
        let filters = kernel.shape.last!, rows = g.batch(of: x) * g.outputPositions, patch = g.patchSize
        precondition(y.count == rows * filters && kernel.count == patch * filters,
                     "conv: output \(shapeString(y.shape)) or kernel \(shapeString(kernel.shape)) does not fit the geometry")
        let out = z ?? y
        if let w = Winograd(g, filters: filters) {
            let per = g.outputPositions * filters
            return forwardWinograd(w, x, kernel: kernel, bias: bias, destination: { out.data + $0.lowerBound * per }, finish: {
                activation.forward(out.data + $0.lowerBound * per, y.data + $0.lowerBound * per, $0.count * per)
            })
        }
        let step = chunkRows(g)
        let scratch = g.isPointwise ? nil : Tensor(uninitialized: [min(step, rows), patch])
        for r0 in chunks(rows, g) {
            let n = min(step, rows - r0), o = out.data + r0 * filters
            forwardChunk(x, kernel: kernel, bias: bias, g, rows: r0..<(r0 + n), scratch: scratch, into: o)
            activation.forward(o, y.data + r0 * filters, n * filters)
        }
    }

    /// Pre-activation output rows `rows` (im2col rows · kernel + bias) into `z`.
    static func forwardChunk(_ x: Tensor, kernel: Tensor, bias: Tensor?, _ g: WindowGeometry, rows: Range<Int>, scratch: Tensor?,
                             into z: UnsafeMutablePointer<Float>) {
        let filters = kernel.shape.last!, patch = g.patchSize, n = rows.count
        let col = columns(x, g, rows: rows, scratch: scratch)
        if let bias { for r in 0..<n { copy(bias.data, z + r * filters, filters) } }
        BLAS.gemm(m: n, n: filters, k: patch, a: col, lda: patch, b: kernel.data, ldb: filters,
                  beta: bias == nil ? 0 : 1, c: z, ldc: filters)
    }

    /// Backward of `forward` from the output gradient `dy`, chunk by chunk: the activation
    /// derivative, then each requested gradient (nil slots are skipped entirely; `accumulate`
    /// false means the slot is fresh memory to overwrite). x, y and z are forward's tensors.
    public static func backward(_ dy: Tensor, x: Tensor, kernel: Tensor, y: Tensor, preActivation z: Tensor? = nil,
                                activation: ActivationKind, _ g: WindowGeometry,
                                inputGradient dx: (grad: Tensor, accumulate: Bool)?,
                                kernelGradient dk: (grad: Tensor, accumulate: Bool)?,
                                biasGradient db: (grad: Tensor, accumulate: Bool)?) {
        let filters = kernel.shape.last!, rows = g.batch(of: x) * g.outputPositions, patch = g.patchSize
        if let w = Winograd(g, filters: filters) {
            let per = g.outputPositions * filters
            let dzScratch = activation == .linear ? nil : Tensor(uninitialized: [w.imagesPerChunk * per])
            return backwardWinograd(w, x: x, kernel: kernel, inputGradient: dx, kernelGradient: dk, biasGradient: db) { images in
                let o = images.lowerBound * per
                guard let dzScratch else { return UnsafePointer(dy.data + o) }
                activation.backward(x: (z ?? y).data + o, y: y.data + o, dy: dy.data + o, dx: dzScratch.data, images.count * per,
                                    accumulate: false)
                return UnsafePointer(dzScratch.data)
            }
        }
        let step = min(chunkRows(g), rows)
        let dzScratch = activation == .linear ? nil : Tensor(uninitialized: [step, filters])
        let colScratch = dk == nil || g.isPointwise ? nil : Tensor(uninitialized: [step, patch])
        let dcolScratch = dx == nil || g.isPointwise ? nil : Tensor(uninitialized: [step, patch])
        if let db, !db.accumulate { db.grad.zero() }
        if let dx, !dx.accumulate, !g.isPointwise { dx.grad.zero() }
        let scratch = BackwardScratch(columns: colScratch, columnGradient: dcolScratch)
        for r0 in chunks(rows, g) {
            let n = min(step, rows - r0), o = r0 * filters
            var dz = UnsafePointer(dy.data + o)
            if let dzScratch {
                activation.backward(x: (z ?? y).data + o, y: y.data + o, dy: dy.data + o, dx: dzScratch.data, n * filters, accumulate: false)
                dz = UnsafePointer(dzScratch.data)
            }
            backwardChunk(dz, rows: r0..<(r0 + n), first: r0 == 0, x: x, kernel: kernel, g, scratch,
                          inputGradient: dx, kernelGradient: dk, biasGradient: db)
        }
    }

    /// Chunk-sized scratch of the backward GEMMs: im2col rows and their gradient (nil when
    /// that gradient is not wanted or the geometry is pointwise).
    struct BackwardScratch {
        let columns: Tensor?
        let columnGradient: Tensor?
    }

    /// One chunk of backward from the pre-activation gradient `dz` of output rows `rows`: bias
    /// sum, kernel-gradient GEMM on the recomputed im2col rows (overwriting on the `first`
    /// chunk of a fresh slot), input-gradient GEMM and col2im. A fresh, non-pointwise `dx`
    /// must already be zeroed, since col2im adds.
    static func backwardChunk(_ dz: UnsafePointer<Float>, rows: Range<Int>, first: Bool, x: Tensor, kernel: Tensor,
                              _ g: WindowGeometry, _ scratch: BackwardScratch,
                              inputGradient dx: (grad: Tensor, accumulate: Bool)?,
                              kernelGradient dk: (grad: Tensor, accumulate: Bool)?,
                              biasGradient db: (grad: Tensor, accumulate: Bool)?) {
        let filters = kernel.shape.last!, patch = g.patchSize, n = rows.count
        if let db { biasGradient(dz, rows: n, filters: filters, into: db.grad.data) }
        if let dk {
            let col = columns(x, g, rows: rows, scratch: scratch.columns)
            BLAS.gemm(transA: true, m: patch, n: filters, k: n, a: col, lda: patch, b: dz, ldb: filters,
                      beta: first && !dk.accumulate ? 0 : 1, c: dk.grad.data, ldc: filters)
        }
        if let dx {
            if let dcol = scratch.columnGradient {
                BLAS.gemm(transB: true, m: n, n: patch, k: filters, a: dz, lda: filters, b: kernel.data, ldb: filters,
                          beta: 0, c: dcol.data, ldc: patch)
                col2im(dcol.data, g, rows: rows, addingInto: dx.grad.data)
            } else {
                BLAS.gemm(transB: true, m: n, n: patch, k: filters, a: dz, lda: filters, b: kernel.data, ldb: filters,
                          beta: dx.accumulate ? 1 : 0, c: dx.grad.data + rows.lowerBound * patch, ldc: patch)
            }
        }
    }

    /// Rows `rows` of the column matrix of `x`: im2col into `scratch`, or a pointer into `x`
    /// itself when the geometry is pointwise.
    @inline(__always)
    static func columns(_ x: Tensor, _ g: WindowGeometry, rows: Range<Int>, scratch: Tensor?) -> UnsafePointer<Float> {
        guard let scratch else { return UnsafePointer(x.data + rows.lowerBound * g.patchSize) }
        im2col(x.data, g, rows: rows, into: scratch.data)
        return UnsafePointer(scratch.data)
    }

    /// db += column sums of dz viewed as [rows, filters].
    static func biasGradient(_ dz: UnsafePointer<Float>, rows: Int, filters: Int, into db: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let row = dz + r * filters
            for j in 0..<filters { db[j] += row[j] }
        }
    }

    /// Writes rows `rows` of the column matrix [batch · outputPositions, patchSize] of NHWC
    /// input `x` into `col`: per kernel row one contiguous run of kw·c floats (zeros for padding).
    public static func im2col(_ x: UnsafePointer<Float>, _ g: WindowGeometry, rows: Range<Int>, into col: UnsafeMutablePointer<Float>) {
        let c = g.channels, run = g.windowWidth * c, rowStride = g.inputWidth * c
        visitPatches(g, rows: rows, interior: { offset, inputOffset in
            var src = x + inputOffset, dst = col + offset
            for _ in 0..<g.windowHeight {
                copy(src, dst, run)
                src += rowStride
                dst += run
            }
        }, border: { offset, inputOffset, x0, x1 in
            let dst = col + offset
            guard let inputOffset else { return dst.update(repeating: 0, count: run) }
            if x0 > 0 { dst.update(repeating: 0, count: x0 * c) }
            copy(x + inputOffset + x0 * c, dst + x0 * c, (x1 - x0) * c)
            if x1 < g.windowWidth { (dst + x1 * c).update(repeating: 0, count: (g.windowWidth - x1) * c) }
        })
    }

    /// The adjoint of `im2col`: adds every entry of the column rows back onto the input element
    /// it was copied from (dx += scatter(col)); padding entries are dropped.
    public static func col2im(_ col: UnsafePointer<Float>, _ g: WindowGeometry, rows: Range<Int>, addingInto dx: UnsafeMutablePointer<Float>) {
        let c = g.channels, run = g.windowWidth * c, rowStride = g.inputWidth * c
        visitPatches(g, rows: rows, interior: { offset, inputOffset in
            var src = col + offset, dst = dx + inputOffset
            for _ in 0..<g.windowHeight {
                add(src, dst, run)
                src += run
                dst += rowStride
            }
        }, border: { offset, inputOffset, x0, x1 in
            guard let inputOffset else { return }
            add(col + offset + x0 * c, dx + inputOffset + x0 * c, (x1 - x0) * c)
        })
    }

    /// Walks the output positions `rows` (global row indices of the column matrix). A position
    /// whose window lies wholly inside the input gets one `interior` call with its column
    /// offset (relative to the first requested row) and the input offset of tap (0, 0); the
    /// others get one `border` call per kernel row ky with the input offset of its tap kx = 0
    /// (nil when the whole kernel row is padding) and the range x0..<x1 of its taps inside.
    /// With valid padding every position is interior, so the common case does no clipping.
    @inline(__always)
    static func visitPatches(_ g: WindowGeometry, rows: Range<Int>, interior: (_ colOffset: Int, _ inputOffset: Int) -> Void,
                             border: (_ colOffset: Int, _ inputOffset: Int?, _ x0: Int, _ x1: Int) -> Void) {
        let patch = g.patchSize, run = g.windowWidth * g.channels
        // Output columns whose window is horizontally inside: 0 ≤ ox·s − pad and ox·s − pad + kw ≤ W.
        let oxLo = (g.padLeft + g.strideWidth - 1) / g.strideWidth
        let oxHi = min(g.outputWidth, max(oxLo, (g.inputWidth - g.windowWidth + g.padLeft) / g.strideWidth + 1))
        var p = rows.lowerBound, colOffset = 0
        while p < rows.upperBound {
            let n = p / g.outputPositions, oy = p % g.outputPositions / g.outputWidth, first = p % g.outputWidth
            let last = min(g.outputWidth, first + rows.upperBound - p)
            let iy0 = oy * g.strideHeight - g.padTop, sample = n * g.inputSize
            let rowInside = iy0 >= 0 && iy0 + g.windowHeight <= g.inputHeight
            for ox in first..<last {
                let ix0 = ox * g.strideWidth - g.padLeft
                if rowInside && ox >= oxLo && ox < oxHi {
                    interior(colOffset, sample + (iy0 * g.inputWidth + ix0) * g.channels)
                } else {
                    let x0 = max(0, -ix0), x1 = min(g.windowWidth, g.inputWidth - ix0)
                    for ky in 0..<g.windowHeight {
                        let iy = iy0 + ky
                        border(colOffset + ky * run, iy >= 0 && iy < g.inputHeight ? sample + (iy * g.inputWidth + ix0) * g.channels : nil, x0, x1)
                    }
                }
                colOffset += patch
            }
            p += last - first
        }
    }

    /// dst[0..<n] = src[0..<n] in explicit 8-wide vectors: runs are short (kw·c, e.g. 9 floats
    /// for a 3×3 kernel on RGB), where a vectorised loop's alias checks would dominate.
    @inline(__always)
    static func copy(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        while i + 8 <= n {
            UnsafeMutableRawPointer(dst + i).storeBytes(of: UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
            i += 8
        }
        while i < n { dst[i] = src[i]; i += 1 }
    }

    /// dst[0..<n] += src[0..<n], vectorised like `copy`.
    @inline(__always)
    static func add(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        while i + 8 <= n {
            let sum = UnsafeRawPointer(dst + i).loadUnaligned(as: SIMD8<Float>.self) + UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(dst + i).storeBytes(of: sum, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n { dst[i] += src[i]; i += 1 }
    }
}
