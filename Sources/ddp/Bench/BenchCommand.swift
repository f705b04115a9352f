import Comm
import Foundation
import TensorCore
import Training

/// `ddp bench`: full training steps of the job models at the peer-benchmark shapes, against
/// single-thread sgemm measured in the same run.
///
/// Each model (`BenchJob`) trains on one fixed synthetic batch; after `warmup` untimed steps,
/// `steps` steps are timed one by one. Every rank runs the same steps (under mpirun, or as
/// in-process ranks with `--ranks`); rank 0 combines what the ranks measured and prints one JSON
/// line per model:
///
/// - `median_step_ms`: the slowest rank's median step; `samples_per_s` = ranks × batch / that
///   (the GAN counts its B real samples per rank); `gflop_per_step` = the analytic count of
///   models.md × ranks, and `gflops` that per second;
/// - `fraction_of_sgemm_peak` = gflops / (single-thread sgemm GFLOP/s × ranks × threads): the
///   peers' "% sgemm peak". sgemm (n = 1024) is measured by rank 0 alone before the first
///   model and after each, keeping the best, so a neighbour's burst during one measurement
///   cannot flatter the ratio;
/// - `allreduce`: how gradients were averaged ("shared memory", "mpi", "in-process", "none"),
///   `sharded_update`: whether the optimizer update was split across the ranks, and
///   `averaged_in_update`: whether that update averaged the gradients in its own pass (then
///   backward averages nothing, and the reading of the other ranks' gradients is optimizer
///   time, not `allreduce_ms`: docs/performance.md);
/// - `allreduce_ms`: the slowest rank's median per step of the gradient allreduce time (both
///   networks for the GAN, also given per network);
/// - `exposed_comm_ms`: communication on the critical path, the part backward did not hide: in
///   each step, per network, the shortest wait after backward over the ranks (the rank that
///   finished backward last waits only for communication; the others wait for that rank too),
///   then the median over steps; `exposed_share` = exposed / step. `max_rank_wait_ms` is the
///   largest rank's median wait, which adds the time spent waiting for a slower rank;
/// - `median_step_cpu_ms`: process CPU time per step (summed over processes) and `cpu_cores_used`
///   = that / step time. The machine is shared: `other_cores` is the CPU the rest of the machine
///   used during the timed steps (from /proc/stat, in cores), and `load_average_1m` is reported,
///   so a figure taken on a busy machine can be recognised;
/// - `peak_rss_mib`: the largest VmHWM over ranks, reset before each model (and the buffer pool
///   emptied), so each model reports its own peak; `pool_allocations_after_warmup`: fresh
///   buffer-pool allocations during the timed steps (0 in an allocation-free steady state);
/// - `memory_need_mib`: the analytic need of a process (16 bytes a parameter for values,
///   gradients and Adam's moments, plus each rank's buffer-pool footprint of activations and
///   workspaces), and `rss_growth_over_need`: how much the peak RSS grew from before the model was
///   built, over that need. Freed memory stays in the process, so measure it one model per run
///   (`--model X`).
struct Bench {
    static let usage = """
    usage: ddp bench [--model cnn|transformer|transformer-k64|gan|all] [--threads N] [--batch B] [--steps S]
                     [--warmup W] [--ranks N] [--timeline FILE] [--bucket-mb X] [--no-shared-memory]
                     [--no-sharded-update] [--breakdown]

    Times full training steps (forward, loss, backward with the gradient allreduce across ranks,
    Adam update) of the job models at the peer-benchmark shapes of bench/peers/models.md, on a
    fixed synthetic batch, against single-thread sgemm measured in the same run. Prints one JSON
    line per model. Under mpirun every rank runs this command and rank 0 prints the aggregate.
      --model M        cnn (batch 64), transformer (key_dim 16, batch 32), transformer-k64
                       (key_dim 64, batch 32), gan (batch 64) or all (default)
      --threads N      OpenBLAS threads per rank (default 1)
      --batch B        batch per rank (default: the model's above)
      --steps S        timed steps (default 30)     --warmup W   untimed steps first (default 5)
      --ranks N        in-process ranks when not started by mpirun (default 1)
      --timeline FILE  Chrome trace (Perfetto) of every step's phases on every rank
      --bucket-mb X    gradient bucket size in MiB, first bucket included (default 1, then 25)
      --no-shared-memory  average gradients with MPI's allreduce even when the ranks share a node
      --no-sharded-update  with shared memory, every rank averages all gradients and runs the
                       whole update (default: each averages and updates only its share of the
                       parameters, in one node-wide copy of the optimizer state;
                       --sharded-update is accepted and changes nothing)
      --breakdown      with the CNN: also time each layer's forward and backward alone (rank 0)
    """

    let models: [BenchModel]
    let threads: Int, batch: Int?, steps: Int, warmup: Int, ranks: Int?
    let timelinePath: String?
    let breakdown: Bool
    /// The trainers' bucket sizes (`--bucket-mb`); the defaults otherwise.
    let parallel: ParallelOptions

    init(arguments: [String]) throws {
        let o = try Options(arguments, known: ["model", "threads", "batch", "steps", "warmup", "ranks", "timeline", "bucket-mb"],
                            flags: ["breakdown", "no-shared-memory", "sharded-update", "no-sharded-update"])
        _ = try o.positionals([])
        switch o.value("model") ?? "all" {
        case "all": models = BenchModel.allCases
        case let name:
            guard let m = BenchModel(rawValue: name) else {
                throw UsageError(description: "--model must be one of \(BenchModel.allCases.map(\.rawValue).joined(separator: ", ")), all; got '\(name)'")
            }
            models = [m]
        }
        threads = try o.positiveInt("threads", default: 1)
        batch = try o.value("batch").map { _ in try o.positiveInt("batch", default: 1) }
        steps = try o.positiveInt("steps", default: 30)
        warmup = try o.positiveInt("warmup", default: 5)
        ranks = try o.value("ranks").map { _ in try o.positiveInt("ranks", default: 1) }
        timelinePath = o.value("timeline")
        breakdown = o.flag("breakdown")
        var parallel = ParallelOptions()
        if let mb = try o.positiveReal("bucket-mb") {
            parallel.bucketBytes = max(4, Int(mb * 1_048_576))
            parallel.firstBucketBytes = parallel.bucketBytes
        }
        parallel.sharedMemory = !o.flag("no-shared-memory")
        parallel.shardedUpdate = !o.flag("no-sharded-update")
        self.parallel = parallel
    }

    func run() throws {
        try runOnRanks(ranks: ranks) { comm in try self.run(comm) }
    }

    private func run(_ comm: Communicator) throws {
        BLAS.threads = threads
        let timeline = timelinePath.map { _ in Timeline.synchronized(comm) }
        var sgemm = measureSGEMM(comm)
        for model in models {
            let result = try measure(model, comm: comm, timeline: timeline)
            sgemm = max(sgemm, measureSGEMM(comm))
            if comm.rank == 0 { say(report(result, backend: comm.backend, sgemm: sgemm)) }
            if breakdown && model == .cnn {
                if comm.rank == 0 { try LayerBreakdown(steps: steps, warmup: warmup, batch: batch ?? model.defaultBatch).run() }
                comm.barrier()
            }
        }
        if let timeline, let path = timelinePath { try writeTimeline(timeline, comm: comm, to: path) }
    }

    /// Single-thread sgemm GFLOP/s measured by rank 0 while the others wait (0 elsewhere).
    private func measureSGEMM(_ comm: Communicator) -> Double {
        var gflops = 0.0
        if comm.rank == 0 {
            BLAS.threads = 1
            gflops = sgemmGFLOPs(n: 1024, repeats: 5)
            BLAS.threads = threads
        }
        comm.barrier()
        return gflops
    }

    /// Times `model` on every rank; returns what each rank measured.
    private func measure(_ model: BenchModel, comm: Communicator, timeline: Timeline?) throws -> ModelRun {
        // Each model starts from an empty buffer pool and a fresh peak RSS.
        comm.barrier()
        BufferPool.current.trim()
        SystemStats.resetPeakRSS()
        let baseRSS = SystemStats.rssMiB()
        comm.barrier()
        let b = batch ?? model.defaultBatch
        let job = try BenchJob.make(model, batch: b, comm: comm, options: parallel)
        job.attach(timeline)
        defer { job.attach(nil) }
        timeline?.begin(.benchmark, network: timeline?.network(model.rawValue) ?? 0)
        defer { timeline?.end() }

        var samples = Samples()
        var allreduce = [[Double]](repeating: [], count: job.networks.count + 1)
        var waits = allreduce
        var poolBase = 0, windowStart = Stamp(), busyStart = 0.0
        for i in 0..<(warmup + steps) {
            if i == warmup {
                comm.barrier()
                poolBase = BufferPool.current.allocationCount
                busyStart = SystemStats.machineBusySeconds()
                windowStart = Stamp()
            }
            let t0 = Stamp()
            job.step()
            let t1 = Stamp()
            guard i >= warmup else { continue }
            samples.add(t0, t1)
            var total = (0.0, 0.0)
            for (k, n) in job.networks.enumerated() {
                let s = n.parallel.lastStats
                allreduce[k + 1].append(s.allreduceSeconds * 1e3)
                waits[k + 1].append(s.exposedSeconds * 1e3)
                total.0 += s.allreduceSeconds * 1e3
                total.1 += s.exposedSeconds * 1e3
            }
            allreduce[0].append(total.0)
            waits[0].append(total.1)
        }
        let windowEnd = Stamp()
        let busy = SystemStats.machineBusySeconds() - busyStart
        let growth = BufferPool.current.allocationCount - poolBase
        let figures = RankFigures(stepMs: samples.wall, cpuMs: samples.cpu, peakRSSMiB: SystemStats.peakRSSMiB(),
                                  poolGrowth: Double(growth), pid: Double(getpid()), baseRSSMiB: baseRSS,
                                  poolMiB: Double(BufferPool.current.bytesInUse + BufferPool.current.bytesCached) / 1_048_576,
                                  windowSeconds: (windowEnd.wall - windowStart.wall) * 1e-3,
                                  windowCPUSeconds: (windowEnd.cpu - windowStart.cpu) * 1e-3, machineBusySeconds: busy,
                                  allreduceMs: allreduce.map(median), waitMs: waits,
                                  gradientBytes: Double(job.networks.reduce(0) { $0 + $1.parallel.parameters.count * 4 }),
                                  buckets: Double(job.networks.reduce(0) { $0 + $1.parallel.buckets.count }),
                                  parameters: Double(job.parameters), flopsPerStep: job.flopsPerStep)
        return ModelRun(model: model, loss: job.loss, networks: job.networks.map(\.name),
                        allreduce: job.networks[0].parallel.allreduceMethod, shardedUpdate: job.networks[0].parallel.shardsUpdate,
                        averagedInUpdate: job.networks[0].parallel.averagesInUpdate,
                        ranks: comm.allgather(figures.encoded).map(RankFigures.init(decoding:)))
    }

    /// Per step, the sum over `networks` of the shortest wait over ranks; the median over steps.
    private func criticalWait(_ ranks: [RankFigures], networks: [Int]) -> Double {
        median((0..<ranks[0].waitMs[0].count).map { s in
            networks.reduce(0) { sum, k in sum + ranks.map { $0.waitMs[k][s] }.min()! }
        })
    }

    /// The analytic memory of one process in MiB: per rank in it, parameters, gradients and
    /// Adam's two moments (16 bytes a parameter) plus the footprint of its buffer pool
    /// (activations and workspaces). `rss_growth_over_need` compares it with how much the peak
    /// RSS grew from before the model was built.
    private func need(_ process: RankFigures, of ranks: [RankFigures]) -> Double {
        ranks.filter { $0.pid == process.pid }.reduce(0) { $0 + $1.parameters * 16 / 1_048_576 + $1.poolMiB }
    }

    /// The JSON line of one model from every rank's figures.
    private func report(_ run: ModelRun, backend: String, sgemm: Double) -> String {
        let model = run.model, ranks = run.ranks, first = ranks[0]
        // In-process ranks share one process: its CPU time and RSS count once.
        var seen = Set<Double>()
        let processes = ranks.filter { seen.insert($0.pid).inserted }
        let n = Double(ranks.count), b = Double(batch ?? model.defaultBatch)
        let step = ranks.map(\.stepMs).max()!
        let cpu = processes.reduce(0) { $0 + $1.cpuMs }
        let flops = first.flopsPerStep * n
        let gflops = flops / (step * 1e-3) / 1e9
        let ownCPU = processes.reduce(0) { $0 + $1.windowCPUSeconds }
        let allreduce = ranks.map { $0.allreduceMs[0] }.max()!, exposed = criticalWait(ranks, networks: Array(1..<ranks[0].waitMs.count))
        var fields: [(String, String)] = [
            ("model", "\"\(model.rawValue)\""), ("backend", "\"\(backend)\""), ("allreduce", "\"\(run.allreduce)\""),
            ("sharded_update", "\(run.shardedUpdate)"), ("averaged_in_update", "\(run.averagedInUpdate)"), ("ranks", "\(ranks.count)"),
            ("threads_per_rank", "\(threads)"), ("batch_per_rank", "\(Int(b))"), ("params", "\(Int(first.parameters))"),
            ("steps", "\(steps)"), ("warmup", "\(warmup)"), ("loss", "\"\(run.loss)\""),
            ("gflop_per_step", fixed(flops / 1e9, 4)),
            ("median_step_ms", fixed(step, 2)),
            ("median_step_cpu_ms", fixed(cpu, 2)),
            ("cpu_cores_used", fixed(cpu / step, 2)),
            ("samples_per_s", fixed(n * b / (step * 1e-3), 0)),
            ("gflops", fixed(gflops, 1)),
            ("sgemm_1t_gflops", fixed(sgemm, 1)),
            ("fraction_of_sgemm_peak", fixed(gflops / (sgemm * n * Double(threads)), 3)),
            ("allreduce_ms", fixed(allreduce, 3)),
            ("exposed_comm_ms", fixed(exposed, 3)),
            ("exposed_share", fixed(exposed / step, 4)),
            ("max_rank_wait_ms", fixed(ranks.map { median($0.waitMs[0]) }.max()!, 3)),
        ]
        if run.networks.count > 1 {
            for (k, name) in run.networks.enumerated() {
                fields.append(("\(name)_allreduce_ms", fixed(ranks.map { $0.allreduceMs[k + 1] }.max()!, 3)))
                fields.append(("\(name)_exposed_comm_ms", fixed(criticalWait(ranks, networks: [k + 1]), 3)))
            }
        }
        fields += [
            ("gradient_mb", fixed(first.gradientBytes / 1e6, 2)), ("buckets", "\(Int(first.buckets))"),
            ("peak_rss_mib", fixed(processes.map(\.peakRSSMiB).max()!, 1)),
            ("memory_need_mib", fixed(processes.map { need($0, of: ranks) }.max()!, 1)),
            ("rss_growth_over_need", fixed(processes.map { ($0.peakRSSMiB - $0.baseRSSMiB) / need($0, of: ranks) }.max()!, 2)),
            ("pool_allocations_after_warmup", "\(Int(ranks.reduce(0) { $0 + $1.poolGrowth }))"),
            ("other_cores", fixed((first.machineBusySeconds - ownCPU) / first.windowSeconds, 2)),
            ("load_average_1m", fixed(SystemStats.loadAverage(), 2)),
        ]
        return json(fields)
    }
}
