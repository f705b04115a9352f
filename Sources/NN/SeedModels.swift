/// The seed article's models at the peer-benchmark shapes (`bench/peers/models.md`), shared by
/// `ddp bench` and the tests.
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

    /// The text classifier of models.md section 2: Embedding(5000, 64) → Transformer encoder
    /// block (4 heads of `keyDim`, dropout 0.1, FFN 128 relu → 64, post-LayerNorm eps 1e-6) →
    /// GlobalAveragePooling1D → Dense(2, softmax). For token-id inputs of length 128 it has
    /// 353,602 parameters with keyDim 16 (heads × keyDim = the width) and 403,330 with the
    /// article's keyDim 64.
    public static func benchTransformer(keyDim: Int = 16, name: String = "transformer") -> Sequential {
        Sequential([
            Embedding(5000, 64),
            TransformerEncoderBlock(embedDim: 64, numHeads: 4, keyDim: keyDim, ffDim: 128, dropout: 0.1, epsilon: 1e-6),
            GlobalAveragePooling1D(),
            Dense(2, activation: .softmax),
        ], name: name)
    }

    /// The GAN's generator, as in `configs/gan_mnist.json`: z(100) → Dense 256 → LeakyReLU(0.2) →
    /// Dense 512 → LeakyReLU(0.2) → Dense 1024 → LeakyReLU(0.2) → Dense(784, tanh); 1,486,352
    /// parameters.
    public static func seedGenerator(name: String = "generator") -> Sequential {
        Sequential([Dense(256), ActivationLayer(.leakyRelu(alpha: 0.2)),
                    Dense(512), ActivationLayer(.leakyRelu(alpha: 0.2)),
                    Dense(1024), ActivationLayer(.leakyRelu(alpha: 0.2)),
                    Dense(784, activation: .tanh)], name: name)
    }

    /// The GAN's discriminator, as in `configs/gan_mnist.json`: x(784) → Dense 512 →
    /// LeakyReLU(0.2) → Dense 256 → LeakyReLU(0.2) → Dense(1, sigmoid); 533,505 parameters.
    public static func seedDiscriminator(name: String = "discriminator") -> Sequential {
        Sequential([Dense(512), ActivationLayer(.leakyRelu(alpha: 0.2)),
                    Dense(256), ActivationLayer(.leakyRelu(alpha: 0.2)),
                    Dense(1, activation: .sigmoid)], name: name)
    }
}
