import Datasets
import TensorCore

/// An image data set as a classifier's samples, its pixels scaled as the config says.
struct ScaledImages: LabelledSamples {
    let images: ImageDataset
    let scaling: PixelScaling

    var labels: [Int32] { images.labels }
    var classNames: [String] { images.classNames }
    var sampleShape: [Int] { images.sampleShape }

    func fillSamples(_ indices: ArraySlice<Int>, into batch: Tensor) {
        images.fillImages(indices, into: batch, scaling: scaling)
    }
}
