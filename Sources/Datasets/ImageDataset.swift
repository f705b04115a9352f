import TensorCore

/// Which part of a data set.
public enum DataSplit: String, Sendable, CaseIterable {
    case train, test
}

/// How 0...255 pixel bytes become floats.
public enum PixelScaling: Sendable {
    /// x / 255, in [0, 1].
    case unitInterval
    /// x / 127.5 − 1, in [-1, 1] (tanh-output generators).
    case symmetric
    /// x · factor (Keras's `rescale`).
    case factor(Float)

    /// The float for each byte value, so filling a batch is one table lookup per pixel.
    var table: [Float] {
        switch self {
        case .unitInterval: return PixelScaling.unitTable
        case .symmetric: return PixelScaling.symmetricTable
        case .factor(let f): return (0...255).map { Float($0) * f }
        }
    }
    private static let unitTable: [Float] = (0...255).map { Float($0) / 255 }
    private static let symmetricTable: [Float] = (0...255).map { Float($0) / 127.5 - 1 }
}

/// A labelled image data set held in memory as bytes: images NHWC (`height × width × channels`
/// bytes each, channels last), labels as class indices. Batches are filled into tensors the
/// caller allocated once, so a training step allocates nothing here.
public struct ImageDataset: Sendable {
    /// e.g. "mnist train".
    public let name: String
    public let height: Int
    public let width: Int
    public let channels: Int
    public let classNames: [String]
    /// count × height × width × channels bytes.
    public let pixels: [UInt8]
    public let labels: [Int32]

    public init(name: String, height: Int, width: Int, channels: Int, classNames: [String], pixels: [UInt8], labels: [Int32]) {
        precondition(pixels.count == labels.count * height * width * channels,
                     "\(name): \(pixels.count) pixel bytes for \(labels.count) images of \(height)x\(width)x\(channels)")
        self.name = name
        self.height = height
        self.width = width
        self.channels = channels
        self.classNames = classNames
        self.pixels = pixels
        self.labels = labels
    }

    public var count: Int { labels.count }
    public var classCount: Int { classNames.count }
    /// [height, width, channels].
    public var sampleShape: [Int] { [height, width, channels] }
    /// Bytes (and floats) per image.
    public var sampleSize: Int { height * width * channels }

    /// Writes the images at `indices`, scaled, into the first `indices.count` rows of `batch`,
    /// whose first dimension is the batch (at least `indices.count`) and whose other dimensions
    /// hold `sampleSize` values: [B, H, W, C] for convolutions or [B, H·W·C] for dense layers.
    public func fillImages(_ indices: some Collection<Int>, into batch: Tensor, scaling: PixelScaling = .unitInterval) {
        let size = sampleSize
        precondition(batch.rank >= 1 && batch.shape[0] >= indices.count && batch.count == batch.shape[0] * size,
                      "\(name): batch tensor \(shapeString(batch.shape)) cannot hold \(indices.count) images of \(shapeString(sampleShape))")
        let table = scaling.table
        table.withUnsafeBufferPointer { t in
            pixels.withUnsafeBufferPointer { src in
                var dst = batch.data
                for i in indices {
                    precondition(i >= 0 && i < count, "\(name): sample index \(i) outside 0..<\(count)")
                    let s = src.baseAddress! + i * size
                    for k in 0..<size { dst[k] = t[Int(s[k])] }
                    dst += size
                }
            }
        }
    }

    /// Writes the class indices of `indices` as floats into the first `indices.count` values of
    /// `batch` (the targets the sparse losses take).
    public func fillLabels(_ indices: some Collection<Int>, into batch: Tensor) {
        writeClassIndices(labels, indices, into: batch, owner: name)
    }

    /// Writes the class indices of `indices` into the first `indices.count` entries of `batch`.
    public func fillLabels(_ indices: some Collection<Int>, into batch: inout [Int32]) {
        precondition(batch.count >= indices.count, "\(name): label array of \(batch.count) entries for \(indices.count) samples")
        for (k, i) in indices.enumerated() { batch[k] = labels[i] }
    }

    /// The mean of each channel over all images, in [0, 1] units (x / 255).
    public func channelMeans() -> [Double] {
        var sums = [UInt64](repeating: 0, count: channels)
        pixels.withUnsafeBufferPointer { p in
            let c = channels
            var k = 0
            while k < p.count {
                for ch in 0..<c { sums[ch] &+= UInt64(p[k + ch]) }
                k += c
            }
        }
        let perChannel = Double(count * height * width) * 255
        return sums.map { Double($0) / perChannel }
    }
}
