/// A Float32, row-major, dense tensor: a view (offset + shape) into a `Storage`.
///
/// `Tensor` is a value type with reference semantics for its elements: copying a tensor copies
/// the view, not the data, exactly like a slice of a flat parameter arena should behave.
public struct Tensor: @unchecked Sendable {
    public let storage: Storage
    public let offset: Int
    public let shape: [Int]
    public let count: Int

    /// A view of `shape` starting at `offset` inside `storage`.
    public init(view storage: Storage, offset: Int = 0, shape: [Int]) {
        let n = shape.reduce(1, *)
        precondition(offset >= 0 && offset + n <= storage.count,
                     "view \(shapeString(shape)) at offset \(offset) exceeds storage of \(storage.count)")
        self.storage = storage
        self.offset = offset
        self.shape = shape
        self.count = n
    }

    /// Uninitialised memory from the buffer pool: the caller writes every element.
    public init(uninitialized shape: [Int]) {
        self.init(view: Storage(pooled: shape.reduce(1, *)), shape: shape)
    }

    public init(zeros shape: [Int]) {
        self.init(uninitialized: shape)
        data.initialize(repeating: 0, count: count)
    }

    public init(repeating value: Float, shape: [Int]) {
        self.init(uninitialized: shape)
        data.initialize(repeating: value, count: count)
    }

    public init(_ values: [Float], shape: [Int]) {
        precondition(values.count == shape.reduce(1, *),
                     "Tensor: \(values.count) values do not fill shape \(shapeString(shape))")
        self.init(uninitialized: shape)
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }

    @inline(__always) public var data: UnsafeMutablePointer<Float> { storage.base + offset }
    public var rank: Int { shape.count }
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: data, count: count) }
    public var scalars: [Float] { Array(buffer) }
    public var scalar: Float {
        precondition(count == 1, "scalar of a tensor of shape \(shapeString(shape))")
        return data[0]
    }

    /// The same elements under another shape with the same count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        checkShape { try ShapeRules.reshape(shape, newShape) }
        return Tensor(view: storage, offset: offset, shape: newShape)
    }

    /// A fresh tensor with a copy of the elements.
    public func copy() -> Tensor {
        let t = Tensor(uninitialized: shape)
        t.data.update(from: data, count: count)
        return t
    }

    public func fill(_ value: Float) { data.update(repeating: value, count: count) }
    public func zero() { fill(0) }
    public func copy(from other: Tensor) {
        precondition(other.count == count, "copy: \(shapeString(other.shape)) into \(shapeString(shape))")
        data.update(from: other.data, count: count)
    }

    /// Element at a multi-index (tests and debugging; kernels use raw pointers).
    public subscript(_ index: Int...) -> Float {
        get { data[flatIndex(index)] }
        nonmutating set { data[flatIndex(index)] = newValue }
    }

    private func flatIndex(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "index \(index) into \(shapeString(shape))")
        var f = 0
        for (i, d) in zip(index, shape) {
            precondition(i >= 0 && i < d, "index \(index) out of range for \(shapeString(shape))")
            f = f * d + i
        }
        return f
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = buffer.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "Tensor\(shapeString(shape))[\(shown)\(count > 8 ? ", ..." : "")]"
    }
}

/// Row-major strides of a shape.
public func strides(of shape: [Int]) -> [Int] {
    var s = [Int](repeating: 1, count: shape.count)
    var acc = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        s[i] = acc
        acc *= shape[i]
    }
    return s
}
