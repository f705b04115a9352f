import Datasets

extension ImageAugmentation.FillMode: ConfigChoice {
    static let kind = "fill mode"
}

extension ImageAugmentation {
    /// The `data.augment` object of an image classification job; every key is optional and
    /// the defaults turn every transform off.
    init(reading r: ObjectReader, imageShape: [Int]) throws {
        self.init()
        horizontalFlip = try r.optional("horizontal_flip", default: false)
        verticalFlip = try r.optional("vertical_flip", default: false)
        rotationRange = try r.optional("rotation_range", default: 0.0, .closed(0, 180))
        fillMode = try r.optional("fill_mode", default: .nearest)
        let side = imageShape.prefix(2).min() ?? 1
        padCrop = try r.optional("pad_crop", default: 0, .halfOpen(0, side))
    }
}
