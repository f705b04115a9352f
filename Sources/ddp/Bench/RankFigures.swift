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
    /// Medians per step: index 0 the sum over the networks, then each network.
    var allreduceMs: [Double], exposedMs: [Double]
    var gradientBytes: Double, buckets: Double, parameters: Double, flopsPerStep: Double

    var encoded: [Double] {
        [stepMs, cpuMs, peakRSSMiB, poolGrowth, pid, windowSeconds, windowCPUSeconds, machineBusySeconds,
         gradientBytes, buckets, parameters, flopsPerStep, baseRSSMiB, poolMiB, Double(allreduceMs.count)] + allreduceMs + exposedMs
    }

}

extension RankFigures {
    init(decoding v: [Double]) {
        let k = Int(v[14])
        self.init(stepMs: v[0], cpuMs: v[1], peakRSSMiB: v[2], poolGrowth: v[3], pid: v[4], baseRSSMiB: v[12], poolMiB: v[13],
                  windowSeconds: v[5], windowCPUSeconds: v[6], machineBusySeconds: v[7], allreduceMs: Array(v[15..<(15 + k)]),
                  exposedMs: Array(v[(15 + k)..<(15 + 2 * k)]), gradientBytes: v[8], buckets: v[9], parameters: v[10],
                  flopsPerStep: v[11])
    }
}

/// One model's measurement on every rank.
struct ModelRun {
    let model: BenchModel
    let loss: String
    /// The networks' names ("" for a single one), in the order of `RankFigures.allreduceMs[1...]`.
    let networks: [String]
    let ranks: [RankFigures]
}
