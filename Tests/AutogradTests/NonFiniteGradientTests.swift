import Autograd
import TensorCore
import XCTest

final class NonFiniteGradientTests: XCTestCase {
    func testTheFirstParameterWithANonFiniteGradientIsNamedAndCounted() {
        let a = Variable(Tensor(zeros: [2, 3]), requiresGrad: true, name: "dense_1/kernel")
        let b = Variable(Tensor(zeros: [3]), requiresGrad: true, name: "dense_1/bias")
        let c = Variable(Tensor(zeros: [4]), requiresGrad: true, name: "dense/bias")
        let flat = FlatParameters([a, b, c])
        XCTAssertNil(flat.nonFiniteGradient())
        let grads = flat.gradBuffer
        grads[flat.range(of: 2).lowerBound + 1] = .infinity
        grads[flat.range(of: 2).lowerBound + 3] = .nan
        let found = flat.nonFiniteGradient(prefix: "generator/")
        XCTAssertEqual(found?.parameter, "generator/dense/bias")
        XCTAssertEqual(found?.count, 2)
        XCTAssertEqual(found?.total, 4)
        XCTAssertEqual(found?.description, "non-finite gradient in generator/dense/bias (2 of 4 values, e.g. inf)")
        grads[flat.range(of: 1).lowerBound] = -.infinity
        XCTAssertEqual(flat.nonFiniteGradient()?.parameter, "dense_1/bias", "the first parameter in arena order is named")
    }

    /// A dense layer's weight gradient from the small-batch kernel is checked as it is stored,
    /// so the bound check reads only the bias; a value beyond the bound, a later write that
    /// did not check, or a discarded gradient each make it read again.
    func testKernelCheckedGradientsAreNotReadAgain() throws {
        try XCTSkipUnless(BLAS.skinnyKernel, "this CPU has no AVX-512F: products go to OpenBLAS")
        let saved = BLAS.threads
        BLAS.threads = 1
        defer { BLAS.threads = saved }
        let w = Variable(Tensor((0..<100 * 256).map { Float(sin(Double($0))) * 0.1 }, shape: [100, 256]), requiresGrad: true, name: "kernel")
        let b = Variable(Tensor(zeros: [256]), requiresGrad: true, name: "bias")
        let flat = FlatParameters([w, b])
        func backward(input scale: Float) {
            flat.discardGradients()
            let x = Variable(Tensor((0..<64 * 100).map { Float(cos(Double($0))) * scale }, shape: [64, 100]))
            x.dense(weight: w, bias: b, activation: .relu).sum().backward()
        }
        backward(input: 1)
        XCTAssertTrue(w.gradIsChecked, "the kernel's weight gradient")
        XCTAssertFalse(b.gradIsChecked, "a bias gradient summed in Swift")
        XCTAssertTrue(flat.gradientsWithinCheckedBound())
        b.grad!.data[7] = .nan
        XCTAssertFalse(flat.gradientsWithinCheckedBound(), "the unchecked bias is read")
        XCTAssertTrue(flat.gradientsWithinCheckedBound(0..<1), "the checked kernel is not")

        backward(input: 1e31)
        XCTAssertFalse(w.gradIsChecked, "values beyond the bound")
        XCTAssertFalse(flat.gradientsWithinCheckedBound())

        backward(input: 1)
        w.accumulateGrad(Tensor(repeating: .infinity, shape: [100, 256]))
        XCTAssertFalse(w.gradIsChecked, "a write the kernel did not check")
        XCTAssertFalse(flat.gradientsWithinCheckedBound())
        flat.discardGradients()
        XCTAssertFalse(w.gradIsChecked, "a discarded gradient")
    }
}
