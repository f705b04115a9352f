import Comm
import Foundation
import NN
import Training
import XCTest

/// The configuration keys of the run-time safeguards, and the start-up consistency check on
/// in-process ranks (its MPI form is in `RuntimeReliabilityTests`).
final class RuntimeConfigTests: XCTestCase {
    static func config(_ overrides: [String] = []) throws -> JobConfig {
        try JobConfig.parse(ConfigTests.minimal, source: "t.json", overrides: overrides)
    }

    func testSafeguardKeysAreValidatedAndDoNotChangeTheTrajectory() throws {
        let base = try Self.config()
        XCTAssertEqual(base.training.nonFinite, .stop)
        XCTAssertEqual(base.training.maxConsecutiveSkips, 10)
        XCTAssertEqual(base.parallel.stallTimeoutSeconds, 300)
        let changed = try Self.config(["training.non_finite=skip", "training.max_consecutive_skips=3", "parallel.stall_timeout_s=0"])
        XCTAssertEqual(changed.training.nonFinite, .skip)
        XCTAssertNotEqual(changed.digest, base.digest)
        XCTAssertEqual(changed.trajectoryDigestHex, base.trajectoryDigestHex, "a run stopped at a NaN must resume with \"skip\"")
        XCTAssertNotEqual(try Self.config(["parallel.bucket_mb=2"]).trajectoryDigestHex, base.trajectoryDigestHex)

        func message(_ set: String) -> String {
            do { _ = try Self.config([set]); return "" } catch { return "\(error)" }
        }
        XCTAssertEqual(message("training.non_finite=ignore"),
                       "--set training.non_finite=ignore: training.non_finite: unknown non-finite policy \"ignore\" (valid: \"stop\", \"skip\")")
        XCTAssertTrue(message("parallel.stall_timeout_s=-1").contains("parallel.stall_timeout_s: expected a real ≥ 0, found integer -1"),
                      message("parallel.stall_timeout_s=-1"))
        XCTAssertTrue(message("training.max_consecutive_skips=0").contains("expected an integer ≥ 1"))
    }

    /// Rank 1 builds a model with another convolution width under the same configuration (as
    /// another program version would): rank 0 ends the run naming the layer and both shapes.
    func testRanksWithDifferentModelsOrConfigsAreNamed() throws {
        let config = try Self.config()
        let wider = try Self.config(["model.layers[0].filters=8"])
        for (otherConfig, otherModel, expected) in [
            (config, wider, "rank 1's model differs from rank 0's: sequential/conv2d is Conv2D, conv2d/kernel [3, 3, 1, 8], conv2d/bias [8] on rank 1, Conv2D, conv2d/kernel [3, 3, 1, 4], conv2d/bias [4] on rank 0; sequential/dense is Dense"),
            (wider, config, "rank 1's config differs from rank 0's: model.layers[0].filters is 8 on rank 1, 4 on rank 0\nevery rank"),
        ] {
            let group = InProcessGroup(size: 2)
            XCTAssertThrowsError(try group.run { rank, comm in
                let model = try (rank == 1 ? otherModel : config).buildModel()
                try ConsistencyCheck.verify(rank == 1 ? otherConfig : config, networks: [("", model)], comm: comm)
            }) { error in
                XCTAssertTrue("\(error)".hasPrefix(expected), "\(error)")
            }
        }
        // Equal ranks pass, and host-local paths may differ.
        try InProcessGroup(size: 3).run { rank, comm in
            let c = try Self.config(["data.dir=/data/\(rank)", "output.dir=/out/\(rank)"])
            try ConsistencyCheck.verify(c, networks: [("", try c.buildModel())], comm: comm)
        }
    }
}
