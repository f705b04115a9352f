import TensorCore

/// Tiles `images` ([n, h, w, c] or [n, h, w], c = 1 or 3) row by row into a `rows` × `cols`
/// grid with `padding` pixels between and around the tiles, and returns it as PNG bytes: an 8×8
/// grid of generated digits after each GAN epoch. Values are taken in [-1, 1] (tanh outputs)
/// when any is negative and in [0, 1] otherwise, then clamped (NaN as the minimum). Cells without an image and the
/// padding are `background` gray.
public func makeGrid(images: Tensor, rows: Int, cols: Int, padding: Int = 2, background: UInt8 = 128) -> [UInt8] {
    precondition(images.rank == 3 || images.rank == 4, "makeGrid: images \(shapeString(images.shape)) are not [n, h, w, c]")
    let (n, h, w) = (images.shape[0], images.shape[1], images.shape[2])
    let c = images.rank == 4 ? images.shape[3] : 1
    precondition(c == 1 || c == 3, "makeGrid: \(c) channels (1 or 3 supported)")
    precondition(rows > 0 && cols > 0 && padding >= 0 && h > 0 && w > 0, "makeGrid: empty grid")
    let values = images.buffer
    let signed = values.contains { $0 < 0 }
    let width = cols * w + (cols + 1) * padding, height = rows * h + (rows + 1) * padding
    var pixels = [UInt8](repeating: background, count: width * height * c)
    for i in 0..<min(n, rows * cols) {
        let top = padding + (i / cols) * (h + padding), left = padding + (i % cols) * (w + padding)
        for y in 0..<h {
            for x in 0..<w {
                for k in 0..<c {
                    let v = values[((i * h + y) * w + x) * c + k]
                    let unit = v.isNaN ? 0 : min(max(signed ? (v + 1) / 2 : v, 0), 1)
                    pixels[((top + y) * width + left + x) * c + k] = UInt8((unit * 255).rounded())
                }
            }
        }
    }
    return PNG.encode(pixels: pixels, width: width, height: height, channels: c)
}
