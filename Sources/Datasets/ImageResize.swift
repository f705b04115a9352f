/// Bilinear resizing of 8-bit images (channels last), with pixel centres at half-integer
/// coordinates (TensorFlow's `resize(..., "bilinear")` without antialiasing, OpenCV's
/// `INTER_LINEAR`): output pixel (y, x) samples the input at ((y + ½)·h/H − ½, (x + ½)·w/W − ½),
/// clamped to the edge pixels, and rounds to the nearest byte. Equal sizes copy.
public enum ImageResize {
    public static func bilinear(_ source: UnsafePointer<UInt8>, height h: Int, width w: Int, channels c: Int,
                                into target: UnsafeMutablePointer<UInt8>, height outH: Int, width outW: Int) {
        if h == outH && w == outW {
            target.update(from: source, count: h * w * c)
            return
        }
        // Per output column: the two input columns and the weight of the second.
        let columns = (0..<outW).map { taps(Float($0), scale: Float(w) / Float(outW), size: w) }
        for y in 0..<outH {
            let (y0, y1, wy) = taps(Float(y), scale: Float(h) / Float(outH), size: h)
            let top = source + y0 * w * c, bottom = source + y1 * w * c
            let out = target + y * outW * c
            for (x, (x0, x1, wx)) in columns.enumerated() {
                for ch in 0..<c {
                    let t = Float(top[x0 * c + ch]) * (1 - wx) + Float(top[x1 * c + ch]) * wx
                    let b = Float(bottom[x0 * c + ch]) * (1 - wx) + Float(bottom[x1 * c + ch]) * wx
                    out[x * c + ch] = UInt8((t * (1 - wy) + b * wy).rounded())
                }
            }
        }
    }

    /// The two input indices around output index `i` and the weight of the second.
    private static func taps(_ i: Float, scale: Float, size: Int) -> (Int, Int, Float) {
        let p = min(max((i + 0.5) * scale - 0.5, 0), Float(size - 1))
        let lower = Int(p)
        return (lower, min(lower + 1, size - 1), p - Float(lower))
    }
}
