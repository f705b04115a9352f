/// 3×3 stride-1 convolutions by Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray, "Fast
/// Algorithms for Convolutional Neural Networks", 2016).
///
/// The output is cut into 2×2 tiles; each reads a 4×4 input tile (neighbours overlap by 2). In
/// the transform domain a tile's 2×2×cout outputs come from 16 elementwise products instead of
/// 36 multiply-adds per (cin, cout) pair:
///
///     Y = Aᵀ [ (G k Gᵀ) ⊙ (Bᵀ d B) ] A
///
/// Summed over input channels, each of the 16 transform components ξ is one matrix product
/// M_ξ[tiles, cout] = V_ξ[tiles, cin] · U_ξ[cin, cout], so the GEMMs do 16/36 of im2col's
/// multiply-adds (less the tiles that overhang an odd-sized output). Backward is the adjoint of
/// the same linear maps with the same tiles: dM = A dY Aᵀ per tile, then
/// dU_ξ = V_ξᵀ · dM_ξ (kernel gradient, dk = Gᵀ dU G) and dV_ξ = dM_ξ · U_ξᵀ (input gradient,
/// dx += B dV Bᵀ tile by tile), which also saves 20/36 of each backward GEMM's work.
///
/// The transforms only add, subtract and halve, so results differ from im2col + GEMM by
/// rounding alone (relative 1e-6 on the seed CNN; the tests bound it). Work is done a few images
/// at a time so the transformed tiles of a chunk stay in L2 between the transform and its GEMMs.
public struct Winograd: Sendable {
    public let geometry: WindowGeometry
    public let filters: Int
    let tilesHigh: Int, tilesWide: Int
    /// Images per chunk: as many as keep a chunk's transformed tiles within `chunkBytes`.
    public let imagesPerChunk: Int

    /// L2 budget of one chunk's transformed tiles (V, dM and dV in backward).
    static let chunkBytes = 1 << 20

    /// Whether a convolution of this geometry with `filters` outputs runs as Winograd: 2-D,
    /// 3×3, stride 1, and channel counts that fill 8-wide vectors. Narrow layers (an RGB input's
    /// 3 channels) stay with im2col, where the GEMMs' depth would be too small to gain. So do
    /// images whose transformed tiles alone outgrow 4 chunks (a chunk holds whole images, and
    /// im2col's chunks, rows of one image, keep the scratch small for large images).
    public static func applies(_ g: WindowGeometry, filters: Int) -> Bool {
        g.spatialRank == 2 && g.windowHeight == 3 && g.windowWidth == 3 && g.strideHeight == 1 && g.strideWidth == 1
            && g.channels >= 16 && g.channels % 8 == 0 && filters >= 16 && filters % 8 == 0
            && imageBytes(g, filters: filters) <= 4 * chunkBytes
    }

    /// Bytes of one image's transformed tiles (V, dV and dM in backward).
    static func imageBytes(_ g: WindowGeometry, filters: Int) -> Int {
        16 * 4 * (2 * g.channels + filters) * ((g.outputHeight + 1) / 2) * ((g.outputWidth + 1) / 2)
    }

    public init?(_ g: WindowGeometry, filters: Int) {
        guard Winograd.applies(g, filters: filters) else { return nil }
        geometry = g
        self.filters = filters
        tilesHigh = (g.outputHeight + 1) / 2
        tilesWide = (g.outputWidth + 1) / 2
        imagesPerChunk = max(1, Winograd.chunkBytes / Winograd.imageBytes(g, filters: filters))
    }

    var tilesPerImage: Int { tilesHigh * tilesWide }
    var componentSize: Int { geometry.channels * filters }

    /// Buffers of one forward or backward call, sized for a full chunk.
    public struct Scratch {
        /// Transformed kernel U, [16, cin, cout].
        public let kernel: Tensor
        /// Kernel gradient in the transform domain dU, [16, cin, cout], and Uᵀ, [16, cout, cin]
        /// (backward only: the input-gradient GEMMs read Uᵀ untransposed, which OpenBLAS's
        /// small-matrix kernels run a third faster than the transposed operand on Zen 4).
        let kernelGradient: Tensor?, transposedKernel: Tensor?
        /// V (input tiles) and dV, [16, tiles, cin]; M or dM, [16, tiles, cout].
        let inputTiles: Tensor, inputTileGradient: Tensor?, outputTiles: Tensor
    }

    public func makeScratch(backward: Bool) -> Scratch {
        let tiles = imagesPerChunk * tilesPerImage, c = geometry.channels
        return Scratch(kernel: Tensor(uninitialized: [16, c, filters]),
                       kernelGradient: backward ? Tensor(uninitialized: [16, c, filters]) : nil,
                       transposedKernel: backward ? Tensor(uninitialized: [16, filters, c]) : nil,
                       inputTiles: Tensor(uninitialized: [16, tiles, c]),
                       inputTileGradient: backward ? Tensor(uninitialized: [16, tiles, c]) : nil,
                       outputTiles: Tensor(uninitialized: [16, tiles, filters]))
    }

    /// Calls `body` with consecutive image ranges of at most `imagesPerChunk` images.
    public func forEachChunk(batch: Int, _ body: (Range<Int>) -> Void) {
        var n = 0
        while n < batch {
            let end = min(batch, n + imagesPerChunk)
            body(n..<end)
            n = end
        }
    }

    /// U = G k Gᵀ for every (cin, cout) pair of the [3, 3, cin, cout] kernel `k`, and Uᵀ too
    /// when the scratch is backward's.
    public func transformKernel(_ k: UnsafePointer<Float>, into s: Scratch) {
        let n = componentSize, u = s.kernel.data
        var i = 0
        while i < n {
            let r0 = Winograd.g(load(k + i), load(k + n + i), load(k + 2 * n + i))
            let r1 = Winograd.g(load(k + 3 * n + i), load(k + 4 * n + i), load(k + 5 * n + i))
            let r2 = Winograd.g(load(k + 6 * n + i), load(k + 7 * n + i), load(k + 8 * n + i))
            storeColumn(Winograd.g(r0.0, r1.0, r2.0), 0, u + i, n)
            storeColumn(Winograd.g(r0.1, r1.1, r2.1), 1, u + i, n)
            storeColumn(Winograd.g(r0.2, r1.2, r2.2), 2, u + i, n)
            storeColumn(Winograd.g(r0.3, r1.3, r2.3), 3, u + i, n)
            i += 8
        }
        if let ut = s.transposedKernel?.data {
            let c = geometry.channels
            for xi in 0..<16 {
                let src = u + xi * n, dst = ut + xi * n
                for ci in 0..<c { for co in 0..<filters { dst[co * c + ci] = src[ci * filters + co] } }
            }
        }
    }

    /// Pre-activation outputs (conv + bias) of `images` into `z`, which holds those images'
    /// [outputHeight, outputWidth, cout] outputs back to back. `s.kernel` must be transformed.
    public func forward(_ x: UnsafePointer<Float>, bias: UnsafePointer<Float>?, images: Range<Int>, _ s: Scratch,
                        into z: UnsafeMutablePointer<Float>) {
        let tiles = images.count * tilesPerImage, c = geometry.channels
        let v = s.inputTiles.data, m = s.outputTiles.data, u = s.kernel.data
        for (i, n) in images.enumerated() { transformInput(x, image: n, tile0: i * tilesPerImage, tiles: tiles, into: v) }
        for xi in 0..<16 {
            BLAS.gemm(m: tiles, n: filters, k: c, a: v + xi * tiles * c, lda: c, b: u + xi * componentSize, ldb: filters,
                      c: m + xi * tiles * filters, ldc: filters)
        }
        for i in 0..<images.count {
            transformOutput(m, tile0: i * tilesPerImage, tiles: tiles, bias: bias, into: z + i * geometry.outputPositions * filters)
        }
    }

    /// Backward of `forward` for `images` from their pre-activation gradient `dz` (laid out as
    /// forward's `z`). Adds this chunk's kernel gradient to `s.kernelGradient` (overwriting it on
    /// the `first` chunk) when `kernelGradient`, and adds the input gradient into `dx`.
    public func backward(_ dz: UnsafePointer<Float>, x: UnsafePointer<Float>, images: Range<Int>, _ s: Scratch, first: Bool,
                         kernelGradient: Bool, inputGradient dx: UnsafeMutablePointer<Float>?) {
        let tiles = images.count * tilesPerImage, c = geometry.channels
        let v = s.inputTiles.data, dm = s.outputTiles.data
        for i in 0..<images.count {
            transformOutputGradient(dz + i * geometry.outputPositions * filters, tile0: i * tilesPerImage, tiles: tiles, into: dm)
        }
        if kernelGradient, let du = s.kernelGradient?.data {
            for (i, n) in images.enumerated() { transformInput(x, image: n, tile0: i * tilesPerImage, tiles: tiles, into: v) }
            for xi in 0..<16 {
                BLAS.gemm(transA: true, m: c, n: filters, k: tiles, a: v + xi * tiles * c, lda: c,
                          b: dm + xi * tiles * filters, ldb: filters, beta: first ? 0 : 1, c: du + xi * componentSize, ldc: filters)
            }
        }
        if let dx, let dv = s.inputTileGradient?.data, let ut = s.transposedKernel?.data {
            for xi in 0..<16 {
                BLAS.gemm(m: tiles, n: c, k: filters, a: dm + xi * tiles * filters, lda: filters,
                          b: ut + xi * componentSize, ldb: c, c: dv + xi * tiles * c, ldc: c)
            }
            for (i, n) in images.enumerated() { transformInputGradient(dv, tile0: i * tilesPerImage, tiles: tiles, image: n, into: dx) }
        }
    }

    /// dk = Gᵀ dU G from the accumulated `s.kernelGradient`, written into (or added to) the
    /// [3, 3, cin, cout] kernel gradient `dk`.
    public func finishKernelGradient(_ s: Scratch, into dk: UnsafeMutablePointer<Float>, accumulate: Bool) {
        guard let du = s.kernelGradient?.data else { return }
        let n = componentSize
        var i = 0
        while i < n {
            @inline(__always) func du4(_ r: Int) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
                Winograd.gT(load(du + 4 * r * n + i), load(du + (4 * r + 1) * n + i), load(du + (4 * r + 2) * n + i),
                            load(du + (4 * r + 3) * n + i))
            }
            let q0 = du4(0), q1 = du4(1), q2 = du4(2), q3 = du4(3)
            @inline(__always) func put(_ t: (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>), _ kw: Int) {
                let p = dk + kw * n + i
                store(accumulate ? load(p) + t.0 : t.0, p)
                store(accumulate ? load(p + 3 * n) + t.1 : t.1, p + 3 * n)
                store(accumulate ? load(p + 6 * n) + t.2 : t.2, p + 6 * n)
            }
            put(Winograd.gT(q0.0, q1.0, q2.0, q3.0), 0)
            put(Winograd.gT(q0.1, q1.1, q2.1, q3.1), 1)
            put(Winograd.gT(q0.2, q1.2, q2.2, q3.2), 2)
            i += 8
        }
    }

    // MARK: Tile transforms (channels in 8-wide vectors)

    /// V = Bᵀ d B for every tile of `image` into `v` ([16, tiles, cin], this image's tiles from
    /// `tile0`); input outside the image (padding, overhang) reads as zero.
    func transformInput(_ x: UnsafePointer<Float>, image n: Int, tile0: Int, tiles: Int, into v: UnsafeMutablePointer<Float>) {
        let g = geometry, c = g.channels, img = x + n * g.inputSize, cs = tiles * c
        forEachTile { t, oy, ox in
            let y0 = oy - g.padTop, x0 = ox - g.padLeft
            let inside = y0 >= 0 && y0 + 4 <= g.inputHeight && x0 >= 0 && x0 + 4 <= g.inputWidth
            let out = v + (tile0 + t) * c
            @inline(__always) func d(_ i: Int, _ j: Int, _ ch: Int) -> SIMD8<Float> {
                let iy = y0 + i, ix = x0 + j
                guard inside || (iy >= 0 && iy < g.inputHeight && ix >= 0 && ix < g.inputWidth) else { return .zero }
                return load(img + (iy * g.inputWidth + ix) * c + ch)
            }
            var ch = 0
            while ch < c {
                let e0 = Winograd.bT(d(0, 0, ch), d(0, 1, ch), d(0, 2, ch), d(0, 3, ch))
                let e1 = Winograd.bT(d(1, 0, ch), d(1, 1, ch), d(1, 2, ch), d(1, 3, ch))
                let e2 = Winograd.bT(d(2, 0, ch), d(2, 1, ch), d(2, 2, ch), d(2, 3, ch))
                let e3 = Winograd.bT(d(3, 0, ch), d(3, 1, ch), d(3, 2, ch), d(3, 3, ch))
                storeColumn(Winograd.bT(e0.0, e1.0, e2.0, e3.0), 0, out + ch, cs)
                storeColumn(Winograd.bT(e0.1, e1.1, e2.1, e3.1), 1, out + ch, cs)
                storeColumn(Winograd.bT(e0.2, e1.2, e2.2, e3.2), 2, out + ch, cs)
                storeColumn(Winograd.bT(e0.3, e1.3, e2.3, e3.3), 3, out + ch, cs)
                ch += 8
            }
        }
    }

    /// Y = Aᵀ M A (+ bias) for every tile of one image, written into its [outH, outW, cout]
    /// output `z`; the halves of tiles that overhang an odd-sized output are dropped.
    func transformOutput(_ m: UnsafePointer<Float>, tile0: Int, tiles: Int, bias: UnsafePointer<Float>?,
                         into z: UnsafeMutablePointer<Float>) {
        let g = geometry, f = filters, cs = tiles * f
        forEachTile { t, oy, ox in
            let src = m + (tile0 + t) * f
            let rows = min(2, g.outputHeight - oy), cols = min(2, g.outputWidth - ox)
            var ch = 0
            while ch < f {
                @inline(__always) func mm(_ r: Int, _ col: Int) -> SIMD8<Float> { load(src + (r * 4 + col) * cs + ch) }
                let a0 = Winograd.aT(mm(0, 0), mm(0, 1), mm(0, 2), mm(0, 3))
                let a1 = Winograd.aT(mm(1, 0), mm(1, 1), mm(1, 2), mm(1, 3))
                let a2 = Winograd.aT(mm(2, 0), mm(2, 1), mm(2, 2), mm(2, 3))
                let a3 = Winograd.aT(mm(3, 0), mm(3, 1), mm(3, 2), mm(3, 3))
                let b = bias.map { load($0 + ch) } ?? .zero
                let left = Winograd.aT(a0.0, a1.0, a2.0, a3.0), right = Winograd.aT(a0.1, a1.1, a2.1, a3.1)
                let top = z + (oy * g.outputWidth + ox) * f + ch
                store(left.0 + b, top)
                if cols == 2 { store(right.0 + b, top + f) }
                if rows == 2 {
                    let bottom = top + g.outputWidth * f
                    store(left.1 + b, bottom)
                    if cols == 2 { store(right.1 + b, bottom + f) }
                }
                ch += 8
            }
        }
    }

    /// dM = A dY Aᵀ for every tile of one image from its output gradient `dz` (zero where a
    /// tile overhangs the output).
    func transformOutputGradient(_ dz: UnsafePointer<Float>, tile0: Int, tiles: Int, into dm: UnsafeMutablePointer<Float>) {
        let g = geometry, f = filters, cs = tiles * f
        forEachTile { t, oy, ox in
            let out = dm + (tile0 + t) * f
            let rows = min(2, g.outputHeight - oy), cols = min(2, g.outputWidth - ox)
            var ch = 0
            while ch < f {
                @inline(__always) func dy(_ i: Int, _ j: Int) -> SIMD8<Float> {
                    i < rows && j < cols ? load(dz + ((oy + i) * g.outputWidth + ox + j) * f + ch) : .zero
                }
                let top = Winograd.a(dy(0, 0), dy(0, 1)), bottom = Winograd.a(dy(1, 0), dy(1, 1))
                storeColumn(Winograd.a(top.0, bottom.0), 0, out + ch, cs)
                storeColumn(Winograd.a(top.1, bottom.1), 1, out + ch, cs)
                storeColumn(Winograd.a(top.2, bottom.2), 2, out + ch, cs)
                storeColumn(Winograd.a(top.3, bottom.3), 3, out + ch, cs)
                ch += 8
            }
        }
    }

    /// dx += B dV Bᵀ for every tile of `image` (the adjoint of `transformInput`); entries that
    /// fall on padding or overhang are dropped.
    func transformInputGradient(_ dv: UnsafePointer<Float>, tile0: Int, tiles: Int, image n: Int, into dx: UnsafeMutablePointer<Float>) {
        let g = geometry, c = g.channels, img = dx + n * g.inputSize, cs = tiles * c
        forEachTile { t, oy, ox in
            let y0 = oy - g.padTop, x0 = ox - g.padLeft
            let src = dv + (tile0 + t) * c
            let inside = y0 >= 0 && y0 + 4 <= g.inputHeight
            var ch = 0
            while ch < c {
                @inline(__always) func v(_ r: Int, _ col: Int) -> SIMD8<Float> { load(src + (r * 4 + col) * cs + ch) }
                let h0 = Winograd.b(v(0, 0), v(0, 1), v(0, 2), v(0, 3)), h1 = Winograd.b(v(1, 0), v(1, 1), v(1, 2), v(1, 3))
                let h2 = Winograd.b(v(2, 0), v(2, 1), v(2, 2), v(2, 3)), h3 = Winograd.b(v(3, 0), v(3, 1), v(3, 2), v(3, 3))
                @inline(__always) func add(_ t: (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>), _ j: Int) {
                    guard x0 + j >= 0 && x0 + j < g.inputWidth else { return }
                    let p = img + (y0 * g.inputWidth + x0 + j) * c + ch, rowStride = g.inputWidth * c
                    @inline(__always) func addRow(_ i: Int, _ value: SIMD8<Float>) {
                        guard inside || (y0 + i >= 0 && y0 + i < g.inputHeight) else { return }
                        store(load(p + i * rowStride) + value, p + i * rowStride)
                    }
                    addRow(0, t.0)
                    addRow(1, t.1)
                    addRow(2, t.2)
                    addRow(3, t.3)
                }
                add(Winograd.b(h0.0, h1.0, h2.0, h3.0), 0)
                add(Winograd.b(h0.1, h1.1, h2.1, h3.1), 1)
                add(Winograd.b(h0.2, h1.2, h2.2, h3.2), 2)
                add(Winograd.b(h0.3, h1.3, h2.3, h3.3), 3)
                ch += 8
            }
        }
    }

    /// Calls `body` for every tile of an image with its index and its top-left output position.
    @inline(__always) func forEachTile(_ body: (_ index: Int, _ oy: Int, _ ox: Int) -> Void) {
        for th in 0..<tilesHigh {
            for tw in 0..<tilesWide { body(th * tilesWide + tw, 2 * th, 2 * tw) }
        }
    }

    // MARK: The 1-D transforms

    typealias V8 = SIMD8<Float>

    /// Bᵀ·(d0, d1, d2, d3).
    @inline(__always) static func bT(_ d0: V8, _ d1: V8, _ d2: V8, _ d3: V8) -> (V8, V8, V8, V8) { (d0 - d2, d1 + d2, d2 - d1, d1 - d3) }
    /// B·(v0, v1, v2, v3), the adjoint of `bT`.
    @inline(__always) static func b(_ v0: V8, _ v1: V8, _ v2: V8, _ v3: V8) -> (V8, V8, V8, V8) { (v0, v1 - v2 + v3, v1 + v2 - v0, -v3) }
    /// G·(k0, k1, k2).
    @inline(__always) static func g(_ k0: V8, _ k1: V8, _ k2: V8) -> (V8, V8, V8, V8) {
        let half = V8(repeating: 0.5), s = (k0 + k2) * half, d = k1 * half
        return (k0, s + d, s - d, k2)
    }
    /// Gᵀ·(u0, u1, u2, u3), the adjoint of `g`.
    @inline(__always) static func gT(_ u0: V8, _ u1: V8, _ u2: V8, _ u3: V8) -> (V8, V8, V8) {
        let half = V8(repeating: 0.5), s = (u1 + u2) * half
        return (u0 + s, (u1 - u2) * half, s + u3)
    }
    /// Aᵀ·(m0, m1, m2, m3).
    @inline(__always) static func aT(_ m0: V8, _ m1: V8, _ m2: V8, _ m3: V8) -> (V8, V8) { (m0 + m1 + m2, m1 - m2 - m3) }
    /// A·(y0, y1), the adjoint of `aT`.
    @inline(__always) static func a(_ y0: V8, _ y1: V8) -> (V8, V8, V8, V8) { (y0, y0 + y1, y0 - y1, -y1) }
}

@inline(__always) private func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }
@inline(__always) private func load(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> { load(UnsafePointer(p)) }
@inline(__always) private func store(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// Stores the four rows r of column `col` of a 4×4 transform: element (r, col) is component
/// r·4 + col, `stride` floats apart per component.
@inline(__always) private func storeColumn(_ t: (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>), _ col: Int,
                                           _ p: UnsafeMutablePointer<Float>, _ stride: Int) {
    store(t.0, p + col * stride)
    store(t.1, p + (4 + col) * stride)
    store(t.2, p + (8 + col) * stride)
    store(t.3, p + (12 + col) * stride)
}

extension Convolution {
    /// The Winograd form of `forward` and `forwardMaxPooled`: for each chunk of images, the
    /// pre-activation outputs go to `destination(images)` (the layer's output, or a scratch the
    /// caller pools from), then `finish(images)` applies what follows the convolution.
    static func forwardWinograd(_ w: Winograd, _ x: Tensor, kernel: Tensor, bias: Tensor?,
                                destination: (Range<Int>) -> UnsafeMutablePointer<Float>, finish: (Range<Int>) -> Void) {
        let s = w.makeScratch(backward: false)
        w.transformKernel(kernel.data, into: s)
        w.forEachChunk(batch: w.geometry.batch(of: x)) { images in
            w.forward(x.data, bias: bias?.data, images: images, s, into: destination(images))
            finish(images)
        }
    }

    /// The Winograd form of `backward` and `backwardMaxPooled`, given each chunk's
    /// pre-activation gradient from `preActivationGradient(images)`. Slots as in `backward`.
    static func backwardWinograd(_ w: Winograd, x: Tensor, kernel: Tensor,
                                 inputGradient dx: (grad: Tensor, accumulate: Bool)?,
                                 kernelGradient dk: (grad: Tensor, accumulate: Bool)?,
                                 biasGradient db: (grad: Tensor, accumulate: Bool)?,
                                 preActivationGradient: (Range<Int>) -> UnsafePointer<Float>) {
        let s = w.makeScratch(backward: true)
        if dx != nil { w.transformKernel(kernel.data, into: s) }
        if let db, !db.accumulate { db.grad.zero() }
        if let dx, !dx.accumulate { dx.grad.zero() }
        var first = true
        w.forEachChunk(batch: w.geometry.batch(of: x)) { images in
            let dz = preActivationGradient(images)
            if let db { biasGradient(dz, rows: images.count * w.geometry.outputPositions, filters: w.filters, into: db.grad.data) }
            w.backward(dz, x: x.data, images: images, s, first: first, kernelGradient: dk != nil, inputGradient: dx?.grad.data)
            first = false
        }
        if let dk { w.finishKernelGradient(s, into: dk.grad.data, accumulate: dk.accumulate) }
    }
}
