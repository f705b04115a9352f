import Comm
import XCTest

final class LaunchEnvironmentTests: XCTestCase {
    func testOpenMPIVariables() {
        let e = LaunchEnvironment(["OMPI_COMM_WORLD_RANK": "1", "OMPI_COMM_WORLD_SIZE": "4",
                                   "OMPI_COMM_WORLD_LOCAL_RANK": "1", "OMPI_COMM_WORLD_LOCAL_SIZE": "2"])
        XCTAssertEqual(e, LaunchEnvironment(rank: 1, size: 4, localRank: 1, localSize: 2, launcher: "openmpi"))
        XCTAssertEqual(e.blasThreads(cores: 8, env: [:]), 4)
        XCTAssertEqual(e.blasThreads(cores: 8, env: ["OPENBLAS_NUM_THREADS": "1"]), 1)
    }

    func testSlurmAndPMIxVariables() {
        XCTAssertEqual(LaunchEnvironment(["PMIX_RANK": "2", "SLURM_NTASKS": "3", "SLURM_LOCALID": "0", "SLURM_NTASKS_PER_NODE": "1"]),
                       LaunchEnvironment(rank: 2, size: 3, localRank: 0, localSize: 1, launcher: "pmix"))
        XCTAssertEqual(LaunchEnvironment(["SLURM_PROCID": "1", "SLURM_NTASKS": "2", "SLURM_LOCALID": "1"]),
                       LaunchEnvironment(rank: 1, size: 2, localRank: 1, localSize: 2, launcher: "slurm"))
    }

    func testAloneIsOneRank() {
        let e = LaunchEnvironment([:])
        XCTAssertFalse(e.isDistributed)
        XCTAssertEqual(e.size, 1)
        XCTAssertEqual(LaunchEnvironment(["SLURM_PROCID": "0", "SLURM_NTASKS": "1"]).isDistributed, false)
    }
}
