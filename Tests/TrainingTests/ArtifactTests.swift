import Autograd
import Comm
import CZlib
import Foundation
import FoundationXML
import NN
import Optim
import TensorCore
import Training
import XCTest

/// Run artifacts: safetensors checkpoints (layout, validation, atomic replacement, directory
/// rotation), PNG sample grids, SVG curves, the JSON-lines metrics log and progress text.
final class ArtifactTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "artifact-tests-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: - Safetensors

    func testSafetensorsRoundTripKeepsNamesShapesValuesAndMetadata() throws {
        var c = Checkpoint(metadata: ["model_name": "cnn \"small\" ✓", "note": "line\nbreak"])
        try c.add("dense_1/kernel", shape: [2, 3], values: [1, -2, 3.5, 0, -0.0, .greatestFiniteMagnitude])
        try c.add("scalar", shape: [], values: [.infinity])
        try c.add("empty", shape: [0, 4], values: [])
        try c.add("nan", shape: [1], values: [.nan])
        let path = directory + "/round.safetensors"
        try c.write(to: path)

        let back = try Checkpoint(contentsOf: path)
        XCTAssertEqual(back.names, ["dense_1/kernel", "scalar", "empty", "nan"])
        XCTAssertEqual(back.source, path)
        for t in c.tensors {
            let r = try XCTUnwrap(back[t.name])
            XCTAssertEqual(r.shape, t.shape, t.name)
            XCTAssertEqual(r.values.map(\.bitPattern), t.values.map(\.bitPattern), t.name)
        }
        for (k, v) in c.metadata { XCTAssertEqual(back.metadata[k], v, k) }
        XCTAssertEqual(back.metadata["format"], "pt")
        XCTAssertEqual(back.metadata[Checkpoint.formatVersionKey], Checkpoint.formatVersion)
        XCTAssertEqual(back.metadata[Checkpoint.tensorChecksumsKey]?.split(separator: ",").count, 4)
        XCTAssertNotNil(back.metadata[Checkpoint.headerChecksumKey])
    }

    /// The exact bytes of a one-tensor file, so any safetensors reader can load it.
    func testTinyFileHasTheSafetensorsByteLayout() throws {
        var c = Checkpoint(metadata: ["step": "7"])
        try c.add("w", shape: [2], values: [1, -2])
        let bytes = c.encoded()

        let data: [UInt8] = [0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0]  // 1.0f, -2.0f little-endian
        func crc(_ bytes: [UInt8]) -> String {
            let c = String(bytes.withUnsafeBufferPointer { CZlib.crc32(0, $0.baseAddress, UInt32($0.count)) }, radix: 16)
            return String(repeating: "0", count: 8 - c.count) + c
        }
        func header(_ headerCRC: String) -> String {
            let h = "{\"__metadata__\":{\"format\":\"pt\",\"format_version\":\"2\",\"header_crc32\":\"\(headerCRC)\",\"step\":\"7\","
                + "\"tensor_crc32\":\"\(crc(data))\"},\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}"
            return h + String(repeating: " ", count: (8 - h.utf8.count % 8) % 8)
        }
        let header = header(crc(Array(header("00000000").utf8)))
        let n = header.utf8.count
        XCTAssertEqual(n % 8, 0)
        XCTAssertEqual(Array(bytes[0..<8]), (0..<8).map { UInt8(truncatingIfNeeded: UInt64(n) >> (8 * $0)) })
        XCTAssertEqual(String(decoding: bytes[8..<(8 + n)], as: UTF8.self), header)
        XCTAssertEqual(Array(bytes[(8 + n)...]), data)
    }

    func testModelAndAdamStateRestoreIntoAFreshModel() throws {
        let (params, adam) = Self.model(seed: 1)
        for _ in 0..<2 {
            for i in 0..<params.count { params.gradBuffer[i] = Float(i % 5) - 2 }
            adam.step()
        }
        let info = CheckpointInfo(step: 2, epoch: 1, rngState: [1, 0xFFFF_FFFF_FFFF_FFFF, 3, 4],
                                  configDigest: CheckpointInfo.digest("lr=0.001"), modelName: "tiny")
        let path = directory + "/model.safetensors"
        try Checkpoint(parameters: params, optimizer: adam, info: info).write(to: path)

        let loaded = try Checkpoint(contentsOf: path)
        XCTAssertEqual(loaded.names, ["dense/kernel", "dense/bias",
                                      "optimizer/m/dense/kernel", "optimizer/m/dense/bias",
                                      "optimizer/v/dense/kernel", "optimizer/v/dense/bias"])
        XCTAssertEqual(loaded["optimizer/v/dense/kernel"]?.shape, [3, 2])
        XCTAssertEqual(loaded.metadata["optimizer_step"], "2")
        XCTAssertEqual(try CheckpointInfo(loaded), info)

        let (fresh, freshAdam) = Self.model(seed: 2)
        try loaded.restore(fresh, optimizer: freshAdam)
        XCTAssertEqual(Array(fresh.valueBuffer), Array(params.valueBuffer))
        XCTAssertEqual(freshAdam.stepCount, 2)
        for (a, b) in zip(freshAdam.stateBuffers, adam.stateBuffers) { XCTAssertEqual(Array(a.buffer), Array(b.buffer), a.name) }
    }

    func testGANCheckpointStoresBothNetworksUnderTheirPrefixes() throws {
        let (g, gOpt) = Self.model(seed: 3), (d, dOpt) = Self.model(seed: 4, prefix: "disc")
        gOpt.stepCount = 5
        dOpt.stepCount = 6
        let c = try Checkpoint(generator: g, generatorOptimizer: gOpt, discriminator: d, discriminatorOptimizer: dOpt,
                               info: CheckpointInfo(step: 6, epoch: 0))
        XCTAssertTrue(c.names.contains("generator/dense/kernel"))
        XCTAssertTrue(c.names.contains("generator/optimizer/m/dense/bias"))
        XCTAssertTrue(c.names.contains("discriminator/disc/kernel"))
        XCTAssertEqual(c.metadata["discriminator/optimizer_step"], "6")

        let (g2, g2Opt) = Self.model(seed: 5), (d2, d2Opt) = Self.model(seed: 6, prefix: "disc")
        try Checkpoint(decoding: c.encoded()).restore(generator: g2, generatorOptimizer: g2Opt, discriminator: d2, discriminatorOptimizer: d2Opt)
        XCTAssertEqual(Array(g2.valueBuffer), Array(g.valueBuffer))
        XCTAssertEqual(Array(d2.valueBuffer), Array(d.valueBuffer))
        XCTAssertEqual([g2Opt.stepCount, d2Opt.stepCount], [5, 6])
    }

    func testWrongShapeMissingAndUnexpectedTensorsAreNamedAndChangeNothing() throws {
        let (params, adam) = Self.model(seed: 1)
        let saved = try Checkpoint(parameters: params, optimizer: adam, info: CheckpointInfo(step: 0, epoch: 0))
        let file = directory + "/shape.safetensors"
        try saved.write(to: file)
        let loaded = try Checkpoint(contentsOf: file)

        let wide = Self.model(seed: 2, kernelShape: [3, 4])
        let before = Array(wide.parameters.valueBuffer)
        let error = try XCTUnwrap(Self.artifactError { try loaded.restore(wide.parameters, optimizer: wide.optimizer) })
        XCTAssertEqual(error.kind, .shapeMismatch)
        XCTAssertTrue(error.description.contains(file), error.description)
        XCTAssertTrue(error.message.contains("\"dense/kernel\""), error.message)
        XCTAssertTrue(error.message.contains("[3, 2]") && error.message.contains("[3, 4]"), error.message)
        XCTAssertEqual(Array(wide.parameters.valueBuffer), before, "a failed restore changed the model")

        let other = Self.model(seed: 2, prefix: "other")
        let missing = try XCTUnwrap(Self.artifactError { try loaded.restore(other.parameters, optimizer: nil) })
        XCTAssertEqual(missing.kind, .missingTensor)
        XCTAssertTrue(missing.message.contains("\"other/kernel\""), missing.message)

        let small = FlatParameters([Variable(Tensor(zeros: [3, 2]), requiresGrad: true, name: "dense/kernel")])
        let unexpected = try XCTUnwrap(Self.artifactError { try loaded.restore(small, optimizer: nil) })
        XCTAssertEqual(unexpected.kind, .unexpectedTensor)
        XCTAssertTrue(unexpected.message.contains("\"dense/bias\""), unexpected.message)
    }

    /// Saving a trainer mid-run and restoring it into a differently initialised one continues
    /// the same trajectory bit for bit (parameters and Adam state).
    func testTrainerCheckpointResumesTheSameTrajectory() throws {
        let group = InProcessGroup(size: 1)
        defer { withExtendedLifetime(group) {} }
        let comm = group.communicators[0]
        func trainer(seed: UInt64) throws -> DataParallelTrainer {
            let model = Sequential([Dense(4), Dense(2)])
            try model.build(inputShape: [3], seed: seed)
            return DataParallelTrainer(model: model, loss: .meanSquaredError, metric: nil, comm: comm) { Adam($0, learningRate: 0.01) }
        }
        let inputs = Tensor((0..<12).map { Float($0) / 12 }, shape: [4, 3]), targets = Tensor(repeating: 0.5, shape: [4, 2])
        let a = try trainer(seed: 1)
        for _ in 0..<2 { _ = a.step([(inputs, targets)]) }
        let saved = try Checkpoint(decoding: try a.checkpoint(CheckpointInfo(step: 2, epoch: 0, modelName: "mlp")).encoded())
        XCTAssertEqual(Set(saved.names), ["dense/kernel", "dense/bias", "dense_1/kernel", "dense_1/bias",
                                          "optimizer/m/dense/kernel", "optimizer/m/dense/bias", "optimizer/m/dense_1/kernel", "optimizer/m/dense_1/bias",
                                          "optimizer/v/dense/kernel", "optimizer/v/dense/bias", "optimizer/v/dense_1/kernel", "optimizer/v/dense_1/bias"])
        var last: StepResult?
        for _ in 0..<2 { last = a.step([(inputs, targets)]) }

        let b = try trainer(seed: 2)
        XCTAssertEqual(try b.restore(from: saved).modelName, "mlp")
        for _ in 0..<2 { _ = b.step([(inputs, targets)]) }
        XCTAssertEqual(Array(b.parameters.valueBuffer), Array(a.parameters.valueBuffer))

        let record = MetricsRecord(step: 4, epoch: 0, result: try XCTUnwrap(last))
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(record.jsonLine.utf8)) as? [String: Any])
        XCTAssertEqual(object["lr"] as? Double, 0.01)
        // Foundation's JSON parser may be an ulp off; the text itself is Swift's exact shortest spelling.
        XCTAssertTrue(record.jsonLine.contains("\"loss\":\(try XCTUnwrap(last).loss),"), record.jsonLine)
        XCTAssertEqual(try XCTUnwrap(object["loss"] as? Double), try XCTUnwrap(last).loss, accuracy: 1e-15)
        XCTAssertNil(object["accuracy"], "no metric in this job")
        XCTAssertNotNil(object["samples_per_sec"])
    }

    func testCorruptedDataByteIsReportedAsCorruptCheckpoint() throws {
        var c = Checkpoint()
        try c.add("x", shape: [4], values: [1, 2, 3, 4])
        var bytes = c.encoded()
        bytes[bytes.count - 3] ^= 0x10
        let file = directory + "/corrupt.safetensors"
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let error = try XCTUnwrap(Self.artifactError { _ = try Checkpoint(contentsOf: file) })
        XCTAssertEqual(error.kind, .corrupt)
        XCTAssertTrue(error.description.contains(file) && error.message.contains("corrupt checkpoint"), error.description)
    }

    /// The length is checked against the limit and the file size before anything is allocated:
    /// a 16-byte file claiming an exabyte header must fail at once.
    func testAbsurdHeaderLengthIsRejectedBeforeAllocating() throws {
        for (n, fragment) in [(UInt64(1) << 60, "absurd"), (200_000_000, "absurd"), (1000, "exceeds")] {
            let file = directory + "/absurd-\(n).safetensors"
            try Data(withUnsafeBytes(of: n.littleEndian) { Array($0) } + Array("{}      ".utf8)).write(to: URL(fileURLWithPath: file))
            let error = try XCTUnwrap(Self.artifactError { _ = try Checkpoint(contentsOf: file) })
            XCTAssertEqual(error.kind, .headerLength)
            XCTAssertTrue(error.message.contains(fragment) && error.description.contains(file), error.description)
        }
        let tiny = directory + "/tiny.safetensors"
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: tiny))
        XCTAssertEqual(Self.artifactError { _ = try Checkpoint(contentsOf: tiny) }?.kind, .truncated)
    }

    func testMalformedHeadersAreRejectedWithTheProblemNamed() {
        let eight = [UInt8](repeating: 0, count: 8)
        let cases: [(header: String, data: [UInt8], kind: ArtifactError.Kind, fragment: String)] = [
            ("{\"a\": {\"dtype\": \"F32\"", eight, .invalidHeader, "invalid JSON"),
            ("[1, 2]", [], .invalidHeader, "does not start with '{'"),
            ("{\"a\": {\"dtype\": \"F32\", \"shape\": [2]}}", eight, .invalidHeader, "\"a\""),
            ("{\"__metadata__\": {\"k\": 1}}", [], .invalidHeader, "__metadata__"),
            ("{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]}}", eight, .invalidOffsets, "out of bounds"),
            ("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [-8, 0]}}", eight, .invalidHeader, "integers ≥ 0"),
            ("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 0]}}", eight, .invalidOffsets, "out of bounds"),
            ("{\"a\": {\"dtype\": \"F32\", \"shape\": [4611686018427387904, 4], \"data_offsets\": [0, 8]}}", eight, .invalidOffsets,
             "needs too many"),
            ("{\"a\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 8]}}", eight, .invalidOffsets, "needs 12"),
            ("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, \"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}",
             eight, .invalidOffsets, "overlap"),
            ("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", eight, .invalidOffsets, "belong to no tensor"),
            ("{\"a\": {\"dtype\": \"BF16\", \"shape\": [4], \"data_offsets\": [0, 8]}}", eight, .unsupportedDtype, "BF16"),
            ("{\"a\": {\"dtype\": \"Q4\", \"shape\": [4], \"data_offsets\": [0, 8]}}", eight, .unsupportedDtype, "unknown dtype"),
            ("{\"__metadata__\": {\"format_version\": \"1\", \"data_crc32\": \"xyz\"}}", [], .invalidMetadata, "data_crc32"),
            ("{\"__metadata__\": {\"format_version\": \"2\"}}", [], .invalidMetadata, "header_crc32"),
            // Found by fuzzing (an empty checksum used to be indexed): a key with no digits after it.
            ("{\"__metadata__\":{\"format_version\":\"2\",\"header_crc32\":\"\"},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
             eight, .invalidMetadata, "header_crc32 \"\": 1 CRC-32 of 8 lowercase hex digits expected"),
            ("{\"__metadata__\": {\"format_version\": \"7\"}}", [], .invalidMetadata, "format_version \"7\" is unknown"),
        ]
        for (header, data, kind, fragment) in cases {
            let error = Self.artifactError { _ = try Checkpoint(decoding: Self.safetensors(header: header, data: data), source: "crafted.safetensors") }
            XCTAssertEqual(error?.kind, kind, header)
            XCTAssertTrue(error?.description.contains("crafted.safetensors") == true && error?.message.contains(fragment) == true,
                          "\(header): \(error?.description ?? "no error")")
        }
        XCTAssertNoThrow(try Checkpoint(decoding: Self.safetensors(header: "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}", data: eight)),
                         "a file without checksum (written by another tool) must load")
    }

    // MARK: - Checkpoint directory

    func testCheckpointFileNames() {
        XCTAssertEqual(CheckpointDirectory.fileName(step: 1200), "ckpt-000001200.safetensors")
        XCTAssertEqual(CheckpointDirectory.step(ofFileName: "ckpt-000001200.safetensors"), 1200)
        XCTAssertEqual(CheckpointDirectory.step(ofFileName: "ckpt-1234567890.safetensors"), 1_234_567_890)
        XCTAssertNil(CheckpointDirectory.step(ofFileName: ".ckpt-000001200.safetensors.tmp.12.34"))
        XCTAssertNil(CheckpointDirectory.step(ofFileName: "ckpt-.safetensors"))
        XCTAssertNil(CheckpointDirectory.step(ofFileName: "ckpt-12x.safetensors"))
    }

    /// A process killed while writing leaves only a temporary file (the rename never happened)
    /// or, with a non-atomic writer, a truncated file: `latest()` must skip both and return the
    /// previous checkpoint, and the next save cleans the dead writer's temporary file up.
    func testInterruptedWriteLeavesThePreviousCheckpointUsable() throws {
        let dir = try CheckpointDirectory(path: directory + "/run", keepLast: 3)
        var c = Checkpoint(metadata: CheckpointInfo(step: 100, epoch: 1).metadata)
        try c.add("w", shape: [3], values: [1, 2, 3])
        try dir.save(c, step: 100)
        let full = c.encoded()

        let deadWriter = dir.path + "/.ckpt-000000200.safetensors.tmp.\(Int32.max).77"
        try Data(full.prefix(full.count / 2)).write(to: URL(fileURLWithPath: deadWriter))
        try Data(full.prefix(full.count - 4)).write(to: URL(fileURLWithPath: dir.filePath(step: 300)))

        var skipped: [ArtifactError] = []
        let found = try XCTUnwrap(try dir.latest { skipped.append($0) })
        XCTAssertEqual(found.step, 100)
        XCTAssertEqual(found.checkpoint["w"]?.values, [1, 2, 3])
        XCTAssertEqual(skipped.map(\.path), [dir.filePath(step: 300)])

        try dir.save(c, step: 400)
        XCTAssertFalse(FileManager.default.fileExists(atPath: deadWriter), "stale temporary file of a dead process kept")
        XCTAssertEqual(try dir.latest()?.step, 400)
    }

    func testKeepLastKDeletesOnlyOlderCheckpoints() throws {
        let dir = try CheckpointDirectory(path: directory + "/keep", keepLast: 2)
        var c = Checkpoint()
        try c.add("w", shape: [1], values: [0])
        for step in [10, 20, 30, 40, 50] { try dir.save(c, step: step) }
        XCTAssertEqual(try dir.steps(), [40, 50])
        try dir.save(c, step: 45)
        XCTAssertEqual(try dir.steps(), [45, 50], "the file just written or a later one was deleted")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        XCTAssertEqual(names, ["ckpt-000000045.safetensors", "ckpt-000000050.safetensors"])
        try dir.save(c, step: 30)
        XCTAssertEqual(try dir.steps(), [30, 45, 50], "a later checkpoint was deleted")
    }

    // MARK: - PNG

    func testPNGHasSignatureHeaderAndValidChunkCRCs() throws {
        let png = PNG.encode(pixels: (0..<(5 * 3 * 3)).map { UInt8($0 * 5) }, width: 5, height: 3, channels: 3)
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let chunks = try Self.pngChunks(png)
        XCTAssertEqual(chunks.map(\.type), ["IHDR", "IDAT", "IEND"])
        XCTAssertEqual(chunks[0].data, [0, 0, 0, 5, 0, 0, 0, 3, 8, 2, 0, 0, 0], "width, height, depth 8, RGB, deflate, filter 0, no interlace")
        XCTAssertTrue(chunks[2].data.isEmpty)
    }

    func testGridPNGDecodesWithZlibToTheImagePixels() throws {
        // Two 2×3 grayscale images in [-1, 1] side by side with 1 pixel of padding.
        let images = Tensor([-1, 0, 1, 1, 0, -1,
                             0.5, 0.5, 0.5, -0.5, -0.5, -0.5], shape: [2, 2, 3, 1])
        let png = makeGrid(images: images, rows: 1, cols: 2, padding: 1, background: 7)
        let chunks = try Self.pngChunks(png)
        XCTAssertEqual(Array(chunks[0].data[0..<8]), [0, 0, 0, 9, 0, 0, 0, 4])
        XCTAssertEqual(chunks[0].data[9], 0, "grayscale")
        let rows = try Self.inflate(chunks[1].data, rows: 4, rowBytes: 9)
        let b: UInt8 = 7
        XCTAssertEqual(rows, [
            [b, b, b, b, b, b, b, b, b],
            [b, 0, 128, 255, b, 191, 191, 191, b],
            [b, 255, 128, 0, b, 64, 64, 64, b],
            [b, b, b, b, b, b, b, b, b],
        ])

        let rgb = makeGrid(images: Tensor([0, 0.5, 1], shape: [1, 1, 1, 3]), rows: 1, cols: 1, padding: 0)
        let rgbChunks = try Self.pngChunks(rgb)
        XCTAssertEqual(rgbChunks[0].data[9], 2, "RGB")
        XCTAssertEqual(try Self.inflate(rgbChunks[1].data, rows: 1, rowBytes: 3), [[0, 128, 255]])
    }

    // MARK: - Curves, metrics log, progress

    func testSVGChartsContainTheSeriesAxesAndLegend() throws {
        var curves = TrainingCurves()
        for step in 1...50 { curves.add(chart: "loss", series: "train", x: Double(step), y: 2 / Double(step)) }
        curves.add(chart: "loss", series: "train", x: 51, y: .nan)
        for (step, v) in [(25, 0.3), (50, 0.2)] {
            curves.add(chart: "loss", series: "validation", x: Double(step), y: v)
            curves.add(chart: "val accuracy", series: "validation", x: Double(step), y: 1 - v)
        }
        let paths = try curves.write(to: directory)
        XCTAssertEqual(paths, [directory + "/loss.svg", directory + "/val_accuracy.svg"])
        let svg = try String(contentsOfFile: paths[0], encoding: .utf8)
        XCTAssertTrue(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        for fragment in ["data-name=\"train\"", "data-name=\"validation\"", ">train</text>", ">validation</text>", ">step</text>", ">loss</text>"] {
            XCTAssertTrue(svg.contains(fragment), "missing \(fragment)")
        }
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 2, "one line per series")
        XCTAssertTrue(svg.contains(">0</text>") && svg.contains(">50</text>"), "x ticks 0…50")
        let parser = XMLParser(data: Data(svg.utf8))
        XCTAssertTrue(parser.parse(), "not well-formed XML: \(String(describing: parser.parserError))")
    }

    func testMetricsLogLinesParseAsJSONWithNonFiniteValuesAsNull() throws {
        let path = directory + "/metrics.jsonl"
        let log = try MetricsLog(path: path)
        try log.write(MetricsRecord(step: 1, epoch: 0, loss: 0.4213, metrics: [("accuracy", 0.8712)], learningRate: 0.001,
                                    samplesPerSecond: 1234.5, stepMilliseconds: 12, allreduceMilliseconds: 1.5,
                                    exposedCommunicationMilliseconds: 0.25, extra: [("rank_count", 2), ("phase", "train"), ("warm", true)]))
        try log.write(MetricsRecord(step: 2, epoch: 0, loss: .nan, learningRate: .infinity))
        try log.write(MetricsRecord(step: 3, epoch: 1, loss: 0.5, stepMilliseconds: 500, extra: [("loss", 9), ("nonfinite", "x")]))

        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 3)
        let objects = try lines.map { try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        XCTAssertTrue(lines[0].hasPrefix("{\"step\":1,\"epoch\":0,\"loss\":0.4213,\"accuracy\":0.8712,\"lr\":0.001,\"samples_per_sec\":1234.5,"))
        XCTAssertEqual(objects[0]["exposed_comm_ms"] as? Double, 0.25)
        XCTAssertEqual(objects[0]["phase"] as? String, "train")
        XCTAssertEqual(objects[0]["rank_count"] as? Int, 2)
        XCTAssertTrue(objects[1]["loss"] is NSNull)
        XCTAssertEqual(objects[1]["nonfinite"] as? [String: String], ["loss": "NaN", "lr": "Infinity"])
        XCTAssertEqual(lines[2], "{\"step\":3,\"epoch\":1,\"loss\":0.5,\"step_ms\":500,\"nonfinite\":\"x\"}", "repeated keys are dropped")
    }

    func testProgressFormatting() {
        XCTAssertEqual(ProgressFormat.bar(step: 0, total: 10), "[" + String(repeating: ".", count: 30) + "]")
        XCTAssertEqual(ProgressFormat.bar(step: 5, total: 10), "[" + String(repeating: "=", count: 14) + ">" + String(repeating: ".", count: 15) + "]")
        XCTAssertEqual(ProgressFormat.bar(step: 10, total: 10), "[" + String(repeating: "=", count: 30) + "]")
        XCTAssertEqual([7, 72, 3723].map { ProgressFormat.duration(Double($0)) }, ["0:07", "1:12", "1:02:03"])
        XCTAssertEqual([0.42134, 0.00001234567, 0, .nan].map(ProgressFormat.value), ["0.4213", "1.2346e-05", "0.0000", "nan"])
        let metrics: ProgressFormat.Metrics = [("loss", 0.4213), ("accuracy", 0.8712)]
        XCTAssertEqual(ProgressFormat.barLine(step: 123, total: 938, etaSeconds: 12, metrics: metrics),
                       "123/938 [==>" + String(repeating: ".", count: 27) + "] - ETA: 0:12 - loss: 0.4213 - accuracy: 0.8712")
        XCTAssertEqual(ProgressFormat.barLine(step: 7, total: 938, etaSeconds: 100, metrics: []).prefix(8), "  7/938 ")
        XCTAssertEqual(ProgressFormat.epochSummary(total: 938, seconds: 12.2, metrics: metrics),
                       "938/938 [==============================] - 12s 13ms/step - loss: 0.4213 - accuracy: 0.8712")
        XCTAssertEqual(ProgressFormat.plainLine(epoch: 1, epochs: 5, step: 200, steps: 938, metrics: metrics, samplesPerSecond: 1234.4),
                       "epoch 1/5 step 200/938 loss 0.4213 accuracy 0.8712 1234 samples/s")
    }

    func testProgressReporterPlainAndInteractiveOutput() {
        var out: [String] = []
        var now = 0.0
        let plain = ProgressReporter(epochs: 2, stepsPerEpoch: 4, interactive: false, plainEvery: 2, output: { out.append($0) }, clock: { now })
        plain.beginEpoch(1)
        for step in 1...4 { now += 1; plain.update(step: step, metrics: [("loss", 1)], samplesPerSecond: 10) }
        plain.endEpoch(metrics: [("loss", 1), ("val_loss", 2)])
        XCTAssertEqual(out, ["epoch 1/2 step 2/4 loss 1.0000 10 samples/s\n", "epoch 1/2 step 4/4 loss 1.0000 10 samples/s\n",
                             "epoch 1/2 done in 0:04 loss 1.0000 val_loss 2.0000\n"])

        out = []
        now = 0
        let bar = ProgressReporter(epochs: 1, stepsPerEpoch: 2, interactive: true, output: { out.append($0) }, clock: { now })
        bar.beginEpoch(1)
        now = 1
        bar.update(step: 1, metrics: [("loss", 0.5)], samplesPerSecond: 1)
        now = 2
        bar.endEpoch(metrics: [("loss", 0.25)])
        XCTAssertEqual(out.first, "Epoch 1/1\n")
        XCTAssertEqual(out[1], "\r1/2 [" + String(repeating: "=", count: 14) + ">" + String(repeating: ".", count: 15) + "] - ETA: 0:01 - loss: 0.5000")
        XCTAssertTrue(out[2].hasPrefix("\r2/2 [==============================] - 2s 1s/step - loss: 0.2500"), out[2])
        XCTAssertEqual(out.last, "\n")
    }

    // MARK: - Helpers

    /// A two-parameter model ("<prefix>/kernel" [3, 2] or `kernelShape`, "<prefix>/bias" [2])
    /// with Adam, values drawn from `seed`.
    static func model(seed: UInt64, prefix: String = "dense", kernelShape: [Int] = [3, 2]) -> (parameters: FlatParameters, optimizer: Adam) {
        var rng = RandomGenerator(seed: seed)
        let kernel = Tensor(zeros: kernelShape), bias = Tensor(zeros: [2])
        rng.fillNormal(kernel)
        rng.fillNormal(bias)
        let params = FlatParameters([Variable(kernel, requiresGrad: true, name: "\(prefix)/kernel"),
                                     Variable(bias, requiresGrad: true, name: "\(prefix)/bias")])
        return (params, Adam(params, learningRate: 0.01))
    }

    /// The `ArtifactError` thrown by `body`, failing the test for no error or another error.
    static func artifactError(file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) -> ArtifactError? {
        do { try body() } catch let e as ArtifactError { return e } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
            return nil
        }
        XCTFail("no error thrown", file: file, line: line)
        return nil
    }

    /// A safetensors file with a hand-written header (not padded) and data section.
    static func safetensors(header: String, data: [UInt8]) -> [UInt8] {
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Array($0) } + Array(header.utf8) + data
    }

    /// The chunks after the signature, each checked against its CRC-32 (computed here with zlib).
    static func pngChunks(_ png: [UInt8]) throws -> [(type: String, data: [UInt8])] {
        func u32(_ i: Int) -> UInt32 { png[i..<(i + 4)].reduce(0) { $0 << 8 | UInt32($1) } }
        var chunks: [(type: String, data: [UInt8])] = []
        var i = 8
        while i < png.count {
            let n = Int(u32(i))
            let typeAndData = Array(png[(i + 4)..<(i + 8 + n)])
            let crc = typeAndData.withUnsafeBufferPointer { UInt32(CZlib.crc32(0, $0.baseAddress, UInt32($0.count))) }
            let type = String(decoding: typeAndData.prefix(4), as: UTF8.self)
            XCTAssertEqual(u32(i + 8 + n), crc, "CRC of chunk \(type)")
            chunks.append((type, Array(typeAndData.dropFirst(4))))
            i += 12 + n
        }
        XCTAssertEqual(i, png.count)
        return chunks
    }

    /// Image rows from IDAT data: zlib `uncompress`, then each row's filter byte must be 0.
    static func inflate(_ idat: [UInt8], rows: Int, rowBytes: Int) throws -> [[UInt8]] {
        var out = [UInt8](repeating: 0, count: rows * (rowBytes + 1))
        var length = UInt(out.count)
        let status = out.withUnsafeMutableBufferPointer { o in
            idat.withUnsafeBufferPointer { CZlib.uncompress(o.baseAddress, &length, $0.baseAddress, UInt($0.count)) }
        }
        XCTAssertEqual(status, Z_OK)
        XCTAssertEqual(Int(length), out.count)
        return (0..<rows).map { r in
            XCTAssertEqual(out[r * (rowBytes + 1)], 0, "filter type of row \(r)")
            return Array(out[(r * (rowBytes + 1) + 1)..<((r + 1) * (rowBytes + 1))])
        }
    }
}
