/// Max and average pooling over NHWC images (1-D pooling is the height-1 case of the same
/// code), forward and backward side by side. Windows are described by `WindowGeometry`, the
/// same geometry as convolutions; padded positions are ignored (TensorFlow's rule: max over the
/// valid taps, average divided by the number of valid taps).

public enum PoolingKind: String, Sendable {
    case max, average
}

extension ShapeRules {
    /// Pooling of per-sample inputs [steps, channels] (one window size) or
    /// [height, width, channels] (two) with the given strides; returns the window geometry.
    public static func pooling(_ op: String, input: [Int], poolSize: [Int], strides: [Int], padding: Padding) throws -> WindowGeometry {
        try window(op, input: input, window: poolSize, strides: strides, padding: padding)
    }
}

public enum Pooling {
    /// y = pool(x). Max pooling also writes, for every output element, the offset within its
    /// sample of the input element that won (the first on ties), as `Int32` bit patterns in
    /// `argmax` (a pooled tensor of y's size used as raw storage), so backward routes the
    /// gradient without comparing values again.
    public static func forward(_ kind: PoolingKind, _ x: Tensor, _ g: WindowGeometry, into y: Tensor, argmax: Tensor?) {
        let batch = g.batch(of: x), c = g.channels
        precondition(y.count == batch * g.outputPositions * c, "pool: output \(shapeString(y.shape)) does not fit the geometry")
        let px = UnsafePointer(x.data), py = y.data
        switch kind {
        case .max:
            guard let argmax else { preconditionFailure("max pooling needs an argmax buffer") }
            precondition(argmax.count >= y.count && g.inputSize <= Int(Int32.max), "pool: argmax buffer too small")
            argmax.data.withMemoryRebound(to: Int32.self, capacity: y.count) { arg in
                visitWindows(g, batch: batch) { out, sample, taps in
                    let best = py + out, at = arg + out
                    var first = true
                    for offset in taps {
                        if first {
                            let src = px + sample + offset
                            for j in 0..<c { best[j] = src[j]; at[j] = Int32(offset + j) }
                            first = false
                        } else {
                            maxStep(px + sample, offset, best, at, c)
                        }
                    }
                }
            }
        case .average:
            visitWindows(g, batch: batch) { out, sample, taps in
                let sum = py + out
                sum.update(repeating: 0, count: c)
                for offset in taps {
                    let src = px + sample + offset
                    for j in 0..<c { sum[j] += src[j] }
                }
                let scale = 1 / Float(taps.count)
                for j in 0..<c { sum[j] *= scale }
            }
        }
    }

    /// dx (+)= the gradient of pooling for output gradient `dy`. With `accumulate` false `dx` is
    /// fresh memory: when the windows tile the input (stride = pool size, the common case) every
    /// element is written exactly once, else it is zeroed and contributions are added (windows
    /// may overlap). On the first layers the input is megabytes, so the pass saved matters.
    public static func backward(_ kind: PoolingKind, _ dy: Tensor, argmax: Tensor?, _ g: WindowGeometry, into dx: Tensor, accumulate: Bool) {
        let batch = g.batch(of: dx), c = g.channels, perSample = g.outputPositions * c
        let pg = UnsafePointer(dy.data), pd = dx.data
        if !accumulate && g.strideHeight == g.windowHeight && g.strideWidth == g.windowWidth {
            zeroOutsideWindows(g, batch: batch, pd)
            switch kind {
            case .max:
                guard let argmax else { preconditionFailure("max pooling backward needs the argmax buffer") }
                argmax.data.withMemoryRebound(to: Int32.self, capacity: dy.count) { arg in
                    visitWindows(g, batch: batch) { out, sample, taps in
                        for offset in taps { routeMax(pg + out, arg + out, offset, pd + sample + offset, c) }
                    }
                }
            case .average:
                visitWindows(g, batch: batch) { out, sample, taps in
                    let src = pg + out, scale = 1 / Float(taps.count)
                    for offset in taps {
                        let d = pd + sample + offset
                        for j in 0..<c { d[j] = src[j] * scale }
                    }
                }
            }
            return
        }
        if !accumulate { dx.zero() }
        switch kind {
        case .max:
            guard let argmax else { preconditionFailure("max pooling backward needs the argmax buffer") }
            argmax.data.withMemoryRebound(to: Int32.self, capacity: dy.count) { arg in
                for n in 0..<batch {
                    let d = pd + n * g.inputSize, a = arg + n * perSample, s = pg + n * perSample
                    for i in 0..<perSample { d[Int(a[i])] += s[i] }
                }
            }
        case .average:
            visitWindows(g, batch: batch) { out, sample, taps in
                let src = pg + out, scale = 1 / Float(taps.count)
                for offset in taps {
                    let d = pd + sample + offset
                    for j in 0..<c { d[j] += src[j] * scale }
                }
            }
        }
    }

    /// Writes one tap of a max-pooling window's input gradient: dy where this tap won, else 0.
    @inline(__always)
    static func routeMax(_ dy: UnsafePointer<Float>, _ arg: UnsafePointer<Int32>, _ offset: Int,
                         _ dst: UnsafeMutablePointer<Float>, _ c: Int) {
        var j = 0
        while j + 4 <= c {
            let won = UnsafeRawPointer(arg + j).loadUnaligned(as: SIMD4<Int32>.self) .== SIMD4<Int32>(0, 1, 2, 3) &+ Int32(offset + j)
            let v = SIMD4<Float>(repeating: 0).replacing(with: UnsafeRawPointer(dy + j).loadUnaligned(as: SIMD4<Float>.self), where: won)
            UnsafeMutableRawPointer(dst + j).storeBytes(of: v, as: SIMD4<Float>.self)
            j += 4
        }
        while j < c { dst[j] = arg[j] == Int32(offset + j) ? dy[j] : 0; j += 1 }
    }

    /// Zeroes the input elements no window covers when windows tile the input: the bottom rows
    /// and right columns that valid padding leaves out.
    static func zeroOutsideWindows(_ g: WindowGeometry, batch: Int, _ dx: UnsafeMutablePointer<Float>) {
        let coveredH = min(g.inputHeight, (g.outputHeight - 1) * g.strideHeight - g.padTop + g.windowHeight)
        let coveredW = min(g.inputWidth, (g.outputWidth - 1) * g.strideWidth - g.padLeft + g.windowWidth)
        let rowLength = g.inputWidth * g.channels
        for n in 0..<batch {
            let sample = dx + n * g.inputSize
            if coveredW < g.inputWidth {
                for y in 0..<coveredH {
                    (sample + y * rowLength + coveredW * g.channels).update(repeating: 0, count: (g.inputWidth - coveredW) * g.channels)
                }
            }
            (sample + coveredH * rowLength).update(repeating: 0, count: (g.inputHeight - coveredH) * rowLength)
        }
    }

    /// best = max(best, x[offset...]) over `c` channels, recording in `at` the in-sample offset
    /// of each new winner. Explicit SIMD compare-and-blend: which tap wins is data-dependent,
    /// and LLVM turns the scalar form into branches and conditional stores.
    @inline(__always)
    static func maxStep(_ sample: UnsafePointer<Float>, _ offset: Int, _ best: UnsafeMutablePointer<Float>,
                        _ at: UnsafeMutablePointer<Int32>, _ c: Int) {
        let src = sample + offset
        var j = 0
        while j + 4 <= c {
            let v = UnsafeRawPointer(src + j).loadUnaligned(as: SIMD4<Float>.self)
            var b = UnsafeRawPointer(best + j).loadUnaligned(as: SIMD4<Float>.self)
            var a = UnsafeRawPointer(at + j).loadUnaligned(as: SIMD4<Int32>.self)
            let wins = v .> b
            b.replace(with: v, where: wins)
            a.replace(with: SIMD4<Int32>(0, 1, 2, 3) &+ Int32(offset + j), where: wins)
            UnsafeMutableRawPointer(best + j).storeBytes(of: b, as: SIMD4<Float>.self)
            UnsafeMutableRawPointer(at + j).storeBytes(of: a, as: SIMD4<Int32>.self)
            j += 4
        }
        while j < c {
            if src[j] > best[j] { best[j] = src[j]; at[j] = Int32(offset + j) }
            j += 1
        }
    }

    /// Calls `body` for every output position with its offset in the output, the offset of
    /// its sample in the input, and the in-sample offsets of the window's valid taps (each the
    /// start of `channels` contiguous floats).
    @inline(__always)
    static func visitWindows(_ g: WindowGeometry, batch: Int, _ body: (_ out: Int, _ sample: Int, _ taps: WindowTaps) -> Void) {
        var out = 0
        for n in 0..<batch {
            for oy in 0..<g.outputHeight {
                let iy0 = oy * g.strideHeight - g.padTop
                let y0 = max(iy0, 0), y1 = min(iy0 + g.windowHeight, g.inputHeight)
                for ox in 0..<g.outputWidth {
                    let ix0 = ox * g.strideWidth - g.padLeft
                    let x0 = max(ix0, 0), x1 = min(ix0 + g.windowWidth, g.inputWidth)
                    body(out, n * g.inputSize, WindowTaps(y0: y0, y1: y1, x0: x0, x1: x1, width: g.inputWidth, channels: g.channels))
                    out += g.channels
                }
            }
        }
    }
}

/// The valid taps of one pooling window, as in-sample element offsets in row-major order.
struct WindowTaps: Sequence {
    let y0: Int, y1: Int, x0: Int, x1: Int, width: Int, channels: Int

    var count: Int { (y1 - y0) * (x1 - x0) }

    func makeIterator() -> Iterator { Iterator(taps: self, y: y0, x: x0) }

    struct Iterator: IteratorProtocol {
        let taps: WindowTaps
        var y: Int, x: Int
        @inline(__always)
        mutating func next() -> Int? {
            if x == taps.x1 { x = taps.x0; y += 1 }
            guard y < taps.y1, taps.x0 < taps.x1 else { return nil }
            defer { x += 1 }
            return (y * taps.width + x) * taps.channels
        }
    }
}
