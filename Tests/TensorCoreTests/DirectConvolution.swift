import TensorCore

/// Direct convolution straight from the definition, for NHWC input [n, h, w, c] and kernel
/// [kh, kw, c, f]; 1-D cases pass h = kh = 1.
func directConvolution(_ x: Tensor, _ k: Tensor, bias: Tensor?, strides: (Int, Int), padding: Padding) -> Tensor {
    let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (kh, kw, f) = (k.shape[0], k.shape[1], k.shape[3])
    let (oh, pt) = ShapeRules.slidingAxis(input: h, window: kh, stride: strides.0, padding: padding)
    let (ow, pl) = ShapeRules.slidingAxis(input: w, window: kw, stride: strides.1, padding: padding)
    let y = Tensor(zeros: [n, oh, ow, f])
    let px = x.data, pk = k.data, py = y.data
    for b in 0..<n { for i in 0..<oh { for j in 0..<ow { for o in 0..<f {
        var s: Double = bias.map { Double($0.data[o]) } ?? 0
        for dy in 0..<kh { for dx in 0..<kw {
            let iy = i * strides.0 - pt + dy, ix = j * strides.1 - pl + dx
            guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
            for ch in 0..<c { s += Double(px[((b * h + iy) * w + ix) * c + ch]) * Double(pk[((dy * kw + dx) * c + ch) * f + o]) }
        } }
        py[((b * oh + i) * ow + j) * f + o] = Float(s)
    } } } }
    return y
}

/// Input and kernel gradients of `directConvolution` (stride 1) for output gradient `dy`,
/// straight from the definition: every (output position, tap) pair adds its product once.
func directConvolutionGradients(_ x: Tensor, _ k: Tensor, _ dy: Tensor, padding: Padding) -> (dx: Tensor, dk: Tensor) {
    let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (kh, kw, f) = (k.shape[0], k.shape[1], k.shape[3])
    let (oh, pt) = ShapeRules.slidingAxis(input: h, window: kh, stride: 1, padding: padding)
    let (ow, pl) = ShapeRules.slidingAxis(input: w, window: kw, stride: 1, padding: padding)
    var dx = [Double](repeating: 0, count: x.count), dk = [Double](repeating: 0, count: k.count)
    for b in 0..<n { for i in 0..<oh { for j in 0..<ow { for ty in 0..<kh { for tx in 0..<kw {
        let iy = i - pt + ty, ix = j - pl + tx
        guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
        for ch in 0..<c {
            let xi = ((b * h + iy) * w + ix) * c + ch
            for o in 0..<f {
                let g = Double(dy.data[((b * oh + i) * ow + j) * f + o]), ki = ((ty * kw + tx) * c + ch) * f + o
                dx[xi] += g * Double(k.data[ki])
                dk[ki] += g * Double(x.data[xi])
            }
        }
    } } } } }
    return (Tensor(dx.map(Float.init), shape: x.shape), Tensor(dk.map(Float.init), shape: k.shape))
}
