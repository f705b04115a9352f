#if canImport(Glibc)
import Glibc
#endif
import Autograd
import NN
import TensorCore

/// `ddp bench`: how close one training step of the seed CNN comes to the machine's GEMM speed.
///
/// It measures single-thread `cblas_sgemm` (square n = 1024, best of 5 before and 5 after the
/// steps) and the median time of a forward + backward step at the requested OpenBLAS thread
/// count, in the same run, and prints one JSON line. Achieved GFLOP/s use the analytic count of `bench/peers/models.md`
/// (6 × 4,040,704 MACs-as-FLOPs × batch), so the figure compares with the Keras and PyTorch
/// baselines. The loss is a fixed random linear functional of the softmax output, standing in
/// for cross-entropy (same backward cost to within a [batch, 10] pass); no optimizer update.
///
/// The machine is shared, so besides wall time the process CPU time is reported: on a busy
/// machine wall time grows with preemption while CPU time stays close to the idle figure.
/// `--breakdown` adds one JSON line per layer with its forward and backward medians. The line
/// also gives the median time of the check for non-finite gradients that follows every step's
/// allreduce (one vectorised pass over the gradient arena).
struct Bench {
    static let usage = """
    usage: ddp bench [--threads N] [--batch B] [--steps S] [--warmup W] [--breakdown]

    Times one training step (forward + backward) of the seed CNN against single-thread sgemm
    measured in the same run, and prints one JSON line.
      --threads N    OpenBLAS threads (default 1)     --batch B    batch size (default 64)
      --steps S      timed steps (default 30)         --warmup W   untimed steps first (default 3)
      --breakdown    also time each layer's forward and backward alone
    """
    static let forwardMACsPerSample = 4_040_704
    let threads: Int, batch: Int, steps: Int, warmup: Int, breakdown: Bool

    init(arguments: [String]) throws {
        let o = try Options(arguments, known: ["threads", "batch", "steps", "warmup"], flags: ["breakdown"])
        _ = try o.positionals([])
        threads = try o.positiveInt("threads", default: 1)
        batch = try o.positiveInt("batch", default: 64)
        steps = try o.positiveInt("steps", default: 30)
        warmup = try o.positiveInt("warmup", default: 3)
        breakdown = o.flag("breakdown")
    }

    func run() throws {
        BLAS.threads = 1
        var sgemm = Bench.sgemmGFLOPs(n: 1024, repeats: 5)
        BLAS.threads = threads

        let model = Sequential.seedCNN(name: "cnn")
        try model.build(inputShape: [32, 32, 3], seed: 42)
        let flat = model.flattenParameters()
        var rng = RandomGenerator(seed: 42, stream: [1])
        let images = Tensor(uninitialized: [batch, 32, 32, 3])
        rng.fillUniform(images, low: 0, high: 1)
        let weights = Tensor(uninitialized: [batch, 10])
        rng.fillUniform(weights, low: -1, high: 1)
        let x = Variable(images), w = Variable(weights)

        var forward = Samples(), backward = Samples(), step = Samples(), finiteCheck = Samples()
        var allocationsAfterWarmup = 0
        for i in 0..<(warmup + steps) {
            if i == warmup { allocationsAfterWarmup = BufferPool.shared.allocationCount }
            flat.zeroGrad()
            let t0 = Stamp()
            let loss = (model(x) * w).sum()
            let t1 = Stamp()
            loss.backward()
            let t2 = Stamp()
            // The check every training step runs on the averaged gradients (TrainingLoop).
            if flat.nonFiniteGradient() != nil { throw UsageError(description: "bench: the gradients are not finite") }
            let t3 = Stamp()
            if i >= warmup {
                forward.add(t0, t1)
                backward.add(t1, t2)
                step.add(t0, t2)
                finiteCheck.add(t2, t3)
            }
        }
        let growth = BufferPool.shared.allocationCount - allocationsAfterWarmup
        // Measured again after the steps, keeping the best: a neighbour's burst during one
        // measurement would otherwise understate the peak and flatter the ratio.
        BLAS.threads = 1
        sgemm = max(sgemm, Bench.sgemmGFLOPs(n: 1024, repeats: 5))
        BLAS.threads = threads

        let flops = 6 * Double(Bench.forwardMACsPerSample) * Double(batch)
        let achieved = flops / (step.wall * 1e-3) / 1e9
        let achievedCPU = flops / (step.cpu * 1e-3) / 1e9
        print(json([
            ("model", "\"cnn\""), ("batch", "\(batch)"), ("threads", "\(threads)"), ("steps", "\(steps)"),
            ("median_step_ms", fixed(step.wall, 2)),
            ("median_forward_ms", fixed(forward.wall, 2)),
            ("median_backward_ms", fixed(backward.wall, 2)),
            ("median_step_cpu_ms", fixed(step.cpu, 2)),
            ("gradient_values", "\(flat.count)"),
            ("median_finite_check_ms", fixed(finiteCheck.wall, 4)),
            ("samples_per_s", fixed(Double(batch) / (step.wall * 1e-3), 0)),
            ("gflop_per_step", fixed(flops / 1e9, 4)),
            ("gflops", fixed(achieved, 1)),
            ("sgemm_1t_gflops", fixed(sgemm, 1)),
            ("ratio", fixed(achieved / sgemm, 3)),
            ("ratio_cpu_time", fixed(achievedCPU / sgemm, 3)),
            ("pool_allocations_after_warmup", "\(growth)"),
            ("loss", "\"sum(softmax * fixed weights)\""),
        ]))
        if breakdown { try layerBreakdown(model, images) }
    }

    /// Times each layer alone on its real input (the previous layers' output): forward, then
    /// backward from a random output gradient. The first layer's input needs no gradient, as
    /// in a real step.
    func layerBreakdown(_ model: Sequential, _ images: Tensor) throws {
        var input = images
        var rng = RandomGenerator(seed: 9)
        for (index, layer) in model.layers.enumerated() {
            var forward = Samples(), backward = Samples()
            var output = input
            for i in 0..<(warmup + steps) {
                for p in layer.parameters { p.grad?.zero() }
                let x = Variable(input, requiresGrad: index > 0)
                let t0 = Stamp()
                let y = layer(x)
                let t1 = Stamp()
                let seed = Tensor(uninitialized: y.shape)
                rng.fillUniform(seed, low: -1, high: 1)
                let t2 = Stamp()
                y.backward(seed: seed)
                let t3 = Stamp()
                if i >= warmup {
                    forward.add(t0, t1)
                    backward.add(t2, t3)
                }
                output = y.value
            }
            print(json([
                ("layer", "\"\(layer.name)\""), ("output", "\"\(shapeString(output.shape))\""),
                ("forward_ms", fixed(forward.wall, 2)), ("backward_ms", fixed(backward.wall, 2)),
                ("forward_cpu_ms", fixed(forward.cpu, 2)), ("backward_cpu_ms", fixed(backward.cpu, 2)),
            ]))
            input = output
        }
    }

    /// Best-of-`repeats` GFLOP/s of an n × n × n `cblas_sgemm` at the current thread count.
    static func sgemmGFLOPs(n: Int, repeats: Int) -> Double {
        var rng = RandomGenerator(seed: 7)
        let a = Tensor(uninitialized: [n, n]), b = Tensor(uninitialized: [n, n]), c = Tensor(uninitialized: [n, n])
        rng.fillUniform(a, low: -1, high: 1)
        rng.fillUniform(b, low: -1, high: 1)
        var best = Double.infinity
        for _ in 0...repeats {
            let t0 = Stamp()
            BLAS.matmul(a, b, into: c)
            best = min(best, Stamp().wall - t0.wall)
        }
        return 2 * Double(n * n * n) / (best * 1e-3) / 1e9
    }
}

/// Wall-clock and process CPU time, in milliseconds, at one instant.
struct Stamp {
    let wall: Double, cpu: Double
    init() {
        wall = Stamp.read(CLOCK_MONOTONIC)
        cpu = Stamp.read(CLOCK_PROCESS_CPUTIME_ID)
    }
    private static func read(_ clock: clockid_t) -> Double {
        var ts = timespec()
        clock_gettime(clock, &ts)
        return Double(ts.tv_sec) * 1e3 + Double(ts.tv_nsec) * 1e-6
    }
}

/// Durations between stamps; `wall` and `cpu` are medians.
struct Samples {
    private var walls: [Double] = [], cpus: [Double] = []
    mutating func add(_ from: Stamp, _ to: Stamp) {
        walls.append(to.wall - from.wall)
        cpus.append(to.cpu - from.cpu)
    }
    var wall: Double { median(walls) }
    var cpu: Double { median(cpus) }
}

func median(_ v: [Double]) -> Double {
    let s = v.sorted()
    if s.isEmpty { return .nan }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// `x` with `digits` decimals, for JSON output without Foundation.
func fixed(_ x: Double, _ digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let r = (x * scale).rounded() / scale
    return digits == 0 ? String(Int(r)) : String(r)
}

/// One JSON object on one line from already-encoded values.
func json(_ fields: [(String, String)]) -> String {
    "{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
}
