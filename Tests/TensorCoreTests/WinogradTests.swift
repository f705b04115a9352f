import TensorCore
import TestSupport
import XCTest

/// Winograd F(2×2, 3×3) against the definition of convolution: outputs, both gradients and
/// the bias gradient, for odd and even output sizes (tiles that overhang), same padding
/// (tiles that read padding), non-square images and batches of several chunks.
final class WinogradTests: XCTestCase {
    static let cases: [(x: [Int], filters: Int, padding: Padding)] = [
        ([2, 15, 15, 32], 64, .valid),   // the seed CNN's second convolution: 13×13 outputs, odd
        ([3, 8, 10, 16], 24, .valid),    // even 6×8 outputs
        ([2, 9, 7, 16], 16, .same),      // padding on every side, odd sizes
        ([40, 6, 6, 16], 16, .same),     // more images than one chunk holds
    ]

    private func geometry(_ x: [Int], _ filters: Int, _ padding: Padding) throws -> WindowGeometry {
        try ShapeRules.conv2d(input: Array(x.dropFirst()), kernel: [3, 3, x[3], filters], strides: [1, 1], padding: padding)
    }

    func testWinogradIsUsedForWide3x3Stride1ConvolutionsOnly() throws {
        XCTAssertNotNil(Winograd(try geometry([1, 15, 15, 32], 64, .valid), filters: 64))
        XCTAssertNil(Winograd(try geometry([1, 32, 32, 3], 32, .valid), filters: 32), "3 input channels stay with im2col")
        XCTAssertNil(Winograd(try geometry([1, 9, 9, 12], 16, .valid), filters: 16), "12 channels do not fill 8-wide vectors")
        let strided = try ShapeRules.conv2d(input: [9, 9, 16], kernel: [3, 3, 16, 16], strides: [2, 2], padding: .same)
        XCTAssertNil(Winograd(strided, filters: 16))
        let fiveByFive = try ShapeRules.conv2d(input: [9, 9, 16], kernel: [5, 5, 16, 16], strides: [1, 1], padding: .same)
        XCTAssertNil(Winograd(fiveByFive, filters: 16))
        XCTAssertNil(Winograd(try geometry([1, 96, 96, 64], 64, .same), filters: 64),
                     "an image whose tiles alone outgrow the chunk budget stays with im2col")
        let chunked = try XCTUnwrap(Winograd(try geometry([40, 6, 6, 16], 16, .same), filters: 16))
        XCTAssertLessThan(chunked.imagesPerChunk, 40, "the last case must span several chunks")
    }

    func testForwardMatchesDirectConvolution() throws {
        for (i, c) in Self.cases.enumerated() {
            let g = try geometry(c.x, c.filters, c.padding)
            XCTAssertNotNil(Winograd(g, filters: c.filters))
            let x = GradCheck.random(c.x, seed: UInt64(i)), k = GradCheck.random([3, 3, c.x[3], c.filters], seed: UInt64(i + 10))
            let b = GradCheck.random([c.filters], seed: UInt64(i + 20))
            for bias in [nil, b] {
                let y = Tensor(repeating: .nan, shape: [c.x[0]] + g.outputShape(channels: c.filters))
                Convolution.forward(x, kernel: k, bias: bias, activation: .linear, g, into: y)
                let reference = directConvolution(x, k, bias: bias, strides: (1, 1), padding: c.padding)
                XCTAssertLessThan(maxRelativeDifference(y, reference), 2e-5, "case \(i)")
            }
        }
    }

    func testGradientsMatchTheDefinitionAndOverwriteFreshBuffers() throws {
        for (i, c) in Self.cases.enumerated() {
            let g = try geometry(c.x, c.filters, c.padding)
            let x = GradCheck.random(c.x, seed: UInt64(i + 30)), k = GradCheck.random([3, 3, c.x[3], c.filters], seed: UInt64(i + 40))
            let y = Tensor(uninitialized: [c.x[0]] + g.outputShape(channels: c.filters))
            Convolution.forward(x, kernel: k, bias: nil, activation: .linear, g, into: y)
            let dy = GradCheck.random(y.shape, seed: UInt64(i + 50))
            let reference = directConvolutionGradients(x, k, dy, padding: c.padding)
            let shapes = [x.shape, k.shape, [c.filters]]
            let fresh = shapes.map { Tensor(repeating: .nan, shape: $0) }, twice = shapes.map { Tensor(zeros: $0) }
            Convolution.backward(dy, x: x, kernel: k, y: y, activation: .linear, g, inputGradient: (fresh[0], false),
                                 kernelGradient: (fresh[1], false), biasGradient: (fresh[2], false))
            for _ in 0..<2 {
                Convolution.backward(dy, x: x, kernel: k, y: y, activation: .linear, g, inputGradient: (twice[0], true),
                                     kernelGradient: (twice[1], true), biasGradient: (twice[2], true))
            }
            XCTAssertLessThan(maxRelativeDifference(fresh[0], reference.dx), 5e-5, "case \(i) input gradient")
            XCTAssertLessThan(maxRelativeDifference(fresh[1], reference.dk), 5e-5, "case \(i) kernel gradient")
            var db = [Float](repeating: 0, count: c.filters)
            for p in 0..<dy.count { db[p % c.filters] += dy.data[p] }
            XCTAssertLessThan(maxRelativeDifference(fresh[2], Tensor(db, shape: [c.filters])), 1e-5, "case \(i) bias gradient")
            for j in 0..<3 {
                let doubled = Tensor(fresh[j].scalars.map { 2 * $0 }, shape: shapes[j])
                XCTAssertLessThan(maxRelativeDifference(twice[j], doubled), 1e-5, "case \(i) gradient \(j) accumulates")
            }
        }
    }
}
