import Datasets
import TensorCore
import XCTest

/// Each transform on small hand-made images with known results, the order they compose in,
/// and the draws: deterministic per (seed, step, sample index), so independent of the batch
/// or rank a sample falls in.
final class AugmentationTests: XCTestCase {
    /// `values` as a `height × width × channels` image transformed by `draw`.
    func transformed(_ values: [Float], height: Int, width: Int, channels: Int = 1, _ draw: ImageAugmentation.Draw,
                     fill: ImageAugmentation.FillMode = .nearest) -> [Float] {
        var image = values
        let scratch = [Float](repeating: .nan, count: values.count)
        var s = scratch
        image.withUnsafeMutableBufferPointer { p in
            s.withUnsafeMutableBufferPointer { q in
                ImageAugmentation.apply(draw, to: p.baseAddress!, height: height, width: width, channels: channels,
                                        fillMode: fill, scratch: q.baseAddress!)
            }
        }
        return image
    }

    // 3×3, one channel:   1 2 3
    //                     4 5 6
    //                     7 8 9
    let square: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9]

    func testFlipsMirrorRowsAndColumnsAndKeepChannelsTogether() {
        // 2×3 with two channels: pixel (y, x) = (10y + x, −(10y + x)).
        let image: [Float] = [0, 0, 1, -1, 2, -2, 10, -10, 11, -11, 12, -12]
        XCTAssertEqual(transformed(image, height: 2, width: 3, channels: 2, .init(flipHorizontal: true)),
                       [2, -2, 1, -1, 0, 0, 12, -12, 11, -11, 10, -10])
        XCTAssertEqual(transformed(image, height: 2, width: 3, channels: 2, .init(flipVertical: true)),
                       [10, -10, 11, -11, 12, -12, 0, 0, 1, -1, 2, -2])
        XCTAssertEqual(transformed(image, height: 2, width: 3, channels: 2, .init(flipHorizontal: true, flipVertical: true)),
                       [12, -12, 11, -11, 10, -10, 2, -2, 1, -1, 0, 0])
    }

    func testQuarterAndHalfTurnsMovePixelsExactly() {
        XCTAssertEqual(transformed(square, height: 3, width: 3, .init(degrees: 90)), [3, 6, 9, 2, 5, 8, 1, 4, 7],
                       "counter-clockwise as displayed")
        XCTAssertEqual(transformed(square, height: 3, width: 3, .init(degrees: -90)), [7, 4, 1, 8, 5, 2, 9, 6, 3])
        XCTAssertEqual(transformed(square, height: 3, width: 3, .init(degrees: 180)), [9, 8, 7, 6, 5, 4, 3, 2, 1])
        // An even side turns about a point between pixels: still a permutation.
        let four = (0..<16).map(Float.init)
        XCTAssertEqual(transformed(four, height: 4, width: 4, .init(degrees: 90)),
                       [3, 7, 11, 15, 2, 6, 10, 14, 1, 5, 9, 13, 0, 4, 8, 12])
    }

    func testRotationInterpolatesBilinearlyAndFillsOutsidePoints() {
        // 45°: the corner (0, 0) reads the point (1 − √2, 1) from the centre (1, 1), outside the
        // image: zero with the constant fill, the nearest pixels' blend with the nearest fill.
        let constant = transformed(square, height: 3, width: 3, .init(degrees: 45), fill: .constant)
        let nearest = transformed(square, height: 3, width: 3, .init(degrees: 45), fill: .nearest)
        XCTAssertEqual(constant[4], 5, "the centre stays")
        XCTAssertEqual(nearest[4], 5)
        // (0, 0) → source row 1 − √2 ≈ −0.414, column 1: rows −1 and 0 of column 1. Constant:
        // 0 · 0.414 + 2 · 0.586; nearest clamps row −1 to row 0: 2.
        let w = Float(2.0.squareRoot() - 1)
        XCTAssertEqual(constant[0], 2 * (1 - w), accuracy: 1e-6)
        XCTAssertEqual(nearest[0], 2, accuracy: 1e-6)
        // (0, 1) → source (1 − √½, 1 + √½) ≈ (0.293, 1.707): inside, a blend of 2, 3, 5, 6.
        let f = Float(1 - 0.5.squareRoot())
        let expected = (2 * f + 3 * (1 - f)) * (1 - f) + (5 * f + 6 * (1 - f)) * f
        XCTAssertEqual(constant[1], expected, accuracy: 1e-5)
        XCTAssertEqual(nearest[1], expected, accuracy: 1e-5)
    }

    func testPadCropShiftsInZeros() {
        // shiftY 1, shiftX −1: output (y, x) = input (y + 1, x − 1), zero outside.
        XCTAssertEqual(transformed(square, height: 3, width: 3, .init(shiftY: 1, shiftX: -1)), [0, 4, 5, 0, 7, 8, 0, 0, 0])
        XCTAssertEqual(transformed(square, height: 3, width: 3, .init(shiftY: -2, shiftX: 2)), [0, 0, 0, 0, 0, 0, 3, 0, 0])
        XCTAssertEqual(transformed(square, height: 3, width: 3, .init(shiftY: 3)), [Float](repeating: 0, count: 9))
    }

    func testTransformsComposeRotationThenShiftThenFlip() {
        // Rotated 90°: 3 6 9 / 2 5 8 / 1 4 7; shifted by (0, 1): 6 9 0 / 5 8 0 / 4 7 0;
        // flipped horizontally: 0 9 6 / 0 8 5 / 0 7 4.
        XCTAssertEqual(transformed(square, height: 3, width: 3, .init(degrees: 90, shiftX: 1, flipHorizontal: true)),
                       [0, 9, 6, 0, 8, 5, 0, 7, 4])
    }

    func testDrawsAreDeterministicPerSampleAndStepAndCoverTheirRanges() {
        let a = ImageAugmentation(horizontalFlip: true, verticalFlip: true, rotationRange: 15, padCrop: 4)
        XCTAssertEqual(a.draw(seed: 1, step: 3, index: 7), a.draw(seed: 1, step: 3, index: 7))
        XCTAssertNotEqual(a.draw(seed: 1, step: 3, index: 7), a.draw(seed: 1, step: 3, index: 8))
        XCTAssertNotEqual(a.draw(seed: 1, step: 3, index: 7), a.draw(seed: 1, step: 4, index: 7))
        XCTAssertNotEqual(a.draw(seed: 1, step: 3, index: 7), a.draw(seed: 2, step: 3, index: 7))
        let draws = (0..<2000).map { a.draw(seed: 5, step: 0, index: $0) }
        XCTAssertTrue(draws.allSatisfy { abs($0.degrees) <= 15 })
        XCTAssertGreaterThan(draws.map(\.degrees).max()!, 14)
        XCTAssertLessThan(draws.map(\.degrees).min()!, -14)
        XCTAssertEqual(Set(draws.map(\.shiftY)), Set(-4...4))
        XCTAssertEqual(Set(draws.map(\.shiftX)), Set(-4...4))
        for flips in [draws.filter(\.flipHorizontal).count, draws.filter(\.flipVertical).count] {
            XCTAssertTrue((900...1100).contains(flips), "\(flips) of 2000 flipped")
        }
        // Disabled transforms are never drawn.
        let flipsOnly = ImageAugmentation(horizontalFlip: true)
        XCTAssertTrue((0..<200).allSatisfy { i in
            let d = flipsOnly.draw(seed: 5, step: 0, index: i)
            return d.degrees == 0 && d.shiftX == 0 && d.shiftY == 0 && !d.flipVertical
        })
    }

    func testABatchSplitAcrossRanksIsAugmentedLikeTheWholeBatch() {
        let a = ImageAugmentation(horizontalFlip: true, verticalFlip: true, rotationRange: 30, fillMode: .constant, padCrop: 1)
        let (h, w, c) = (4, 5, 3), size = 4 * 5 * 3
        let indices = [9, 2, 7, 4, 11, 0]
        func images(_ rows: [Int]) -> Tensor {
            let t = Tensor(uninitialized: [rows.count, h, w, c])
            for (k, i) in rows.enumerated() { for j in 0..<size { t.data[k * size + j] = Float((i * 37 + j * 11) % 29) } }
            return t
        }
        func augmented(_ rows: [Int], _ augmentation: ImageAugmentation = a) -> [Float] {
            let t = images(rows)
            augmentation.apply(to: t, indices: rows, height: h, width: w, channels: c, seed: 42, step: 6)
            return t.scalars
        }
        let whole = augmented(indices)
        // Rank r of 2 takes rows r, r + 2, …
        for rank in 0..<2 {
            let rows = Array(stride(from: rank, to: indices.count, by: 2))
            let part = augmented(rows.map { indices[$0] })
            for (k, row) in rows.enumerated() {
                XCTAssertEqual(Array(part[(k * size)..<((k + 1) * size)]), Array(whole[(row * size)..<((row + 1) * size)]),
                               "sample \(indices[row]) on rank \(rank)")
            }
        }
        XCTAssertNotEqual(whole, images(indices).scalars, "the batch was transformed")
        XCTAssertEqual(augmented(indices, ImageAugmentation()), images(indices).scalars, "no transform enabled: unchanged")
    }
}
