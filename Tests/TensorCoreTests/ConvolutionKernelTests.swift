import TensorCore
import TestSupport
import XCTest

final class ConvolutionKernelTests: XCTestCase {
    private func geometry2d(_ x: Tensor, _ k: Tensor, _ strides: (Int, Int), _ padding: Padding) throws -> WindowGeometry {
        try ShapeRules.conv2d(input: Array(x.shape.dropFirst()), kernel: k.shape, strides: [strides.0, strides.1], padding: padding)
    }

    func testSlidingAxisFollowsTensorFlow() {
        // valid: floor((in - k) / s) + 1
        XCTAssertEqual(ShapeRules.slidingAxis(input: 32, window: 3, stride: 1, padding: .valid).length, 30)
        XCTAssertEqual(ShapeRules.slidingAxis(input: 13, window: 2, stride: 2, padding: .valid).length, 6)
        XCTAssertEqual(ShapeRules.slidingAxis(input: 7, window: 3, stride: 2, padding: .valid).length, 3)
        // same: ceil(in / s), pad_total = max((out - 1) s + k - in, 0), before = total / 2
        XCTAssert(ShapeRules.slidingAxis(input: 7, window: 3, stride: 2, padding: .same) == (4, 1))
        XCTAssert(ShapeRules.slidingAxis(input: 8, window: 3, stride: 2, padding: .same) == (4, 0))
        XCTAssert(ShapeRules.slidingAxis(input: 6, window: 4, stride: 1, padding: .same) == (6, 1))
        XCTAssert(ShapeRules.slidingAxis(input: 5, window: 1, stride: 3, padding: .same) == (2, 0))
    }

    func testConv2dMatchesDirectConvolution() throws {
        let cases: [(x: [Int], k: [Int], s: (Int, Int), p: Padding)] = [
            ([2, 5, 5, 3], [3, 3, 3, 4], (1, 1), .valid),
            ([2, 5, 5, 3], [3, 3, 3, 4], (1, 1), .same),
            ([1, 7, 6, 2], [3, 2, 2, 5], (2, 2), .valid),
            ([1, 7, 6, 2], [3, 2, 2, 5], (2, 1), .same),
            ([2, 8, 8, 3], [4, 4, 3, 2], (2, 3), .same),
            ([1, 4, 5, 6], [1, 1, 6, 3], (1, 1), .valid),   // pointwise: no im2col copy
            ([1, 5, 5, 2], [1, 1, 2, 3], (2, 2), .same),
        ]
        for (i, c) in cases.enumerated() {
            let x = GradCheck.random(c.x, seed: UInt64(i)), k = GradCheck.random(c.k, seed: UInt64(i + 10))
            let b = GradCheck.random([c.k[3]], seed: UInt64(i + 20))
            let g = try geometry2d(x, k, c.s, c.p)
            for bias in [nil, b] {
                let y = Tensor(uninitialized: [c.x[0]] + g.outputShape(channels: c.k[3]))
                Convolution.forward(x, kernel: k, bias: bias, activation: .linear, g, into: y)
                let ref = directConvolution(x, k, bias: bias, strides: c.s, padding: c.p)
                XCTAssertEqual(y.shape, ref.shape, "case \(i)")
                XCTAssertLessThan(maxRelativeDifference(y, ref), 1e-5, "case \(i)")
            }
        }
    }

    /// Large enough that the column matrix is processed in several chunks (a chunk boundary
    /// falls inside a sample), with padding on every side.
    func testMultiChunkConvolutionMatchesDirectConvolution() throws {
        let x = GradCheck.random([3, 20, 21, 8], seed: 30), k = GradCheck.random([3, 3, 8, 5], seed: 31)
        let b = GradCheck.random([5], seed: 32)
        for (strides, padding) in [((1, 1), Padding.same), ((1, 2), .valid)] {
            let g = try geometry2d(x, k, strides, padding)
            let y = Tensor(uninitialized: [3] + g.outputShape(channels: 5))
            Convolution.forward(x, kernel: k, bias: b, activation: .linear, g, into: y)
            XCTAssertLessThan(maxRelativeDifference(y, directConvolution(x, k, bias: b, strides: strides, padding: padding)), 1e-5)
        }
    }

    /// Fresh gradient buffers (accumulate false) are fully overwritten, across several chunks
    /// and for pointwise kernels (whose input gradient skips col2im).
    func testConvolutionBackwardOverwritesFreshBuffers() throws {
        for (xs, ks, padding) in [([3, 20, 21, 8], [3, 3, 8, 5], Padding.same), ([2, 4, 5, 6], [1, 1, 6, 3], .valid)] {
            let x = GradCheck.random(xs, seed: 34), k = GradCheck.random(ks, seed: 35)
            let g = try geometry2d(x, k, (1, 1), padding)
            let y = Tensor(uninitialized: [xs[0]] + g.outputShape(channels: ks[3]))
            Convolution.forward(x, kernel: k, bias: nil, activation: .relu, g, into: y)
            let dy = GradCheck.random(y.shape, seed: 36)
            let shapes = [x.shape, k.shape, [ks[3]]]
            let fresh = shapes.map { Tensor(repeating: .nan, shape: $0) }, added = shapes.map { Tensor(zeros: $0) }
            for (slots, accumulate) in [(fresh, false), (added, true)] {
                Convolution.backward(dy, x: x, kernel: k, y: y, activation: .relu, g, inputGradient: (slots[0], accumulate),
                                     kernelGradient: (slots[1], accumulate), biasGradient: (slots[2], accumulate))
            }
            for i in 0..<3 {
                XCTAssertFalse(fresh[i].scalars.contains { $0.isNaN }, "\(xs) gradient \(i) left unwritten")
                XCTAssertLessThan(maxRelativeDifference(fresh[i], added[i]), 1e-6, "\(xs) gradient \(i)")
            }
        }
    }

    /// im2col of any row range is that slice of the whole column matrix, however the range
    /// cuts through output rows and samples.
    func testIm2colOfARowRangeIsThatSliceOfTheWholeMatrix() throws {
        let x = GradCheck.random([2, 7, 6, 3], seed: 33)
        for (s, p) in [((1, 1), Padding.same), ((2, 2), .same), ((2, 1), .valid)] {
            let g = try geometry2d(x, Tensor(zeros: [3, 3, 3, 1]), s, p)
            let rows = 2 * g.outputPositions
            let whole = Tensor(uninitialized: [rows, g.patchSize])
            Convolution.im2col(x.data, g, rows: 0..<rows, into: whole.data)
            for cut in [(0, 1), (3, 11), (5, rows), (rows - 2, rows)] {
                let part = Tensor(uninitialized: [cut.1 - cut.0, g.patchSize])
                Convolution.im2col(x.data, g, rows: cut.0..<cut.1, into: part.data)
                XCTAssertEqual(part.scalars, Array(whole.scalars[(cut.0 * g.patchSize)..<(cut.1 * g.patchSize)]), "\(s) \(p) \(cut)")
            }
        }
    }

    func testConv1dIsConv2dOfHeightOne() throws {
        let x = GradCheck.random([2, 9, 3], seed: 1), k = GradCheck.random([3, 3, 4], seed: 2)
        for (stride, padding) in [(1, Padding.valid), (2, .same), (2, .valid)] {
            let g = try ShapeRules.conv1d(input: [9, 3], kernel: k.shape, stride: stride, padding: padding)
            let y = Tensor(uninitialized: [2] + g.outputShape(channels: 4))
            Convolution.forward(x, kernel: k, bias: nil, activation: .linear, g, into: y)
            let ref = directConvolution(x.reshaped([2, 1, 9, 3]), k.reshaped([1, 3, 3, 4]), bias: nil, strides: (1, stride), padding: padding)
            XCTAssertEqual([2, 1] + y.shape.dropFirst(), ref.shape)
            XCTAssertLessThan(maxRelativeDifference(y, ref), 1e-5)
        }
    }

    /// col2im is the adjoint of im2col: <im2col(x), c> = <x, col2im(c)> for all x, c.
    func testCol2imIsTheAdjointOfIm2col() throws {
        for (s, p) in [((1, 1), Padding.same), ((2, 2), .same), ((2, 1), .valid), ((3, 3), .valid)] {
            let x = GradCheck.random([2, 7, 6, 3], seed: 3)
            let g = try geometry2d(x, Tensor(zeros: [3, 3, 3, 1]), s, p)
            let rows = 2 * g.outputPositions
            let col = Tensor(uninitialized: [rows, g.patchSize])
            Convolution.im2col(x.data, g, rows: 0..<rows, into: col.data)
            let c = GradCheck.random([rows, g.patchSize], seed: 4)
            let back = Tensor(zeros: x.shape)
            Convolution.col2im(c.data, g, rows: 0..<rows, addingInto: back.data)
            var lhs = 0.0, rhs = 0.0
            for i in 0..<col.count { lhs += Double(col.data[i]) * Double(c.data[i]) }
            for i in 0..<x.count { rhs += Double(x.data[i]) * Double(back.data[i]) }
            XCTAssertEqual(lhs, rhs, accuracy: 1e-3 * max(1, abs(lhs)))
        }
    }

    func testPoolingMatchesDirectDefinition() throws {
        let x = GradCheck.random([2, 7, 5, 3], seed: 5)
        for kind in [PoolingKind.max, .average] {
            for (window, strides, padding) in [([2, 2], [2, 2], Padding.valid), ([3, 2], [2, 1], .same), ([3, 3], [1, 2], .valid)] {
                let g = try ShapeRules.pooling("pool", input: [7, 5, 3], poolSize: window, strides: strides, padding: padding)
                let y = Tensor(uninitialized: [2] + g.outputShape(channels: 3))
                let arg = Tensor(uninitialized: y.shape)
                Pooling.forward(kind, x, g, into: y, argmax: arg)
                for n in 0..<2 { for i in 0..<g.outputHeight { for j in 0..<g.outputWidth { for c in 0..<3 {
                    var values: [Float] = []
                    for dy in 0..<window[0] { for dx in 0..<window[1] {
                        let iy = i * strides[0] - g.padTop + dy, ix = j * strides[1] - g.padLeft + dx
                        if iy >= 0 && iy < 7 && ix >= 0 && ix < 5 { values.append(x[n, iy, ix, c]) }
                    } }
                    let expected = kind == .max ? values.max()! : values.reduce(0, +) / Float(values.count)
                    XCTAssertEqual(y[n, i, j, c], expected, accuracy: 1e-6, "\(kind) \(window) \(strides) \(padding)")
                } } } }
            }
        }
    }

    /// A fresh gradient buffer (accumulate false) is fully overwritten, whether the windows
    /// tile the input (written once, uncovered edges zeroed) or overlap (zeroed, then added).
    func testPoolingBackwardOverwritesEveryElementOfAFreshBuffer() throws {
        let x = GradCheck.random([2, 5, 7, 3], seed: 6)
        for kind in [PoolingKind.max, .average] {
            for (window, strides, padding) in [([2, 2], [2, 2], Padding.valid), ([2, 2], [2, 2], .same), ([3, 2], [3, 2], .same),
                                               ([3, 3], [1, 2], .valid), ([1, 3], [2, 3], .valid)] {
                let g = try ShapeRules.pooling("pool", input: [5, 7, 3], poolSize: window, strides: strides, padding: padding)
                let y = Tensor(uninitialized: [2] + g.outputShape(channels: 3)), arg = Tensor(uninitialized: y.shape)
                Pooling.forward(kind, x, g, into: y, argmax: arg)
                let dy = GradCheck.random(y.shape, seed: 7)
                let fresh = Tensor(repeating: .nan, shape: x.shape), added = Tensor(zeros: x.shape)
                Pooling.backward(kind, dy, argmax: arg, g, into: fresh, accumulate: false)
                Pooling.backward(kind, dy, argmax: arg, g, into: added, accumulate: true)
                XCTAssertEqual(fresh.scalars, added.scalars, "\(kind) \(window) \(strides) \(padding)")
            }
        }
    }

    func testShapeRulesRejectBadInputs() {
        XCTAssertThrowsError(try ShapeRules.conv2d(input: [3, 3, 1], kernel: [5, 5, 1, 2], strides: [1, 1], padding: .valid)) {
            XCTAssertTrue(($0 as! ShapeError).message.contains("5x5 does not fit in input 3x3"), "\($0)")
        }
        XCTAssertNoThrow(try ShapeRules.conv2d(input: [3, 3, 1], kernel: [5, 5, 1, 2], strides: [1, 1], padding: .same))
        XCTAssertThrowsError(try ShapeRules.conv2d(input: [8, 8, 3], kernel: [3, 3, 4, 2], strides: [1, 1], padding: .valid)) {
            XCTAssertTrue(($0 as! ShapeError).message.contains("3 channels"), "\($0)")
        }
        XCTAssertThrowsError(try ShapeRules.conv2d(input: [8, 3], kernel: [3, 3, 3, 2], strides: [1, 1], padding: .valid))
        XCTAssertThrowsError(try ShapeRules.conv2d(input: [8, 8, 3], kernel: [3, 3, 3, 2], strides: [0, 1], padding: .valid))
        XCTAssertThrowsError(try ShapeRules.conv1d(input: [8, 8, 3], kernel: [3, 3, 2], stride: 1, padding: .valid))
        XCTAssertThrowsError(try ShapeRules.pooling("max_pool2d", input: [1, 4, 2], poolSize: [2, 2], strides: [2, 2], padding: .valid))
    }
}
