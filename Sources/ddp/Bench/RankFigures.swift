/// What one rank measured for one model, sent to rank 0 as a vector of doubles (the
/// communicator's allgather) and decoded there.
struct RankFigures {
    var stepMs: Double, cpuMs: Double, peakRSSMiB: Double, poolGrowth: Double, pid: Double
    /// RSS before the model was built, and the buffer pool's footprint (activations and
    /// workspaces: every buffer the steps used, live or cached) after the steps, in MiB.
    var baseRSSMiB: Double, poolMiB: Double
    /// Wall and process CPU seconds of the whole timed window, and the machine's busy CPU
    /// seconds (all cores) over it.
    var windowSeconds: Double, windowCPUSeconds: Double, machineBusySeconds: Double
    /// Index 0 the sum over the networks, then each network: the median allreduce time per
    /// step, and the wait for communication after backward of every timed step.
    var allreduceMs: [Double], waitMs: [[Double]]
    var gradientBytes: Double, buckets: Double, parameters: Double, flopsPerStep: Double

    var encoded: [Double] {
        [stepMs, cpuMs, peakRSSMiB, poolGrowth, pid, windowSeconds, windowCPUSeconds, machineBusySeconds,
         gradientBytes, buckets, parameters, flopsPerStep, baseRSSMiB, poolMiB, Double(allreduceMs.count), Double(waitMs[0].count)] + allreduceMs + waitMs.flatMap { $0 }
    }

}

extension RankFigures {
    init(decoding v: [Double]) {
        let k = Int(v[14]), n = Int(v[15])
        self.init(stepMs: v[0], cpuMs: v[1], peakRSSMiB: v[2], poolGrowth: v[3], pid: v[4], baseRSSMiB: v[12], poolMiB: v[13],
                  windowSeconds: v[5], windowCPUSeconds: v[6], machineBusySeconds: v[7], allreduceMs: Array(v[16..<(16 + k)]),
                  waitMs: (0..<k).map { Array(v[(16 + k + $0 * n)..<(16 + k + ($0 + 1) * n)]) }, gradientBytes: v[8], buckets: v[9], parameters: v[10],
                  flopsPerStep: v[11])
    }
}

/// One model's measurement on every rank.
struct ModelRun {
    let model: BenchModel
    let loss: String
    /// The networks' names ("" for a single one), in the order of `RankFigures.allreduceMs[1...]`.
    let networks: [String]
    /// How gradients were averaged (`DataParallel.allreduceMethod`).
    let allreduce: String
    /// Whether the optimizer update was split across ranks (`DataParallel.shardsUpdate`).
    let shardedUpdate: Bool
    /// Whether that update averaged the gradients in its pass (`DataParallel.averagesInUpdate`).
    let averagedInUpdate: Bool
    let ranks: [RankFigures]
}
