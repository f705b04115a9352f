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
}
