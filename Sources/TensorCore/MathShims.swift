#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Scalar libm functions used by kernels, in one place so kernel files need no platform imports.
// Loops over many elements use `VectorMath` instead.
@inline(__always) func Foundation_log(_ x: Double) -> Double { log(x) }
@inline(__always) func Foundation_cos(_ x: Double) -> Double { cos(x) }
@inline(__always) public func fexp(_ x: Float) -> Float { expf(x) }
@inline(__always) public func flog(_ x: Float) -> Float { logf(x) }
@inline(__always) public func ftanh(_ x: Float) -> Float { tanhf(x) }
@inline(__always) public func fsqrt(_ x: Float) -> Float { x.squareRoot() }
