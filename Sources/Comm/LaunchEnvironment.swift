import Foundation

/// Where this process sits in a job, as the launcher describes it in the environment — known
/// before MPI is initialised (for deciding whether to start MPI at all, for logging, and for
/// sizing per-rank thread pools). MPI itself stays the source of truth once it runs.
public struct LaunchEnvironment: Sendable, Equatable {
    public var rank: Int
    public var size: Int
    /// Rank among the processes on this node.
    public var localRank: Int
    /// Processes on this node.
    public var localSize: Int
    /// Which launcher set the variables: "openmpi", "pmix", "slurm", or nil when started alone.
    public var launcher: String?

    public init(rank: Int, size: Int, localRank: Int, localSize: Int, launcher: String?) {
        self.rank = rank
        self.size = size
        self.localRank = localRank
        self.localSize = localSize
        self.launcher = launcher
    }

    public init(_ env: [String: String] = ProcessInfo.processInfo.environment) {
        func int(_ key: String) -> Int? { env[key].flatMap { Int($0) } }
        if let r = int("OMPI_COMM_WORLD_RANK"), let s = int("OMPI_COMM_WORLD_SIZE") {
            rank = r; size = s
            localRank = int("OMPI_COMM_WORLD_LOCAL_RANK") ?? 0
            localSize = int("OMPI_COMM_WORLD_LOCAL_SIZE") ?? s
            launcher = "openmpi"
        } else if let r = int("PMIX_RANK") {
            rank = r
            size = int("SLURM_NTASKS") ?? int("PMIX_SIZE") ?? 1
            localRank = int("SLURM_LOCALID") ?? 0
            localSize = int("SLURM_NTASKS_PER_NODE") ?? size
            launcher = "pmix"
        } else if let r = int("SLURM_PROCID"), let s = int("SLURM_NTASKS"), s > 1 {
            rank = r; size = s
            localRank = int("SLURM_LOCALID") ?? 0
            localSize = int("SLURM_NTASKS_PER_NODE") ?? s
            launcher = "slurm"
        } else {
            rank = 0; size = 1; localRank = 0; localSize = 1
            launcher = nil
        }
    }

    /// True when a launcher started several ranks, so the job must initialise MPI.
    public var isDistributed: Bool { launcher != nil }

    /// Threads each rank on this node should give OpenBLAS: the node's cores shared evenly,
    /// unless `OPENBLAS_NUM_THREADS` says otherwise.
    public func blasThreads(cores: Int = ProcessInfo.processInfo.activeProcessorCount,
                            env: [String: String] = ProcessInfo.processInfo.environment) -> Int {
        if let v = env["OPENBLAS_NUM_THREADS"].flatMap({ Int($0) }), v > 0 { return v }
        return max(1, cores / max(localSize, 1))
    }
}
