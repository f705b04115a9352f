/// What one rank measured for one model, sent to rank 0 as a vector of doubles (the
/// communicator's allgather) and decoded there.
struct RankFigures {
    var stepMs: Double, cpuMs: Double, peakRSSMiB: Double, poolGrowth: Double, pid: Double
    /// Wall and process CPU seconds of the whole timed window, and the machine's busy CPU
    /// seconds (all cores) over it.
    var windowSeconds: Double, windowCPUSeconds: Double, machineBusySeconds: Double
    /// Medians per step: index 0 the sum over the networks, then each network.
    var allreduceMs: [Double], exposedMs: [Double]
    var gradientBytes: Double, buckets: Double, parameters: Double, flopsPerStep: Double

    var encoded: [Double] {
        [stepMs, cpuMs, peakRSSMiB, poolGrowth, pid, windowSeconds, windowCPUSeconds, machineBusySeconds,
         gradientBytes, buckets, parameters, flopsPerStep, Double(allreduceMs.count)] + allreduceMs + exposedMs
    }

}

extension RankFigures {
    init(decoding v: [Double]) {
        let k = Int(v[12])
        self.init(stepMs: v[0], cpuMs: v[1], peakRSSMiB: v[2], poolGrowth: v[3], pid: v[4], windowSeconds: v[5],
                  windowCPUSeconds: v[6], machineBusySeconds: v[7], allreduceMs: Array(v[13..<(13 + k)]),
                  exposedMs: Array(v[(13 + k)..<(13 + 2 * k)]), gradientBytes: v[8], buckets: v[9], parameters: v[10],
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
