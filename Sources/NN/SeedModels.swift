/// The seed article's models, shared by the benchmark and the tests.
extension Sequential {
    /// Conv2D(32, 3x3, relu) → MaxPooling2D(2) → Conv2D(64, 3x3, relu) → MaxPooling2D(2) →
    /// Flatten → Dense(64, relu) → Dense(10, softmax): 167,562 parameters for 32x32x3 inputs.
    public static func seedCNN(name: String = "sequential") -> Sequential {
        Sequential([
            Conv2D(32, kernelSize: 3, activation: .relu),
            MaxPooling2D(2),
            Conv2D(64, kernelSize: 3, activation: .relu),
            MaxPooling2D(2),
            Flatten(),
            Dense(64, activation: .relu),
            Dense(10, activation: .softmax),
        ], name: name)
    }
}
