import Foundation

/// One Keras reference fixture (`Tests/Fixtures/<model>.json`, `format_version` 1; the schema,
/// the closed formulas and the Keras weight order are in `Tests/Fixtures/README.md`).
/// Only the fields the reference tests use are decoded.
struct ReferenceFixture: Decodable {
    struct Input: Decodable {
        let kind: String
        let shape: [Int]
        /// Sum of the float32 inputs, in float64 (float inputs only).
        let valueSum: Double?
        let vocab: Int?
        /// Token ids [batch][length] (token inputs only).
        let values: [[Int]]?
    }

    struct Labels: Decodable {
        let kind: String
        let classes: Int?
        let values: [Double]
    }

    /// Summary of a tensor (a gradient or the model output): `samples` are `[flat index, value]`.
    struct Summary: Decodable {
        let sum: Double
        let l2: Double
        let maxAbs: Double
        let samples: [[Double]]?
    }

    struct Output: Decodable {
        let shape: [Int]
        let values: [Double]
        let sum: Double
        let l2: Double
        let maxAbs: Double
    }

    struct InputGradient: Decodable {
        let sum: Double
        let l2: Double
        let maxAbs: Double
        let samples: [[Double]]
        let gradFloat64: Summary
        let f32Err: Double

        var summary: Summary { Summary(sum: sum, l2: l2, maxAbs: maxAbs, samples: samples) }
    }

    struct Weight: Decodable {
        let t: Int
        let path: String
        let shape: [Int]
        let count: Int
        /// "kernel", "bias" or "gamma": which closed formula gives the values.
        let `init`: String
        let valueSum: Double
        let grad: Summary
        let gradFloat64: Summary
        let f32Err: Double
        let mathematicallyZero: Bool
    }

    let model: String
    let formatVersion: Int
    let batch: Int
    let input: Input
    let labels: Labels
    let loss: Double
    let lossFloat64: Double
    let paramCount: Int
    let output: Output
    let inputGrad: InputGradient?
    let weights: [Weight]

    /// `Tests/Fixtures/`, found from this source file's path (Tests/NNTests/ReferenceFixture.swift).
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()   // NNTests
        .deletingLastPathComponent()   // Tests
        .appendingPathComponent("Fixtures", isDirectory: true)

    static func load(_ name: String) throws -> ReferenceFixture {
        let url = directory.appendingPathComponent("\(name).json")
        let data = try Data(contentsOf: url)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(ReferenceFixture.self, from: data)
    }

    // MARK: Closed formulas (README "Weights" and "Inputs and labels"), in Double, cast to Float

    /// Element values of weight `t` (Keras order) in Keras' shape, row-major.
    static func weightValues(t: Int, kind: String, shape: [Int]) -> [Float] {
        let count = shape.reduce(1, *)
        let fanIn = Double(count) / Double(shape.last ?? 1)
        return (0..<count).map { i in
            let s = sin(0.731 * Double(i) + 1.37 * Double(t + 1))
            switch kind {
            case "gamma": return Float(1 + 0.1 * s)
            case "bias": return Float(0.1 * s)
            default: return Float(s / fanIn.squareRoot())
            }
        }
    }

    /// seed_cnn input: `0.5 + 0.5*sin(0.37*i + 0.5)`.
    static func cnnInput(count: Int) -> [Float] {
        (0..<count).map { i in Float(0.5 + 0.5 * sin(0.37 * Double(i) + 0.5)) }
    }

    /// gan_discriminator input: `tanh(2*sin(0.37*i + 0.5))`.
    static func ganInput(count: Int) -> [Float] {
        (0..<count).map { i in Float(tanh(2 * sin(0.37 * Double(i) + 0.5))) }
    }

    /// transformer token ids: `(b*131 + l*17 + 5) % vocab`.
    static func tokenIds(batch: Int, length: Int, vocab: Int) -> [[Int]] {
        (0..<batch).map { b in (0..<length).map { l in (b * 131 + l * 17 + 5) % vocab } }
    }

    /// Class labels: `(b*7 + 3) % classes`.
    static func classLabels(batch: Int, classes: Int) -> [Int] {
        (0..<batch).map { b in (b * 7 + 3) % classes }
    }

    /// Sample indices `(k*7919) % count` for k = 0..<48, repeats dropped.
    static func sampleIndices(count: Int) -> [Int] {
        var seen = Set<Int>(), out: [Int] = []
        for k in 0..<48 where seen.insert((k * 7919) % count).inserted { out.append((k * 7919) % count) }
        return out
    }
}
