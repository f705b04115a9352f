import Comm
import Datasets
import Foundation
import NN
import Scenarios
import Training
import XCTest

/// The binary-classification (fraud MLP) and node-classification (karate GNN) jobs: their
/// configs and errors, and N in-process ranks training like one rank with N times the batch.
final class DataShapedJobTests: XCTestCase {
    static let dataDirectory = JobIntegrationTests.dataDirectory

    static func load(_ name: String, _ overrides: [String] = []) throws -> JobConfig {
        try ConfigTests.load(name, overrides: overrides)
    }

    /// The message of the `ConfigError` that loading `name` with `overrides` (or building its
    /// model from the data) throws.
    func error(_ name: String, _ overrides: [String], build: Bool = false, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            let config = try Self.load(name, overrides)
            if build { _ = try JobFactory.dataShapedModel(config, dataDirectory: Self.dataDirectory) }
            XCTFail("no error", file: file, line: line)
        } catch let e as ConfigError {
            return e.description
        } catch {
            XCTFail("not a ConfigError: \(error)", file: file, line: line)
        }
        return ""
    }

    func testTheConfigsParseAndBuild() throws {
        let fraud = try Self.load("mlp_fraud.json")
        XCTAssertEqual(fraud.task, .binaryClassification)
        XCTAssertEqual(fraud.loss, .binaryCrossentropy(fromLogits: false))
        XCTAssertEqual(fraud.metrics, [.binaryAccuracy(threshold: 0.5)])
        XCTAssertEqual(fraud.data.tabular?.labelColumn, "Class")
        XCTAssertEqual(fraud.data.tabular?.ignoredColumns, [""])
        XCTAssertEqual(fraud.data.tabular?.testFraction, 0.2)
        let mlp = try fraud.buildBinaryClassifier(features: 30, source: "creditcard_sample.csv")
        XCTAssertEqual(mlp.parameterCount, 30 * 64 + 64 + 64 * 32 + 32 + 32 + 1)
        XCTAssertEqual(mlp.layers.map(\.typeName), ["Dense", "Dropout", "Dense", "Dropout", "Dense"])

        let karate = try Self.load("gnn_karate.json")
        XCTAssertEqual(karate.task, .nodeClassification)
        let graph = try XCTUnwrap(karate.data.graph)
        // Paths are relative to the config file's folder.
        XCTAssertEqual(graph.edgesPath, ConfigTests.configDirectory.path + "/data/karate_club.edges")
        XCTAssertEqual(graph.features, .identity)
        XCTAssertEqual(graph.trainPerClass, 4)
        let gnn = try JobFactory.dataShapedModel(karate, dataDirectory: nil)
        XCTAssertEqual(gnn.inputShape, [34, 34])
        XCTAssertEqual(gnn.outputShapes.last, [34, 2])
        XCTAssertEqual(gnn.parameterCount, 34 * 16 + 16 + 16 * 2 + 2)
        XCTAssertTrue(gnn.layers.compactMap { $0 as? GraphConv }.allSatisfy { $0.adjacency?.shape == [34, 34] })
    }

    func testErrorsNameTheFileAndKeyPath() {
        XCTAssertEqual(error("mlp_fraud.json", ["loss.name=mse"]),
                       "--set loss.name=mse: loss.name: binary classification learns 0/1 labels: expected \"binary_crossentropy\", found mean_squared_error")
        // The error is about the layer, not the overridden key, so it names the file.
        XCTAssertTrue(error("mlp_fraud.json", ["model.layers[4].activation=linear"]).hasSuffix(
            "mlp_fraud.json: model.layers[4]: the loss takes probabilities (from_logits false), so the network must end in a sigmoid "
            + "(or set loss.from_logits to true)"))
        XCTAssertNoThrow(try Self.load("mlp_fraud.json", ["model.layers[4].activation=linear", "loss.from_logits=true"]))
        XCTAssertEqual(error("mlp_fraud.json", ["model.layers[0].type=GraphConv"]),
                       "--set model.layers[0].type=GraphConv: model.layers[0].type: GraphConv needs a graph: task \"node_classification\", not \"binary_classification\"")
        XCTAssertEqual(error("mlp_fraud.json", ["data.ignore_columns=[\"Time\",\"Class\"]"]),
                       "--set data.ignore_columns=[\"Time\",\"Class\"]: data.ignore_columns[1]: \"Class\" is the label column (label_column) "
                       + "and cannot be ignored")
        XCTAssertTrue(error("mlp_fraud.json", ["training.sample_every_steps=10"]).hasPrefix(
            "--set training.sample_every_steps=10: training.sample_every_steps: unknown key for task \"binary_classification\""))
        XCTAssertEqual(error("mlp_fraud.json", ["data.test_fraction=1"]),
                       "--set data.test_fraction=1: data.test_fraction: expected a real in (0, 1), found integer 1")
        XCTAssertEqual(error("mlp_fraud.json", ["data.dataset=karate-club"]),
                       "--set data.dataset=karate-club: data.dataset: dataset \"karate-club\" does not fit task \"binary_classification\" "
                       + "(datasets for it: \"creditcard-fraud-sample\")")
        XCTAssertEqual(error("gnn_karate.json", ["loss.name=binary_crossentropy"]),
                       "--set loss.name=binary_crossentropy: loss.name: node classification learns a class index per node: expected "
                       + "\"sparse_categorical_crossentropy\", found binary_crossentropy")
        XCTAssertTrue(error("gnn_karate.json", ["data.dir=/tmp"]).hasPrefix(
            "--set data.dir=/tmp: data.dir: unknown key for dataset \"karate-club\" (allowed: dataset, edges, features, labels, "), "")
        XCTAssertEqual(error("gnn_karate.json", ["data.train_nodes=[0,33]"]),
                       "--set data.train_nodes=[0,33]: data.train_nodes: train_nodes and train_per_class are both given: set one of them to null")
        XCTAssertEqual(error("gnn_karate.json", ["data.train_per_class=null"]),
                       "--set data.train_per_class=null: data.train_per_class: a number of training nodes per class expected (or a list in "
                       + "train_nodes), found null")
        XCTAssertEqual(try Self.load("gnn_karate.json", ["data.train_nodes=[0,33]", "data.train_per_class=null"]).data.graph?.trainNodes, [0, 33])
        XCTAssertEqual(error("gnn_karate.json", ["data.train_nodes=[0,0]"]),
                       "--set data.train_nodes=[0,0]: data.train_nodes: expected an array of integers with at least one entry, all ≥ 0 "
                       + "and distinct, found array [0,0]")
    }

    func testErrorsFoundAgainstTheDataNameTheKeyPath() throws {
        XCTAssertEqual(error("gnn_karate.json", ["data.train_nodes=[0,34]", "data.train_per_class=null"], build: true),
                       "--set data.train_nodes=[0,34]: data.train_nodes[1]: node 34 does not exist: \(ConfigTests.configDirectory.path)/data/karate_club.labels has nodes 0..<34")
        XCTAssertEqual(error("gnn_karate.json", ["model.input_shape=[34,3]"], build: true),
                       "--set model.input_shape=[34,3]: model.input_shape: [34, 3] does not fit the 34 nodes × 34 features of "
                       + "\(ConfigTests.configDirectory.path)/data/karate_club.labels: expected [34, 34] or null")
        XCTAssertTrue(error("gnn_karate.json", ["model.layers[2].units=3"], build: true).hasSuffix(
            "gnn_karate.json: model.layers[2] (GraphConv): output shape [34, 3] does not fit 2 class scores for each of the 34 nodes: expected [34, 2]"))
        XCTAssertThrowsError(try JobFactory.dataShapedModel(Self.load("gnn_karate.json", ["data.train_per_class=17"]), dataDirectory: nil)) { e in
            XCTAssertTrue("\(e)".hasSuffix("data.train_per_class: every node is a training node: none is left to test on"), "\(e)")
        }
        try XCTSkipUnless(FileManager.default.fileExists(atPath: Self.dataDirectory + "/creditcard-fraud-sample"), "no fraud data")
        XCTAssertTrue(error("mlp_fraud.json", ["model.input_shape=[31]"], build: true).hasSuffix(
            "model.input_shape: [31] does not fit the 30 feature columns of \(Self.dataDirectory)/creditcard-fraud-sample/creditcard_sample.csv: "
            + "expected [30] or null"))
    }

    /// Trains `config` with `overrides` on `ranks` in-process ranks through the real factory and
    /// loop; returns each rank's final parameters and rank 0's final evaluation.
    static func train(_ config: String, ranks: Int, batch: Int, steps: Int, _ overrides: [String], out given: String? = nil,
                      resume: String? = nil, dataDirectory: String = dataDirectory) throws -> ([[Float]], EvaluationLog?) {
        let out = given ?? NSTemporaryDirectory() + "ddp-shaped-\(UUID().uuidString)"
        defer { if given == nil { try? FileManager.default.removeItem(atPath: out) } }
        let job = try load(config, overrides + ["training.batch_size=\(batch)", "training.max_steps=\(steps)", "checkpoint.every_steps=3"])
        let parameters = Collected<[Float]>(count: ranks), evaluation = Collected<EvaluationLog?>(count: 1)
        try InProcessGroup(size: ranks).run { rank, comm in
            let workload = try JobFactory.makeWorkload(job, comm: comm, dataDirectory: dataDirectory)
            var settings = JobFactory.runSettings(job, outputDirectory: out)
            settings.interactive = false
            let summary = try TrainingLoop(workload: workload, settings: settings).run(resume: resume)
            parameters.set(rank, Array(workload.networks[0].parameters.valueBuffer))
            if rank == 0 { evaluation.set(0, summary.evaluation) }
        }
        return ((0..<ranks).map { parameters.get($0) }, evaluation.get(0))
    }

    func testTwoRanksSplittingTheTrainingNodesTrainLikeOneRank() throws {
        // Dropout draws per-rank masks, so it is off for the comparison; 8 training nodes.
        let noDropout = ["model.layers[1].rate=0"]
        let (single, e1) = try Self.train("gnn_karate.json", ranks: 1, batch: 8, steps: 6, noDropout)
        let (two, e2) = try Self.train("gnn_karate.json", ranks: 2, batch: 4, steps: 6, noDropout)
        XCTAssertEqual(two[1], two[0], "the replicas differ")
        let diff = maxRelativeDifference(two[0], single[0])
        XCTAssertLessThanOrEqual(diff, 1e-5, "2 ranks × 4 nodes vs 1 rank × 8 nodes: max relative difference \(diff)")
        XCTAssertGreaterThan(maxRelativeDifference(single[0], try Self.train("gnn_karate.json", ranks: 1, batch: 8, steps: 5, noDropout).0[0]), 1e-3,
                             "one more step should move the parameters")
        XCTAssertEqual(e1?.samples, 26)
        XCTAssertEqual(e2?.samples, 26)
        XCTAssertEqual(try XCTUnwrap(e2?.loss), try XCTUnwrap(e1?.loss), accuracy: 1e-5)
    }

    func testAResumedRunEndsWhereAnUninterruptedOneDoes() throws {
        // With dropout on: its masks come from (seed, rank, step), so resuming redraws the same ones.
        let out = NSTemporaryDirectory() + "ddp-shaped-resume-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let straight = try Self.train("gnn_karate.json", ranks: 2, batch: 4, steps: 6, []).0
        _ = try Self.train("gnn_karate.json", ranks: 2, batch: 4, steps: 3, [], out: out)
        let resumed = try Self.train("gnn_karate.json", ranks: 2, batch: 4, steps: 6, [], out: out,
                                     resume: out + "/checkpoints/ckpt-000000003.safetensors").0
        XCTAssertEqual(resumed[0], straight[0])
        XCTAssertNotEqual(straight[0], try Self.train("gnn_karate.json", ranks: 2, batch: 4, steps: 3, []).0[0])
    }

    func testTwoRanksTrainTheFraudMLPLikeOneRankAndGatherEveryTestScore() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: Self.dataDirectory + "/creditcard-fraud-sample"), "no fraud data")
        // 21% of each class held out: 103 of 492 frauds and 258 of 1,230 normal rows, 361 in all,
        // so the two ranks score 181 and 180 rows and the gathered scores carry padding.
        let noDropout = ["model.layers[1].rate=0", "model.layers[3].rate=0", "data.test_fraction=0.21"]
        let (single, e1) = try Self.train("mlp_fraud.json", ranks: 1, batch: 32, steps: 8, noDropout)
        let (two, e2) = try Self.train("mlp_fraud.json", ranks: 2, batch: 16, steps: 8, noDropout)
        XCTAssertEqual(two[1], two[0], "the replicas differ")
        let diff = maxRelativeDifference(two[0], single[0])
        XCTAssertLessThanOrEqual(diff, 1e-5, "2 ranks × 16 rows vs 1 rank × 32 rows: max relative difference \(diff)")
        let one = try XCTUnwrap(e1), both = try XCTUnwrap(e2)
        XCTAssertEqual(one.samples, 361)
        XCTAssertEqual(both.samples, 361)
        XCTAssertEqual(one.metrics.map(\.name), ["accuracy", "precision", "recall", "auc"])
        for (a, b) in zip(one.metrics, both.metrics) { XCTAssertEqual(a.value, b.value, accuracy: 1e-9, a.name) }
        let auc = one.metrics[3].value
        XCTAssertGreaterThan(auc, 0.8, "8 steps should already separate the classes")
    }
}
