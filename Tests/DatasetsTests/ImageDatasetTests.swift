import Datasets
import TensorCore
import XCTest

final class ImageDatasetTests: XCTestCase {
    private let set = ImageDataset(name: "tiny", height: 1, width: 2, channels: 2, classNames: ["a", "b", "c"],
                                   pixels: [0, 255, 51, 102, 10, 20, 30, 40, 255, 0, 0, 255], labels: [2, 0, 1])

    func testFillImagesScalesIntoPreallocatedTensor() {
        let batch = Tensor(repeating: -7, shape: [4, 1, 2, 2])
        set.fillImages([2, 0], into: batch, scaling: .unitInterval)
        XCTAssertEqual(Array(batch.scalars.prefix(8)), [1, 0, 0, 1, 0, 1, 0.2, 0.4])
        XCTAssertEqual(Array(batch.scalars.suffix(8)), [Float](repeating: -7, count: 8), "rows past the batch untouched")
        let flat = Tensor(zeros: [1, 4])
        set.fillImages([0], into: flat, scaling: .symmetric)
        XCTAssertEqual(flat.scalars, [-1, 1, 51 / 127.5 - 1, 102 / 127.5 - 1])
    }

    func testFillLabels() {
        let t = Tensor(zeros: [3])
        set.fillLabels([1, 2, 0], into: t)
        XCTAssertEqual(t.scalars, [0, 1, 2])
        var ids = [Int32](repeating: -1, count: 4)
        set.fillLabels([0, 0], into: &ids)
        XCTAssertEqual(ids, [2, 2, -1, -1])
    }

    func testChannelMeans() {
        let means = set.channelMeans()
        XCTAssertEqual(means[0], Double(0 + 51 + 10 + 30 + 255 + 0) / 6 / 255, accuracy: 1e-12)
        XCTAssertEqual(means[1], Double(255 + 102 + 20 + 40 + 0 + 255) / 6 / 255, accuracy: 1e-12)
    }
}
