import Foundation
import NN
import Optim
import TensorCore
import Training
import XCTest

/// The job configuration: the four shipped configs, every class of error with its file and key
/// path, `--set` overrides, shape errors at build time, and the digest.
final class ConfigTests: XCTestCase {
    static let configDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("configs")

    static func load(_ name: String, overrides: [String] = []) throws -> JobConfig {
        try JobConfig.load(path: configDirectory.appendingPathComponent(name).path, overrides: overrides)
    }

    /// A small valid classification job; layers: 0 Conv2D, 1 MaxPooling2D, 2 Flatten, 3 Dropout, 4 Dense.
    static let minimal = """
    {
      "name": "t",
      "task": "classification",
      "data": { "dataset": "mnist" },
      "model": {
        "input_shape": [28, 28, 1],
        "layers": [
          { "type": "Conv2D", "filters": 4, "kernel_size": 3, "activation": "relu" },
          { "type": "MaxPooling2D" },
          { "type": "Flatten" },
          { "type": "Dropout", "rate": 0.1 },
          { "type": "Dense", "units": 10 }
        ]
      },
      "loss": { "name": "sparse_categorical_crossentropy", "from_logits": true },
      "optimizer": { "name": "adam", "learning_rate": 0.001 },
      "training": { "epochs": 1, "batch_size": 8 }
    }
    """

    /// `minimal` as a file `configs/t.json` with `edits` (`key.path=value`) made in the file itself
    /// and the keys in `removing` deleted, parsed with `overrides`; returns the error's message.
    func error(editing edits: [String] = [], removing: [String] = [], overrides: [String] = [],
               file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            var tree = try JSONValue.parse(Data(Self.minimal.utf8), source: "minimal")
            for edit in edits { tree = try ConfigOverride(edit).apply(to: tree).tree }
            for path in removing { tree = Self.remove(ConfigPath(parsing: path)!.components[...], from: tree) }
            _ = try JobConfig.parse(tree.canonicalText, source: "configs/t.json", overrides: overrides)
            XCTFail("no error", file: file, line: line)
        } catch let e as ConfigError {
            return e.description
        } catch {
            XCTFail("not a ConfigError: \(error)", file: file, line: line)
        }
        return ""
    }

    static func remove(_ path: ArraySlice<ConfigPath.Component>, from tree: JSONValue) -> JSONValue {
        switch (path.first, tree) {
        case (.key(let k)?, .object(var fields)):
            fields[k] = path.count == 1 ? nil : fields[k].map { remove(path.dropFirst(), from: $0) }
            return .object(fields)
        case (.index(let i)?, .array(var items)):
            items[i] = remove(path.dropFirst(), from: items[i])
            return .array(items)
        default:
            return tree
        }
    }

    // MARK: - The four configs

    func testTheFourConfigsParseAndBuildWithTheExpectedParameterCounts() throws {
        let fashion = try Self.load("cnn_fashion_mnist.json")
        XCTAssertEqual(fashion.task, .classification)
        XCTAssertEqual(fashion.metrics, [.sparseCategoricalAccuracy])
        XCTAssertEqual(try fashion.buildModel().outputShapes.last, [10])

        let cifar = try Self.load("cnn_cifar10.json")
        XCTAssertEqual(try cifar.buildModel().parameterCount, 167_562)
        XCTAssertEqual(cifar.loss, .sparseCategoricalCrossentropy(fromLogits: false))
        XCTAssertEqual(cifar.training.batchSize, 32)
        XCTAssertEqual(cifar.training.epochs, 10)

        let lm = try Self.load("transformer_shakespeare.json")
        XCTAssertEqual(lm.data.sequenceLength, 128)
        XCTAssertEqual(lm.training.maxSteps, 3000)
        XCTAssertEqual(lm.optimizer.name, .adamw)
        XCTAssertEqual(lm.schedule.name, .cosine)
        let model = try lm.buildModel(vocabularySize: 65)
        XCTAssertEqual(model.outputShapes.last, [128, 65])
        XCTAssertEqual(model.layers.filter { $0 is TransformerEncoderBlock }.count, 4)

        let gan = try Self.load("gan_mnist.json")
        let (g, d) = try gan.buildGAN()
        XCTAssertEqual(g.parameterCount, 1_486_352)
        XCTAssertEqual(d.parameterCount, 533_505)
        XCTAssertEqual(gan.latentDim, 100)
        XCTAssertEqual(gan.data.scale, .symmetric)
        XCTAssertEqual(gan.optimizer.beta1, 0.5)
        XCTAssertEqual(gan.training.sampleEverySteps, 2340)
    }

    /// `ddp bench` builds the seed models from code (`Sequential.seedCNN`, `seedGenerator`,
    /// `seedDiscriminator`); they must stay the shipped configs' models, down to the initial weights.
    func testTheBenchmarkSeedModelsAreTheShippedConfigsModels() throws {
        func same(_ a: Sequential, _ b: Sequential, _ what: String) {
            XCTAssertEqual(a.layers.map(\.typeName), b.layers.map(\.typeName), what)
            XCTAssertEqual(a.outputShapes, b.outputShapes, what)
            XCTAssertEqual(a.parameters.flatMap(\.value.scalars), b.parameters.flatMap(\.value.scalars), "\(what): initial weights")
        }
        let cnn = Sequential.seedCNN()
        try cnn.build(inputShape: [32, 32, 3], seed: 42)
        same(cnn, try Self.load("cnn_cifar10.json").buildModel(), "CNN")

        let (g, d) = try Self.load("gan_mnist.json").buildGAN()
        let generator = Sequential.seedGenerator(), discriminator = Sequential.seedDiscriminator()
        var rng = RandomGenerator(seed: 42)
        _ = try generator.build(inputShape: [100], rng: &rng)
        _ = try discriminator.build(inputShape: [784], rng: &rng)
        same(generator, g, "generator")
        same(discriminator, d, "discriminator")
    }

    func testDefaultsAreFilledIn() throws {
        let c = try JobConfig.parse(Self.minimal, source: "configs/t.json")
        XCTAssertEqual(c.seed, 42)
        XCTAssertEqual(c.data.scale, .unit)
        XCTAssertNil(c.data.directory)
        XCTAssertEqual(c.training.gradientAccumulation, 1)
        XCTAssertTrue(c.training.dropLast)
        XCTAssertTrue(c.training.shuffle)
        XCTAssertEqual(c.training.evalBatchSize, 256)
        XCTAssertEqual(c.training.logEverySteps, 50)
        XCTAssertEqual(c.schedule, ScheduleSpec())
        XCTAssertEqual(c.parallel, ParallelSpec())
        XCTAssertNil(c.checkpoint.everySteps)
        XCTAssertEqual(c.checkpoint.keep, 3)
        XCTAssertEqual(c.outputDirectory, "runs/t")
        XCTAssertEqual(c.optimizer.beta2, 0.999)
        XCTAssertEqual(c.optimizer.epsilon, 1e-7)
        XCTAssertEqual(c.metrics, [])
        guard case .sequential(let spec)? = c.model else { return XCTFail("not sequential") }
        XCTAssertEqual(spec.layers[0], .conv2D(filters: 4, kernelSize: WindowSize(3), strides: WindowSize(1), padding: .valid,
                                               activation: .relu, useBias: true))
        XCTAssertEqual(spec.layers[1], .pooling2D(.max, poolSize: WindowSize(2), strides: nil, padding: .valid))
        // The effective tree holds the defaults, in normalised form.
        guard case .object(let root) = c.effective, case .object(let training)? = root["training"],
              case .object(let parallel)? = root["parallel"], case .object(let model)? = root["model"],
              case .array(let layers)? = model["layers"], case .object(let conv)? = layers.first else { return XCTFail("shape") }
        XCTAssertEqual(root["seed"], .int(42))
        XCTAssertEqual(training["max_steps"], .null)
        XCTAssertEqual(parallel["bucket_mb"], .real(25))
        XCTAssertEqual(model["type"], .string("sequential"))
        XCTAssertEqual(conv["kernel_size"], .array([.int(3), .int(3)]))
    }

    // MARK: - Errors

    func testInvalidJSONNamesLineAndColumn() {
        let text = "{\n  \"name\": \"t\",\n  \"task\": ,\n}"
        XCTAssertThrowsError(try JobConfig.parse(text, source: "configs/bad.json")) { e in
            XCTAssertEqual((e as? ConfigError)?.description, "configs/bad.json: invalid JSON: Invalid value at line 3, column 11")
        }
        XCTAssertThrowsError(try JobConfig.parse("[1, 2]", source: "configs/bad.json")) { e in
            XCTAssertEqual((e as? ConfigError)?.description, "configs/bad.json: expected an object, found array [1,2]")
        }
        XCTAssertThrowsError(try JobConfig.load(path: "/nonexistent/x.json")) { e in
            XCTAssertTrue("\(e)".hasPrefix("/nonexistent/x.json: cannot read the file"), "\(e)")
        }
    }

    func testUnknownKeyListsAllowedKeysAndSuggestsTheClosest() {
        XCTAssertEqual(error(editing: ["model.layers[0].stride=2"]),
                       "configs/t.json: model.layers[0].stride: unknown key for layer type \"Conv2D\" (allowed: activation, filters, "
                       + "kernel_size, padding, strides, type, use_bias); did you mean \"strides\"?")
        XCTAssertEqual(error(editing: ["training.shufle=false"]),
                       "configs/t.json: training.shufle: unknown key for task \"classification\" (allowed: batch_size, drop_last, "
                       + "epochs, eval_batch_size, gradient_accumulation, log_every_steps, max_consecutive_skips, max_steps, non_finite, shuffle); did you mean \"shuffle\"?")
        // No suggestion when nothing is close; sample_every_steps is only for GANs and language models.
        XCTAssertEqual(error(editing: ["training.sample_every_steps=100"]),
                       "configs/t.json: training.sample_every_steps: unknown key for task \"classification\" (allowed: batch_size, "
                       + "drop_last, epochs, eval_batch_size, gradient_accumulation, log_every_steps, max_consecutive_skips, max_steps, non_finite, shuffle)")
        // alpha belongs to leaky_relu only.
        XCTAssertTrue(error(editing: ["model.layers[4].alpha=0.1"]).hasPrefix(
            "configs/t.json: model.layers[4].alpha: unknown key for layer type \"Dense\" (allowed: activation, type, units, use_bias)"))
        XCTAssertTrue(error(editing: ["colour=1"]).hasPrefix("configs/t.json: colour: unknown key for task \"classification\" (allowed: "))
    }

    func testKeysOfAnotherOptimizerAreUnknown() {
        XCTAssertEqual(error(editing: ["optimizer.momentum=0.9"]),
                       "configs/t.json: optimizer.momentum: unknown key for optimizer \"adam\" (allowed: beta1, beta2, clip_norm, epsilon, "
                       + "learning_rate, name, weight_decay)")
        XCTAssertEqual(error(editing: ["optimizer.name=sgd", "optimizer.beta1=0.5"]),
                       "configs/t.json: optimizer.beta1: unknown key for optimizer \"sgd\" (allowed: clip_norm, learning_rate, momentum, "
                       + "name, nesterov, weight_decay)")
    }

    func testMissingRequiredKey() {
        XCTAssertEqual(error(removing: ["training.batch_size"]),
                       "configs/t.json: training.batch_size: missing required key (expected an integer ≥ 1)")
        XCTAssertEqual(error(removing: ["optimizer"]), "configs/t.json: optimizer: missing required key (expected an object)")
        XCTAssertEqual(error(removing: ["model.layers[0].filters"]),
                       "configs/t.json: model.layers[0].filters: missing required key (expected an integer ≥ 1)")
        // A misspelt required key is pointed at.
        XCTAssertEqual(error(editing: ["training.batch_sise=8"], removing: ["training.batch_size"]),
                       "configs/t.json: training.batch_size: missing required key (expected an integer ≥ 1); "
                       + "found unknown key \"batch_sise\" — a misspelling of \"batch_size\"?")
    }

    func testWrongTypeAndIntegersVersusReals() {
        XCTAssertEqual(error(editing: ["model.layers[0].filters=3.5"]),
                       "configs/t.json: model.layers[0].filters: expected an integer, found real 3.5")
        XCTAssertEqual(error(editing: ["model.layers[0].filters=4.0"]),
                       "configs/t.json: model.layers[0].filters: expected an integer, found real 4.0")
        XCTAssertEqual(error(editing: ["training.shuffle=\"yes\""]), "configs/t.json: training.shuffle: expected a boolean, found string \"yes\"")
        XCTAssertEqual(error(editing: ["model.input_shape=[28,2.5,1]"]),
                       "configs/t.json: model.input_shape[1]: expected an integer, found real 2.5")
        XCTAssertEqual(error(editing: ["model.layers[0].kernel_size=[3,3,3]"]),
                       "configs/t.json: model.layers[0].kernel_size: expected an integer or an array [height, width], found array [3,3,3]")
        XCTAssertEqual(error(editing: ["data=[]"]), "configs/t.json: data: expected an object, found array []")
        XCTAssertEqual(error(editing: ["model.layers[0].activation=null"]),
                       "configs/t.json: model.layers[0].activation: expected an activation (one of \"linear\", \"relu\", \"sigmoid\", "
                       + "\"tanh\", \"gelu\", \"leaky_relu\", \"softmax\"), found null")
        // A real-valued key accepts an integer.
        XCTAssertNoThrow(try JobConfig.parse(Self.minimal, source: "t", overrides: ["optimizer.learning_rate=1"]))
    }

    func testOutOfRangeValues() {
        XCTAssertEqual(error(editing: ["optimizer.learning_rate=-0.1"]),
                       "configs/t.json: optimizer.learning_rate: expected a real > 0, found real -0.1")
        XCTAssertEqual(error(editing: ["training.batch_size=0"]),
                       "configs/t.json: training.batch_size: expected an integer ≥ 1, found integer 0")
        XCTAssertEqual(error(editing: ["model.layers[3].rate=1"]),
                       "configs/t.json: model.layers[3].rate: expected a real in [0, 1), found integer 1")
        XCTAssertEqual(error(editing: ["optimizer.beta1=1.5"]), "configs/t.json: optimizer.beta1: expected a real in [0, 1), found real 1.5")
        XCTAssertEqual(error(editing: ["model.input_shape=[28,0,1]"]),
                       "configs/t.json: model.input_shape: expected an array of integers with at least one entry, all ≥ 1, found array [28,0,1]")
        XCTAssertEqual(error(editing: ["parallel.bucket_mb=0"]), "configs/t.json: parallel.bucket_mb: expected a real > 0, found integer 0")
        XCTAssertEqual(error(editing: ["seed=-1"]), "configs/t.json: seed: expected an integer ≥ 0, found integer -1")
        XCTAssertEqual(error(editing: ["training.gradient_accumulation=3"]),
                       "configs/t.json: training.gradient_accumulation: 3 does not divide batch_size 8 into equal micro-batches")
        XCTAssertEqual(error(editing: ["name=\"\""]), "configs/t.json: name: expected a string that is not empty, found string \"\"")
    }

    func testUnknownNamesListTheValidOnes() {
        XCTAssertEqual(error(editing: ["model.layers[0].type=Conv3D"]),
                       "configs/t.json: model.layers[0].type: unknown layer type \"Conv3D\" (valid: \"Dense\", \"Conv2D\", \"Conv1D\", "
                       + "\"MaxPooling2D\", \"AveragePooling2D\", \"MaxPooling1D\", \"AveragePooling1D\", \"GlobalAveragePooling1D\", "
                       + "\"GlobalAveragePooling2D\", \"Flatten\", \"Reshape\", \"Dropout\", \"Embedding\", \"LayerNormalization\", \"BatchNormalization\", \"ResidualBlock\", "
                       + "\"Activation\", \"LeakyReLU\", \"PositionEmbedding\", \"TokenAndPositionEmbedding\", \"TransformerEncoderBlock\", "
                       + "\"LSTM\", \"GraphConv\"); did you mean \"Conv2D\"?")
        XCTAssertEqual(error(editing: ["model.layers[0].activation=relu6"]),
                       "configs/t.json: model.layers[0].activation: unknown activation \"relu6\" (valid: \"linear\", \"relu\", \"sigmoid\", "
                       + "\"tanh\", \"gelu\", \"leaky_relu\", \"softmax\"); did you mean \"relu\"?")
        XCTAssertTrue(error(editing: ["loss.name=sparse_categorical_crossentropyy"]).hasPrefix(
            "configs/t.json: loss.name: unknown loss \"sparse_categorical_crossentropyy\" (valid: \"sparse_categorical_crossentropy\", "))
        XCTAssertEqual(error(editing: ["optimizer.name=adamm"]),
                       "configs/t.json: optimizer.name: unknown optimizer \"adamm\" (valid: \"adam\", \"adamw\", \"sgd\"); did you mean \"adam\"?")
        XCTAssertEqual(error(editing: ["data.dataset=fashion_mnist"]),
                       "configs/t.json: data.dataset: unknown dataset \"fashion_mnist\" (valid: \"mnist\", \"fashion-mnist\", \"cifar10\", "
                       + "\"tinyshakespeare\", \"tatoeba-eng-fra\", \"creditcard-fraud-sample\", \"karate-club\", \"image-folder\", "
                       + "\"spoken-digits\"); did you mean \"fashion-mnist\"?")
        XCTAssertEqual(error(editing: ["metrics=[\"acc\"]"]),
                       "configs/t.json: metrics[0]: unknown metric \"acc\" (valid: \"accuracy\", \"sparse_categorical_accuracy\", "
                       + "\"categorical_accuracy\", \"binary_accuracy\")")
        XCTAssertEqual(error(editing: ["task=gann"]),
                       "configs/t.json: task: unknown task \"gann\" (valid: \"classification\", \"language_model\", \"gan\", "
                       + "\"binary_classification\", \"node_classification\", \"translation\"); did you mean \"gan\"?")
    }

    func testTaskSpecificChecks() {
        XCTAssertEqual(error(editing: ["data.dataset=tinyshakespeare"]),
                       "configs/t.json: data.dataset: dataset \"tinyshakespeare\" does not fit task \"classification\" "
                       + "(datasets for it: \"mnist\", \"fashion-mnist\", \"cifar10\", \"image-folder\", \"spoken-digits\")")
        XCTAssertEqual(error(editing: ["model.type=transformer_lm"]),
                       "configs/t.json: model.type: model type \"transformer_lm\" needs task \"language_model\", not \"classification\"")
        XCTAssertEqual(error(editing: ["model.input_shape=[32,32,3]"]),
                       "configs/t.json: model.input_shape: [32, 32, 3] does not fit the samples of mnist: expected [28, 28, 1] or "
                       + "another shape of 784 elements")
        XCTAssertEqual(error(editing: ["data.sequence_length=128"]),
                       "configs/t.json: data.sequence_length: unknown key for dataset \"mnist\" "
                       + "(allowed: augment, dataset, dir, scale, test_limit, train_limit)")
        XCTAssertEqual(error(editing: ["loss.name=mse", "metrics=[\"accuracy\"]"], removing: ["loss.from_logits"]),
                       "configs/t.json: metrics[0]: \"accuracy\" has no meaning for loss mean_squared_error")
        // Images may be reshaped to any input shape with as many elements.
        XCTAssertNoThrow(try JobConfig.parse(Self.minimal, source: "t",
                                             overrides: ["model.input_shape=[784]", "model.layers=[{\"type\":\"Dense\",\"units\":10}]"]))
        XCTAssertThrowsError(try ConfigTests.load("transformer_shakespeare.json", overrides: ["loss.from_logits=false"])) { e in
            XCTAssertEqual("\(e)", "--set loss.from_logits=false: loss.from_logits: transformer_lm outputs logits: expected true, found false")
        }
        XCTAssertThrowsError(try ConfigTests.load("gan_mnist.json", overrides: ["discriminator.layers[4].activation=linear"])) { e in
            XCTAssertTrue("\(e)".hasSuffix("gan_mnist.json: discriminator.layers[4]: the discriminator must end in a sigmoid (the GAN loss "
                                           + "is binary cross-entropy on probabilities)"), "\(e)")
        }
        XCTAssertThrowsError(try ConfigTests.load("gan_mnist.json", overrides: ["loss={\"name\":\"mse\"}"])) { e in
            XCTAssertTrue("\(e)".hasPrefix("--set loss={\"name\":\"mse\"}: loss: unknown key for task \"gan\" (allowed: "), "\(e)")
        }
    }

    // MARK: - Overrides

    func testOverridesOfNestedKeysIndicesAndJSONValues() throws {
        let c = try Self.load("cnn_cifar10.json", overrides: [
            "training.batch_size=128",
            "model.layers[5].units=32",
            "model.layers[0].kernel_size=[5,3]",
            "optimizer.name=sgd",
            "optimizer.momentum=0.9",
            "schedule={\"name\": \"exponential\", \"decay_steps\": 100, \"decay_rate\": 0.5}",
            "checkpoint.every_steps=200",
            "checkpoint.every_steps=null",
            "name=\"quoted\"",
            "data.dir=/tmp/data",
        ])
        XCTAssertEqual(c.training.batchSize, 128)
        XCTAssertEqual(c.optimizer.name, .sgd)
        XCTAssertEqual(c.optimizer.momentum, 0.9)
        XCTAssertEqual(c.schedule.name, .exponential)
        XCTAssertEqual(c.schedule.decayRate, 0.5)
        XCTAssertNil(c.checkpoint.everySteps)
        XCTAssertEqual(c.name, "quoted")
        XCTAssertEqual(c.outputDirectory, "runs/quoted")
        XCTAssertEqual(c.data.directory, "/tmp/data")
        guard case .sequential(let spec)? = c.model else { return XCTFail("not sequential") }
        XCTAssertEqual(spec.layers[5], .dense(units: 32, activation: .relu, useBias: true))
        guard case .conv2D(_, let kernel, _, _, _, _) = spec.layers[0] else { return XCTFail("not Conv2D") }
        XCTAssertEqual(kernel, WindowSize(5, 3))
        // A section the file does not have is created.
        let p = try Self.load("cnn_cifar10.json", overrides: ["parallel.scale_lr=true", "output.dir=out/x"])
        XCTAssertTrue(p.parallel.scaleLearningRate)
        XCTAssertEqual(p.outputDirectory, "out/x")
    }

    func testOverrideErrorsNameTheSetArgument() {
        XCTAssertEqual(error(overrides: ["training.batch_sise=8"]),
                       "--set training.batch_sise=8: training.batch_sise: unknown key for task \"classification\" (allowed: batch_size, "
                       + "drop_last, epochs, eval_batch_size, gradient_accumulation, log_every_steps, max_consecutive_skips, max_steps, non_finite, shuffle); "
                       + "did you mean \"batch_size\"?")
        XCTAssertEqual(error(overrides: ["training.batch_size=abc"]),
                       "--set training.batch_size=abc: training.batch_size: expected an integer, found string \"abc\"")
        XCTAssertEqual(error(overrides: ["model.layers[2].units=3.5"]),
                       "--set model.layers[2].units=3.5: model.layers[2].units: unknown key for layer type \"Flatten\" (allowed: type)")
        XCTAssertEqual(error(overrides: ["model.layers[4].units=3.5"]),
                       "--set model.layers[4].units=3.5: model.layers[4].units: expected an integer, found real 3.5")
        XCTAssertEqual(error(overrides: ["model.layers[9].units=3"]),
                       "--set model.layers[9].units=3: model.layers: index 9 is out of range: the array has 5 elements")
        XCTAssertEqual(error(overrides: ["model.input_shape.x=3"]),
                       "--set model.input_shape.x=3: model.input_shape: cannot set key \"x\" in array [28,28,1]")
        XCTAssertEqual(error(overrides: ["training.batch_size"]), "--set training.batch_size: expected key.path=value")
        XCTAssertTrue(error(overrides: ["model..layers=1"]).hasPrefix("--set model..layers=1: \"model..layers\" is not a key path"))
        // A missing section created by --set is attributed to it.
        XCTAssertTrue(error(overrides: ["extra.key=1"]).hasPrefix("--set extra.key=1: extra: unknown key for task \"classification\""))
        // An error in the file is still the file's, whatever was overridden elsewhere.
        XCTAssertEqual(error(editing: ["training.batch_size=0"], overrides: ["training.epochs=2"]),
                       "configs/t.json: training.batch_size: expected an integer ≥ 1, found integer 0")
    }

    func testConfigPathParsing() {
        XCTAssertEqual(ConfigPath(parsing: "model.layers[3].units")?.components,
                       [.key("model"), .key("layers"), .index(3), .key("units")])
        XCTAssertEqual(ConfigPath(parsing: "a[0][1]")?.components, [.key("a"), .index(0), .index(1)])
        XCTAssertEqual(ConfigPath(parsing: "model.layers[3].units")?.description, "model.layers[3].units")
        for bad in ["", "a.", ".a", "a..b", "a[", "a[x]", "a[-1]", "a[0]b", "a.[0]"] {
            XCTAssertNil(ConfigPath(parsing: bad), bad)
        }
        XCTAssertEqual(JSONValue.parseOverrideValue("1e-3"), .real(0.001))
        XCTAssertEqual(JSONValue.parseOverrideValue("128"), .int(128))
        XCTAssertEqual(JSONValue.parseOverrideValue("true"), .bool(true))
        XCTAssertEqual(JSONValue.parseOverrideValue("null"), .null)
        XCTAssertEqual(JSONValue.parseOverrideValue("\"128\""), .string("128"))
        XCTAssertEqual(JSONValue.parseOverrideValue("cosine"), .string("cosine"))
        XCTAssertEqual(JSONValue.parseOverrideValue("[3, 3]"), .array([.int(3), .int(3)]))
    }

    // MARK: - Building

    /// A layer too large for the machine is refused before anything is allocated.
    func testLayerTooLargeForMemoryNamesTheLayer() throws {
        let huge = try JobConfig.parse(Self.minimal, source: "configs/t.json", overrides: ["model.layers[4].units=1000000000000"])
        XCTAssertThrowsError(try huge.buildModel()) { e in
            XCTAssertTrue(e is ConfigError, "\(e)")
            XCTAssertTrue("\(e)".hasPrefix("configs/t.json: model.layers[4] (Dense): does not fit its input shape"), "\(e)")
            XCTAssertTrue("\(e)".contains("more than this machine's memory"), "\(e)")
        }
    }

    func testResNetConfigAndItsBadValues() throws {
        let resnet = try Self.load("resnet20_cifar10.json")
        let model = try resnet.buildModel()
        XCTAssertEqual(model.parameterCount, 271_098)
        XCTAssertEqual(model.parameters.filter(\.requiresGrad).reduce(0) { $0 + $1.count }, 269_722)
        XCTAssertEqual(model.layers.filter { $0 is ResidualBlock }.count, 9)
        XCTAssertEqual(model.allLayers.filter { $0 is BatchNormalization }.count, 19)
        XCTAssertEqual(model.outputShapes.last, [10])
        XCTAssertFalse(resnet.parallelOptions.syncBatchNorm)
        XCTAssertTrue(try Self.load("resnet20_cifar10.json", overrides: ["parallel.sync_batch_norm=true"]).parallelOptions.syncBatchNorm)

        func message(_ overrides: [String]) -> String {
            do { _ = try Self.load("resnet20_cifar10.json", overrides: overrides).buildModel() } catch { return "\(error)" }
            return "accepted"
        }
        XCTAssertTrue(message(["model.layers[1].momentum=1"]).hasSuffix(
            "model.layers[1].momentum: expected a real in [0, 1), found integer 1"), message(["model.layers[1].momentum=1"]))
        XCTAssertTrue(message(["model.layers[6].shortcut=zeros"]).hasSuffix(
            "model.layers[6].shortcut: unknown shortcut \"zeros\" (valid: \"projection\", \"padding\")"), message(["model.layers[6].shortcut=zeros"]))
        XCTAssertTrue(message(["model.layers[4].strides=0"]).hasSuffix("model.layers[4].strides: expected an integer ≥ 1, found integer 0"))
        XCTAssertTrue(message(["parallel.sync_batch_norm=1"]).hasSuffix("parallel.sync_batch_norm: expected a boolean, found integer 1"),
                      message(["parallel.sync_batch_norm=1"]))
        XCTAssertTrue(message(["model.layers[12]={\"type\":\"Flatten\"}", "model.layers[13]={\"type\":\"ResidualBlock\",\"filters\":10}"])
            .contains("model.layers[13] (ResidualBlock): does not fit its input shape [4096]: input [4096] should be [height, width, channels]"))
        XCTAssertTrue(message(["model.layers[7]={\"type\":\"ResidualBlock\",\"filters\":16,\"strides\":2,\"shortcut\":\"padding\"}"])
            .contains("model.layers[7] (ResidualBlock): does not fit its input shape [16, 16, 32]: a padding shortcut cannot reduce 32 channels to 16"))
    }

    func testShapeThatDoesNotFitNamesTheLayer() throws {
        let spec = SequentialSpec(inputShape: [3, 3, 1],
                                  layers: [.conv2D(filters: 2, kernelSize: WindowSize(5), strides: WindowSize(1), padding: .valid,
                                                   activation: .relu, useBias: true)],
                                  location: ConfigLocation(file: "configs/x.json", path: ConfigPath(parsing: "model")!))
        XCTAssertThrowsError(try buildSequential(spec, seed: 1)) { e in
            let message = (e as? ConfigError)?.description ?? "\(e)"
            XCTAssertTrue(message.hasPrefix("configs/x.json: model.layers[0] (Conv2D): does not fit its input shape [3, 3, 1]: "), message)
            XCTAssertTrue(message.contains("5x5"), message)
        }
        let pooled = try JobConfig.parse(Self.minimal, source: "configs/t.json", overrides: ["model.layers[1].pool_size=30"])
        XCTAssertThrowsError(try pooled.buildModel()) { e in
            XCTAssertTrue("\(e)".hasPrefix("configs/t.json: model.layers[1] (MaxPooling2D): does not fit its input shape [26, 26, 4]: "), "\(e)")
        }
        let tenClasses = try JobConfig.parse(Self.minimal, source: "configs/t.json", overrides: ["model.layers[4].units=9"])
        XCTAssertThrowsError(try tenClasses.buildModel()) { e in
            XCTAssertEqual("\(e)", "configs/t.json: model.layers[4] (Dense): output shape [9] does not fit the 10 classes of mnist: expected [10]")
        }
        let gan = try Self.load("gan_mnist.json", overrides: ["generator.layers[6].units=783"])
        XCTAssertThrowsError(try gan.buildGAN()) { e in
            XCTAssertTrue("\(e)".hasSuffix("gan_mnist.json: generator.layers[6] (Dense): output shape [783] differs from "
                                           + "discriminator.input_shape [784]"), "\(e)")
        }
    }

    func testOptimizerScheduleAndParallelBuilders() throws {
        let lm = try Self.load("transformer_shakespeare.json")
        XCTAssertEqual(makeSchedule(lm.schedule, learningRate: lm.optimizer.learningRate),
                       .warmup(steps: 200, start: 0, then: .cosineDecay(initial: 0.001, decaySteps: 2800, alpha: 0.1)))
        let model = try buildSequential(SequentialSpec(inputShape: [4], layers: [.dense(units: 2, activation: .linear, useBias: true)],
                                                       location: ConfigLocation(file: "code")), seed: 1)
        let adamw = lm.makeOptimizer()(model.flattenParameters())
        XCTAssertTrue(adamw is AdamW)
        XCTAssertEqual((adamw as? Adam)?.weightDecay, 0.01)
        XCTAssertEqual(adamw.globalClipNorm, 1)
        XCTAssertEqual(adamw.learningRate(200), 0.001, accuracy: 1e-9)

        let gan = try Self.load("gan_mnist.json")
        let adam = gan.makeOptimizer()(model.flattenParameters())
        XCTAssertFalse(adam is AdamW)
        XCTAssertEqual((adam as? Adam)?.beta1, 0.5)
        XCTAssertEqual(adam.learningRate, .constant(0.0002))

        var sgd = OptimizerSpec(name: .sgd)
        sgd.momentum = 0.9
        sgd.nesterov = true
        var decay = ScheduleSpec()
        decay.name = .exponential
        decay.decaySteps = 10
        decay.decayRate = 0.5
        decay.staircase = true
        let s = makeOptimizer(sgd, schedule: decay)(model.flattenParameters())
        XCTAssertEqual((s as? SGD)?.nesterov, true)
        XCTAssertEqual(s.learningRate(25), 0.0025, accuracy: 1e-9)

        let options = try Self.load("cnn_fashion_mnist.json", overrides: ["parallel.bucket_mb=0.5", "training.gradient_accumulation=2"])
            .parallelOptions
        XCTAssertEqual(options.bucketBytes, 1 << 19)
        XCTAssertEqual(options.firstBucketBytes, 1 << 20)
        XCTAssertEqual(options.gradientAccumulation, 2)
        XCTAssertTrue(options.overlap)
    }

    // MARK: - Digest

    func testDigestIsStableUnderReorderingAndDefaultsButChangesWithAnyValue() throws {
        let url = Self.configDirectory.appendingPathComponent("cnn_cifar10.json")
        let text = try String(contentsOf: url, encoding: .utf8)
        let base = try JobConfig.parse(text, source: "a")
        let tree = try JSONValue.parse(Data(text.utf8), source: "a")
        XCTAssertEqual(try JobConfig.parse(Self.reverseSorted(tree), source: "b").digest, base.digest)
        XCTAssertEqual(try JobConfig.parse(base.canonicalJSON, source: "c").digest, base.digest)
        // Writing a default out, or a real as an integer, changes nothing.
        XCTAssertEqual(try JobConfig.parse(text, source: "a", overrides: ["seed=42", "training.shuffle=true", "optimizer.learning_rate=1e-3"]).digest,
                       base.digest)
        XCTAssertEqual(base.digestHex.count, 16)

        // Every number, boolean and free string of the effective config, changed alone (in the
        // effective form, where windows are arrays), changes the digest. Only the input shape
        // cannot change alone: it must fit the dataset.
        var changed = 0
        for (path, value) in Self.leaves(base.effective, at: ConfigPath()) {
            let replacement: String
            switch value {
            case .int(let i): replacement = String(i + 1)
            case .real(let d): replacement = String(d == 0 ? 0.5 : d / 2)
            case .bool(let b): replacement = String(!b)
            case .string(let s) where ["name", "output.dir"].contains(path.description): replacement = "\"\(s)x\""
            default: continue
            }
            guard let other = try? JobConfig.parse(base.canonicalJSON, source: "a", overrides: ["\(path)=\(replacement)"]) else {
                XCTAssertTrue(path.description.hasPrefix("model.input_shape"), "\(path)=\(replacement) is invalid")
                continue
            }
            XCTAssertNotEqual(other.digest, base.digest, "\(path)=\(replacement)")
            changed += 1
        }
        XCTAssertGreaterThan(changed, 40, "numbers, booleans and free strings changed")
    }

    static func leaves(_ value: JSONValue, at path: ConfigPath) -> [(ConfigPath, JSONValue)] {
        switch value {
        case .object(let fields): return fields.flatMap { leaves($1, at: path.appending($0)) }
        case .array(let items): return items.enumerated().flatMap { leaves($1, at: path.appending(index: $0)) }
        default: return [(path, value)]
        }
    }

    /// JSON text with every object's keys in reverse order, indented differently.
    static func reverseSorted(_ value: JSONValue) -> String {
        switch value {
        case .object(let fields):
            return "{\n " + fields.keys.sorted(by: >).map { "\"\($0)\" :  \(reverseSorted(fields[$0]!))" }.joined(separator: ",\n ") + "}"
        case .array(let items):
            return "[ " + items.map(reverseSorted).joined(separator: " , ") + " ]"
        default:
            return value.canonicalText
        }
    }
}
