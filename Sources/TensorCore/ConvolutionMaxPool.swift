/// A convolution followed by max pooling whose windows tile its output (stride = pool size,
/// valid padding) — the CNN pattern `Conv2D(relu) → MaxPooling2D` — as one pass.
///
/// Unfused, the convolution's output is the largest tensor of such a network (the seed CNN's
/// first one is 64×30×30×32 floats, 7.4 MB) and it crosses memory five times a step: the conv
/// writes it, pooling reads it, pooling's backward writes its gradient, the activation
/// derivative reads that gradient and the output again. Fused, each chunk of output rows is
/// pooled while still in cache, and only the pooled tensor and a one-byte winning tap per
/// pooled element reach memory. Backward needs neither the output nor its gradient: the
/// gradient of a chunk is zero except at the winners, where it is the pooled gradient times
/// the activation's derivative at the pooled value (the winner's own output), so each chunk of
/// it is rebuilt in cache from the pooled tensors. Output rows no window covers (the last row
/// of an odd height under floor pooling) are not computed at all: nothing reads them.
///
/// Results equal the unfused pair: the same values are pooled with the same first-wins rule.
extension Convolution {
    /// Whether a convolution with `activation` followed by the max pooling `pool` (geometry
    /// over the convolution's output) can run fused: the activation's derivative must follow
    /// from its output, and the windows must tile the output without padding.
    public static func fusesWithMaxPool(activation: ActivationKind, pool p: WindowGeometry) -> Bool {
        activation.derivativeFromOutput && p.strideHeight == p.windowHeight && p.strideWidth == p.windowWidth
            && p.padTop == 0 && p.padLeft == 0 && p.windowHeight * p.windowWidth <= Int(UInt8.max) + 1
    }

    /// Elements of the winning-tap buffer for a pooled output of `count` elements, in floats
    /// (the buffer is a `Tensor` used as raw bytes).
    public static func maxPoolTapFloats(_ count: Int) -> Int { (count + 3) / 4 }

    /// y = maxpool(activation(conv(x, kernel) + bias)); `taps` receives, per element of y, the
    /// index (row-major within the window) of the tap that won.
    public static func forwardMaxPooled(_ x: Tensor, kernel: Tensor, bias: Tensor?, activation: ActivationKind,
                                        _ g: WindowGeometry, pool p: WindowGeometry, into y: Tensor, taps: Tensor) {
        let filters = kernel.shape.last!, batch = g.batch(of: x)
        precondition(fusesWithMaxPool(activation: activation, pool: p) && p.inputHeight == g.outputHeight
                     && p.inputWidth == g.outputWidth && p.channels == filters && y.count == batch * p.outputPositions * filters
                     && taps.count >= maxPoolTapFloats(y.count), "conv+maxpool: shapes do not fit the geometries")
        if let w = Winograd(g, filters: filters) {
            return forwardMaxPooledWinograd(w, x, kernel: kernel, bias: bias, activation: activation, pool: p, into: y, taps: taps)
        }
        let plan = PooledChunks(g, p, batch: batch)
        let scratch = g.isPointwise ? nil : Tensor(uninitialized: [plan.maxRows, g.patchSize])
        let z = Tensor(uninitialized: [plan.maxRows, filters])
        taps.data.withMemoryRebound(to: UInt8.self, capacity: y.count) { won in
            plan.forEach { rows, pooled in
                forwardChunk(x, kernel: kernel, bias: bias, g, rows: rows, scratch: scratch, into: z.data)
                activation.forward(z.data, z.data, rows.count * filters)
                poolBands(z.data, p, bands: pooled.count / p.outputWidth,
                          into: y.data + pooled.lowerBound * filters, taps: won + pooled.lowerBound * filters)
            }
        }
    }

    /// Backward of `forwardMaxPooled` from the pooled gradient `dy`, with its `y` and `taps`.
    /// Slots as in `backward`.
    public static func backwardMaxPooled(_ dy: Tensor, x: Tensor, kernel: Tensor, y: Tensor, taps: Tensor,
                                         activation: ActivationKind, _ g: WindowGeometry, pool p: WindowGeometry,
                                         inputGradient dx: (grad: Tensor, accumulate: Bool)?,
                                         kernelGradient dk: (grad: Tensor, accumulate: Bool)?,
                                         biasGradient db: (grad: Tensor, accumulate: Bool)?) {
        let filters = kernel.shape.last!, plan = PooledChunks(g, p, batch: g.batch(of: x))
        if let w = Winograd(g, filters: filters) {
            return backwardMaxPooledWinograd(w, dy, x: x, kernel: kernel, y: y, taps: taps, activation: activation, pool: p,
                                             inputGradient: dx, kernelGradient: dk, biasGradient: db)
        }
        let dz = Tensor(uninitialized: [plan.maxRows, filters])
        let dWinner = Tensor(uninitialized: [plan.maxPooled, filters])
        let scratch = BackwardScratch(columns: dk == nil || g.isPointwise ? nil : Tensor(uninitialized: [plan.maxRows, g.patchSize]),
                                      columnGradient: dx == nil || g.isPointwise ? nil : Tensor(uninitialized: [plan.maxRows, g.patchSize]))
        if let db, !db.accumulate { db.grad.zero() }
        // Rows no window covers get no contribution, so a fresh input gradient is zeroed even
        // when the geometry is pointwise, and every chunk then adds to it.
        let input = dx.map { slot -> (grad: Tensor, accumulate: Bool) in
            if !slot.accumulate { slot.grad.zero() }
            return (slot.grad, true)
        }
        var first = true
        taps.data.withMemoryRebound(to: UInt8.self, capacity: y.count) { won in
            plan.forEach { rows, pooled in
                let m = pooled.count * filters, o = pooled.lowerBound * filters
                activation.backward(x: y.data + o, y: y.data + o, dy: dy.data + o, dx: dWinner.data, m, accumulate: false)
                routeBands(dWinner.data, taps: won + o, p, bands: pooled.count / p.outputWidth, into: dz.data)
                backwardChunk(dz.data, rows: rows, first: first, x: x, kernel: kernel, g, scratch,
                              inputGradient: input, kernelGradient: dk, biasGradient: db)
                first = false
            }
        }
    }

    /// `forwardMaxPooled` with the convolution done by Winograd a chunk of whole images at a
    /// time; each image's output is activated and pooled from the chunk's scratch.
    static func forwardMaxPooledWinograd(_ w: Winograd, _ x: Tensor, kernel: Tensor, bias: Tensor?, activation: ActivationKind,
                                         pool p: WindowGeometry, into y: Tensor, taps: Tensor) {
        let per = w.geometry.outputPositions * w.filters, pooled = p.outputPositions * w.filters
        let covered = p.outputHeight * p.windowHeight * w.geometry.outputWidth * w.filters
        let z = Tensor(uninitialized: [w.imagesPerChunk * per])
        taps.data.withMemoryRebound(to: UInt8.self, capacity: y.count) { won in
            forwardWinograd(w, x, kernel: kernel, bias: bias, destination: { _ in z.data }, finish: { images in
                for (i, n) in images.enumerated() {
                    let image = z.data + i * per
                    activation.forward(image, image, covered)
                    poolBands(image, p, bands: p.outputHeight, into: y.data + n * pooled, taps: won + n * pooled)
                }
            })
        }
    }

    /// `backwardMaxPooled` with Winograd: each image's pre-activation gradient is rebuilt from
    /// the pooled tensors into the chunk's scratch (zero on the rows no window covers).
    static func backwardMaxPooledWinograd(_ w: Winograd, _ dy: Tensor, x: Tensor, kernel: Tensor, y: Tensor, taps: Tensor,
                                          activation: ActivationKind, pool p: WindowGeometry,
                                          inputGradient dx: (grad: Tensor, accumulate: Bool)?,
                                          kernelGradient dk: (grad: Tensor, accumulate: Bool)?,
                                          biasGradient db: (grad: Tensor, accumulate: Bool)?) {
        let per = w.geometry.outputPositions * w.filters, pooled = p.outputPositions * w.filters
        let covered = p.outputHeight * p.windowHeight * w.geometry.outputWidth * w.filters
        let dz = Tensor(uninitialized: [w.imagesPerChunk * per])
        let dWinner = Tensor(uninitialized: [pooled])
        taps.data.withMemoryRebound(to: UInt8.self, capacity: y.count) { won in
            backwardWinograd(w, x: x, kernel: kernel, inputGradient: dx, kernelGradient: dk, biasGradient: db) { images in
                for (i, n) in images.enumerated() {
                    let image = dz.data + i * per, o = n * pooled
                    activation.backward(x: y.data + o, y: y.data + o, dy: dy.data + o, dx: dWinner.data, pooled, accumulate: false)
                    routeBands(dWinner.data, taps: won + o, p, bands: p.outputHeight, into: image)
                    (image + covered).update(repeating: 0, count: per - covered)
                }
                return UnsafePointer(dz.data)
            }
        }
    }

    /// Pools `bands` bands of conv output rows (a band: the `p.windowHeight` rows one row of
    /// windows covers) held in `z`, laid out [rows, channels] with `p.inputWidth` positions a row.
    static func poolBands(_ z: UnsafePointer<Float>, _ p: WindowGeometry, bands: Int,
                          into y: UnsafeMutablePointer<Float>, taps: UnsafeMutablePointer<UInt8>) {
        let c = p.channels, wh = p.windowHeight, ww = p.windowWidth
        for k in 0..<bands {
            for ox in 0..<p.outputWidth {
                let out = (k * p.outputWidth + ox) * c
                var tap = 0
                for i in 0..<wh {
                    for j in 0..<ww {
                        let src = z + (((k * wh + i) * p.inputWidth) + ox * ww + j) * c
                        if tap == 0 {
                            (y + out).update(from: src, count: c)
                            (taps + out).update(repeating: 0, count: c)
                        } else {
                            maxTap(src, UInt8(tap), y + out, taps + out, c)
                        }
                        tap += 1
                    }
                }
            }
        }
    }

    /// best = max(best, src) over `c` channels, strictly (the first tap wins ties, as in
    /// `Pooling`), recording `tap` where src won. Explicit SIMD compare-and-blend.
    @inline(__always)
    static func maxTap(_ src: UnsafePointer<Float>, _ tap: UInt8, _ best: UnsafeMutablePointer<Float>,
                       _ at: UnsafeMutablePointer<UInt8>, _ c: Int) {
        var j = 0
        while j + 8 <= c {
            let v = UnsafeRawPointer(src + j).loadUnaligned(as: SIMD8<Float>.self)
            var b = UnsafeRawPointer(best + j).loadUnaligned(as: SIMD8<Float>.self)
            var a = SIMD8<Int32>(truncatingIfNeeded: UnsafeRawPointer(at + j).loadUnaligned(as: SIMD8<UInt8>.self))
            let wins = v .> b
            b.replace(with: v, where: wins)
            a.replace(with: SIMD8<Int32>(repeating: Int32(tap)), where: wins)
            UnsafeMutableRawPointer(best + j).storeBytes(of: b, as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(at + j).storeBytes(of: SIMD8<UInt8>(truncatingIfNeeded: a), as: SIMD8<UInt8>.self)
            j += 8
        }
        while j < c {
            if src[j] > best[j] { best[j] = src[j]; at[j] = tap }
            j += 1
        }
    }

    /// Writes the chunk gradient `dz` of `bands` bands from the pooled elements' gradients `d`:
    /// `d` at each winning tap, zero elsewhere. Windows tile the bands, so every element is
    /// written once, in memory order; only the columns right of the last window (odd widths
    /// under floor pooling) are zeroed separately.
    static func routeBands(_ d: UnsafePointer<Float>, taps: UnsafePointer<UInt8>, _ p: WindowGeometry, bands: Int,
                           into dz: UnsafeMutablePointer<Float>) {
        let c = p.channels, wh = p.windowHeight, ww = p.windowWidth, covered = p.outputWidth * ww
        for k in 0..<bands {
            for i in 0..<wh {
                let row = dz + (k * wh + i) * p.inputWidth * c
                for ox in 0..<p.outputWidth {
                    let out = (k * p.outputWidth + ox) * c
                    for w in 0..<ww {
                        routeTap(d + out, taps + out, UInt8(i * ww + w), row + (ox * ww + w) * c, c)
                    }
                }
                if covered < p.inputWidth { (row + covered * c).update(repeating: 0, count: (p.inputWidth - covered) * c) }
            }
        }
    }

    /// dst = d where the winning tap is `tap`, else 0, over `c` channels. The select is done
    /// with integer bit operations: `SIMD8.replacing(with:where:)` compiles to a lane-by-lane
    /// loop through the stack here (it made the whole step 75% slower).
    @inline(__always)
    static func routeTap(_ d: UnsafePointer<Float>, _ at: UnsafePointer<UInt8>, _ tap: UInt8, _ dst: UnsafeMutablePointer<Float>, _ c: Int) {
        var j = 0
        while j + 8 <= c {
            let x = SIMD8<Int32>(truncatingIfNeeded: UnsafeRawPointer(at + j).loadUnaligned(as: SIMD8<UInt8>.self)) ^ Int32(tap)
            let won = (x &- 1) &>> 31  // all ones where x == 0 (x is 0...255), else 0
            let bits = unsafeBitCast(UnsafeRawPointer(d + j).loadUnaligned(as: SIMD8<Float>.self), to: SIMD8<Int32>.self) & won
            UnsafeMutableRawPointer(dst + j).storeBytes(of: bits, as: SIMD8<Int32>.self)
            j += 8
        }
        while j < c { dst[j] = at[j] == tap ? d[j] : 0; j += 1 }
    }
}

/// How the fused pass walks a batch: per image, groups of whole bands of conv output rows
/// about one convolution chunk in size, with the range of pooled positions they produce.
struct PooledChunks {
    let batch: Int, outputHeight: Int, outputWidth: Int
    let pooledHeight: Int, pooledWidth: Int, bandRows: Int, bandsPerChunk: Int

    init(_ g: WindowGeometry, _ p: WindowGeometry, batch: Int) {
        self.batch = batch
        outputHeight = g.outputHeight
        outputWidth = g.outputWidth
        pooledHeight = p.outputHeight
        pooledWidth = p.outputWidth
        bandRows = p.windowHeight * g.outputWidth
        bandsPerChunk = min(max(1, Convolution.chunkRows(g) / bandRows), max(p.outputHeight, 1))
    }

    var maxRows: Int { bandsPerChunk * bandRows }
    var maxPooled: Int { bandsPerChunk * pooledWidth }

    /// Calls `body` with each chunk's conv output rows (global im2col rows) and pooled positions.
    func forEach(_ body: (_ rows: Range<Int>, _ pooled: Range<Int>) -> Void) {
        for n in 0..<batch {
            var band = 0
            while band < pooledHeight {
                let end = min(band + bandsPerChunk, pooledHeight)
                let row0 = n * outputHeight * outputWidth + band * bandRows
                let pooled0 = (n * pooledHeight + band) * pooledWidth
                body(row0..<(row0 + (end - band) * bandRows), pooled0..<(pooled0 + (end - band) * pooledWidth))
                band = end
            }
        }
    }
}
