#if canImport(Glibc)
import Glibc
#endif
import Foundation
import TensorCore

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
    guard x.isFinite else { return "null" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let r = (x * scale).rounded() / scale
    return digits == 0 ? String(Int(r)) : String(r)
}

/// One JSON object on one line from already-encoded values.
func json(_ fields: [(String, String)]) -> String {
    "{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
}

/// Best-of-`repeats` GFLOP/s of an n × n × n `cblas_sgemm` at the current thread count.
func sgemmGFLOPs(n: Int, repeats: Int) -> Double {
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

/// What Linux says about this process and the machine (`/proc`).
enum SystemStats {
    /// Peak resident set size (VmHWM) in MiB.
    static func peakRSSMiB() -> Double { statusMiB("VmHWM:") }

    /// Current resident set size (VmRSS) in MiB.
    static func rssMiB() -> Double { statusMiB("VmRSS:") }

    /// A size field of `/proc/self/status` in MiB.
    private static func statusMiB(_ field: String) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field) }),
              let kb = Double(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") else { return .nan }
        return kb / 1024
    }

    /// Resets the peak RSS to the current RSS (`/proc/self/clear_refs` = 5), so each benchmark
    /// reports its own peak; false where the kernel does not allow it.
    @discardableResult
    static func resetPeakRSS() -> Bool {
        let fd = open("/proc/self/clear_refs", O_WRONLY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return write(fd, "5", 1) == 1
    }

    /// CPU seconds all cores of the machine have been busy since boot (`/proc/stat`, all but
    /// idle and iowait), to tell how much else ran during a measurement.
    static func machineBusySeconds() -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return .nan }
        let ticks = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().compactMap { Double($0) }
        guard ticks.count >= 5 else { return .nan }
        // user nice system idle iowait irq softirq steal; guest time is already in user and nice.
        let idle = ticks[3] + ticks[4]
        return (ticks.prefix(8).reduce(0, +) - idle) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The 1-minute load average.
    static func loadAverage() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return .nan }
        return Double(text.split(separator: " ").first ?? "") ?? .nan
    }
}
