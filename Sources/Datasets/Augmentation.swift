#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TensorCore

/// Random geometric augmentation of training images (Keras's `ImageDataGenerator` flips and
/// `rotation_range`, and the pad-and-crop translation of CIFAR training), applied per sample to
/// NHWC float batches after scaling.
///
/// Each image's transform is drawn from its own stream (seed, step, sample index), like the
/// language model's random window offsets: it does not depend on how samples are split across
/// ranks or on the batch they fall in, and a resumed run draws the same transforms.
///
/// An image goes through, in order: rotation about its centre by an angle uniform in
/// [−`rotationRange`, `rotationRange`] degrees (counter-clockwise as displayed for positive
/// angles; bilinear, with pixels from outside the image given by `fillMode`); translation by
/// (dy, dx), each uniform in −`padCrop`…`padCrop` — the same as padding `padCrop` zeros on
/// every side and cropping a random window of the original size — with zeros shifted in;
/// then the flips, each with probability ½.
public struct ImageAugmentation: Sendable, Equatable {
    /// Where a rotation reads pixels from outside the image.
    public enum FillMode: String, Sendable, CaseIterable {
        /// The nearest edge pixel (Keras's default).
        case nearest
        /// Zero.
        case constant
    }

    public var horizontalFlip: Bool
    public var verticalFlip: Bool
    /// Degrees; 0: no rotation.
    public var rotationRange: Double
    public var fillMode: FillMode
    /// Pixels; 0: no translation.
    public var padCrop: Int

    public init(horizontalFlip: Bool = false, verticalFlip: Bool = false, rotationRange: Double = 0,
                fillMode: FillMode = .nearest, padCrop: Int = 0) {
        self.horizontalFlip = horizontalFlip
        self.verticalFlip = verticalFlip
        self.rotationRange = rotationRange
        self.fillMode = fillMode
        self.padCrop = padCrop
    }

    /// True when no transform is enabled, so batches can skip augmentation altogether.
    public var isIdentity: Bool { !horizontalFlip && !verticalFlip && rotationRange == 0 && padCrop == 0 }

    /// The transform of one image.
    public struct Draw: Sendable, Equatable {
        public var degrees: Double = 0
        /// Output pixel (y, x) comes from (y + shiftY, x + shiftX) of the rotated image.
        public var shiftY = 0
        public var shiftX = 0
        public var flipHorizontal = false
        public var flipVertical = false
        public init(degrees: Double = 0, shiftY: Int = 0, shiftX: Int = 0, flipHorizontal: Bool = false, flipVertical: Bool = false) {
            self.degrees = degrees
            self.shiftY = shiftY
            self.shiftX = shiftX
            self.flipHorizontal = flipHorizontal
            self.flipVertical = flipVertical
        }
    }

    /// The transform of sample `index` at global step `step`: its own stream, so the same on
    /// any number of ranks and after a resume.
    public func draw(seed: UInt64, step: Int, index: Int) -> Draw {
        var rng = RandomGenerator(seed: seed, stream: [StreamPurpose.augmentation.rawValue, UInt64(truncatingIfNeeded: step),
                                                       UInt64(truncatingIfNeeded: index)])
        return draw(&rng)
    }

    /// A transform drawn from `rng`: rotation, shifts, flips, each drawn only when enabled.
    public func draw(_ rng: inout RandomGenerator) -> Draw {
        var d = Draw()
        if rotationRange > 0 { d.degrees = (2 * Double(rng.next() >> 11) * 0x1p-53 - 1) * rotationRange }
        if padCrop > 0 {
            let span = UInt64(2 * padCrop + 1)
            d.shiftY = Int(rng.next() % span) - padCrop
            d.shiftX = Int(rng.next() % span) - padCrop
        }
        if horizontalFlip { d.flipHorizontal = rng.next() >> 63 == 1 }
        if verticalFlip { d.flipVertical = rng.next() >> 63 == 1 }
        return d
    }

    /// Transforms rows 0..<indices.count of `batch` ([B, height, width, channels] values, row k
    /// holding sample `indices[k]`) in place, each with its own draw for `step`.
    public func apply(to batch: Tensor, indices: some Collection<Int>, height: Int, width: Int, channels: Int,
                      seed: UInt64, step: Int) {
        let size = height * width * channels
        precondition(batch.shape.first.map { $0 >= indices.count } == true && batch.count == batch.shape[0] * size,
                     "augmentation: batch \(shapeString(batch.shape)) does not hold images of \(height)x\(width)x\(channels)")
        guard !isIdentity else { return }
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: size)
        defer { scratch.deallocate() }
        for (k, index) in indices.enumerated() {
            Self.apply(draw(seed: seed, step: step, index: index), to: batch.data + k * size, height: height, width: width,
                       channels: channels, fillMode: fillMode, scratch: scratch)
        }
    }

    /// Transforms one image (`height × width × channels` floats, channels last) in place;
    /// `scratch` holds as many floats.
    public static func apply(_ d: Draw, to image: UnsafeMutablePointer<Float>, height: Int, width: Int, channels: Int,
                             fillMode: FillMode, scratch: UnsafeMutablePointer<Float>) {
        let size = height * width * channels
        if d.degrees == 0 {
            scratch.update(from: image, count: size)
        } else {
            rotate(image, into: scratch, degrees: d.degrees, height: height, width: width, channels: channels, fillMode: fillMode)
        }
        // Translation and flips in one gather from the rotated image: output (y, x) reads the
        // translated image at the flipped position.
        for y in 0..<height {
            let sy = (d.flipVertical ? height - 1 - y : y) + d.shiftY
            let row = image + y * width * channels
            guard sy >= 0 && sy < height else {
                row.update(repeating: 0, count: width * channels)
                continue
            }
            for x in 0..<width {
                let sx = (d.flipHorizontal ? width - 1 - x : x) + d.shiftX
                let out = row + x * channels
                if sx >= 0 && sx < width {
                    out.update(from: scratch + (sy * width + sx) * channels, count: channels)
                } else {
                    out.update(repeating: 0, count: channels)
                }
            }
        }
    }

    /// `source` rotated about its centre by `degrees` (counter-clockwise as displayed), into
    /// `target`: output pixel (y, x) is `source` bilinearly interpolated at the point that the
    /// rotation takes to (y, x). Source coordinates within 1e-9 of a whole pixel are taken as
    /// that pixel, so quarter turns and half turns reproduce pixels exactly (cos 90° is 6e-17,
    /// not 0).
    static func rotate(_ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, degrees: Double,
                       height: Int, width: Int, channels: Int, fillMode: FillMode) {
        let theta = degrees * Double.pi / 180
        let c = cos(theta), s = sin(theta)
        let cy = Double(height - 1) / 2, cx = Double(width - 1) / 2
        // Reads one channel value, or the fill for a point outside the image.
        func pixel(_ y: Int, _ x: Int, _ ch: Int) -> Float {
            if y >= 0 && y < height && x >= 0 && x < width { return source[(y * width + x) * channels + ch] }
            guard fillMode == .nearest else { return 0 }
            return source[(min(max(y, 0), height - 1) * width + min(max(x, 0), width - 1)) * channels + ch]
        }
        for y in 0..<height {
            for x in 0..<width {
                // u right, v up, from the centre; the source point is the output point rotated back.
                let u = Double(x) - cx, v = cy - Double(y)
                let sx = snapped(cx + (c * u + s * v))
                let sy = snapped(cy - (-s * u + c * v))
                let fy = sy.rounded(.down), fx = sx.rounded(.down)
                let wy = Float(sy - fy), wx = Float(sx - fx)
                let y0 = Int(fy), x0 = Int(fx)
                let out = target + (y * width + x) * channels
                for ch in 0..<channels {
                    let top = pixel(y0, x0, ch) * (1 - wx) + pixel(y0, x0 + 1, ch) * wx
                    let bottom = pixel(y0 + 1, x0, ch) * (1 - wx) + pixel(y0 + 1, x0 + 1, ch) * wx
                    out[ch] = top * (1 - wy) + bottom * wy
                }
            }
        }
    }

    @inline(__always) private static func snapped(_ v: Double) -> Double {
        let r = v.rounded()
        return abs(v - r) < 1e-9 ? r : v
    }
}
