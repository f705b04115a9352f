import Foundation

/// Faults that tests inject into real runs (under `mpirun` too) through the environment, read
/// once per process. Unset in normal runs, where they cost one comparison per backward.
///
/// - `DDP_TEST_STALL=rank:step:seconds`: that rank sleeps before the backward of its step-th
///   synchronised step (counted from 1 in this process), so the other ranks wait in the first
///   gradient bucket's allreduce — the stall watchdog's test.
/// - `DDP_TEST_NONFINITE_GRADIENT=rank:step:parameter`: on that rank, in that step, the first
///   gradient value of the named parameter ("dense_1/kernel") becomes NaN before it is reduced,
///   so every rank sees it after the allreduce — the non-finite check's test.
public struct TestHooks: Sendable {
    public var stall: (rank: Int, step: Int, seconds: Double)?
    public var nonFiniteGradient: (rank: Int, step: Int, parameter: String)?

    public static let current = TestHooks(ProcessInfo.processInfo.environment)

    public init(_ env: [String: String]) {
        if let text = env["DDP_TEST_STALL"] {
            let f = TestHooks.fields(text, "DDP_TEST_STALL", "rank:step:seconds")
            guard let r = Int(f[0]), let s = Int(f[1]), let t = Double(f[2]) else { TestHooks.malformed("DDP_TEST_STALL", "rank:step:seconds") }
            stall = (r, s, t)
        }
        if let text = env["DDP_TEST_NONFINITE_GRADIENT"] {
            let f = TestHooks.fields(text, "DDP_TEST_NONFINITE_GRADIENT", "rank:step:parameter")
            guard let r = Int(f[0]), let s = Int(f[1]) else { TestHooks.malformed("DDP_TEST_NONFINITE_GRADIENT", "rank:step:parameter") }
            nonFiniteGradient = (r, s, f[2])
        }
    }

    private static func fields(_ text: String, _ name: String, _ form: String) -> [String] {
        let f = text.split(separator: ":", maxSplits: 2).map(String.init)
        guard f.count == 3 else { malformed(name, form) }
        return f
    }

    private static func malformed(_ name: String, _ form: String) -> Never {
        fatalError("\(name): expected \(form)")
    }
}
