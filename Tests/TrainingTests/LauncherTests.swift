import Foundation
import TestSupport
import XCTest

/// `launch/ddprun` builds the right mpirun command (checked with --dry-run, which neither
/// builds nor runs).
final class LauncherTests: XCTestCase {
    func ddprun(_ args: [String], env: [String: String] = [:]) throws -> MPIRun.Result {
        var full = ProcessInfo.processInfo.environment
        full["OPENBLAS_NUM_THREADS"] = nil
        for (k, v) in env { full[k] = v }
        let script = JobIntegrationTests.repository.appendingPathComponent("launch/ddprun").path
        return try MPIRun.runProcess("/bin/bash", [script, "--dry-run"] + args, environment: full, timeout: 30)
    }

    func testMPIRunCommandCarriesBindingThreadsAndForwardedVariables() throws {
        let r = try ddprun(["-n", "2", "configs/gan_mnist.json", "--set", "training.epochs=1"], env: ["DDP_DATA_DIR": "/data"])
        XCTAssertEqual(r.exitCode, 0, r.stderr)
        let cmd = r.stderr
        for part in ["mpirun -np 2", "--bind-to core --map-by core", "-x OPENBLAS_NUM_THREADS", "-x SWIFT_BACKTRACE",
                     "-x DDP_PROGRESS", "-x DDP_DATA_DIR", "ddp train configs/gan_mnist.json --set training.epochs=1"] {
            XCTAssertTrue(cmd.contains(part), "missing \(part) in: \(cmd)")
        }
        XCTAssertEqual(cmd.contains("--allow-run-as-root"), getuid() == 0, cmd)
        XCTAssertFalse(cmd.contains("--oversubscribe"), cmd)
    }

    func testOversubscriptionHostsAndDebugMode() throws {
        let over = try ddprun(["-n", "5", "--oversubscribe", "configs/gan_mnist.json"])
        XCTAssertTrue(over.stderr.contains("--oversubscribe") && over.stderr.contains("--bind-to none"), over.stderr)
        let hosts = try ddprun(["--hosts", "a:2,b:2", "configs/gan_mnist.json"])
        XCTAssertTrue(hosts.stderr.contains("mpirun -np 4") && hosts.stderr.contains("--host a:2,b:2"), hosts.stderr)
        let debug = try ddprun(["--debug", "-n", "3", "configs/gan_mnist.json"])
        XCTAssertTrue(debug.stderr.contains("ddp train configs/gan_mnist.json --ranks 3"), debug.stderr)
        XCTAssertFalse(debug.stderr.contains("mpirun"), debug.stderr)
    }

    func testBadArgumentsAreUsageErrors() throws {
        XCTAssertEqual(try ddprun(["-n", "0", "configs/gan_mnist.json"]).exitCode, 2)
        XCTAssertEqual(try ddprun(["configs/does_not_exist.json"]).exitCode, 2)
        XCTAssertEqual(try ddprun(["--bogus", "configs/gan_mnist.json"]).exitCode, 2)
    }
}
