import Comm
import NN

/// Before the first broadcast, every rank compares its configuration and its model with rank
/// 0's. Ranks started with different `--set` values, config files or program versions would
/// otherwise train different things — or hang or crash in a collective of mismatched sizes.
///
/// One allgather of two 64-bit digests when all agree. On a mismatch, rank 0's description is
/// broadcast, each differing rank names what differs, and rank 0 ends the job with it.
public enum ConsistencyCheck {
    /// Keys that may differ between ranks: paths local to a host, and the output only rank 0 writes.
    static let localKeys: Set<String> = ["data.dir", "output.dir"]

    /// `networks` are the built models under their checkpoint prefixes ("", "generator/").
    public static func verify(_ config: JobConfig, networks: [(prefix: String, model: Layer)], comm: Communicator) throws {
        guard comm.size > 1 else { return }
        let mine = [("config", configEntries(config)), ("model", networks.flatMap { modelEntries($0.model, path: $0.prefix) })]
        let digests = mine.flatMap { halves(fnv1a64(text($0.1).utf8)) }
        comm.monitor.setPhase("start-up consistency check")
        let all = comm.allgather(digests)
        var findings: [String] = []
        for (k, (what, entries)) in mine.enumerated() {
            let differing = (1..<comm.size).filter { all[$0][(2 * k)..<(2 * k + 2)] != all[0][(2 * k)..<(2 * k + 2)] }
            guard !differing.isEmpty else { continue }
            let reference = comm.broadcast(string: text(entries), root: 0)
            for r in differing {
                let detail = comm.rank == r ? differences(entries, reference: parse(reference), rank: r) : ""
                findings.append("rank \(r)'s \(what) differs from rank 0's: " + comm.broadcast(string: detail, root: r))
            }
        }
        guard !findings.isEmpty else { return }
        let error = TrainingError(findings.joined(separator: "\n") + "\nevery rank must run the same configuration and program")
        // Rank 0 alone reports; the others wait for the abort it causes.
        if comm.rank != 0 { comm.barrier() }
        throw error
    }

    /// The effective configuration as (key path, value) leaves, host-local keys left out.
    static func configEntries(_ config: JobConfig) -> [(String, String)] {
        var out: [(String, String)] = []
        func walk(_ v: JSONValue, _ path: String) {
            switch v {
            case .object(let fields) where !fields.isEmpty:
                for key in fields.keys.sorted() { walk(fields[key]!, path.isEmpty ? key : "\(path).\(key)") }
            case .array(let items) where !items.isEmpty:
                for (i, item) in items.enumerated() { walk(item, "\(path)[\(i)]") }
            default:
                if !localKeys.contains(path) { out.append((path, v.canonicalText)) }
            }
        }
        walk(config.effective, "")
        return out
    }

    /// Each layer, depth first, as (name path, type and parameter shapes).
    static func modelEntries(_ layer: Layer, path: String) -> [(String, String)] {
        let here = path + layer.name
        guard layer.sublayers.isEmpty else {
            return [(here, layer.typeName)] + layer.sublayers.flatMap { modelEntries($0, path: here + "/") }
        }
        let shapes = layer.parameters.map { "\($0.name) \($0.shape)" }
        return [(here, ([layer.typeName] + shapes).joined(separator: ", "))]
    }

    static func text(_ entries: [(String, String)]) -> String { entries.map { "\($0.0)\t\($0.1)" }.joined(separator: "\n") }

    static func parse(_ text: String) -> [(String, String)] {
        text.split(separator: "\n").map { line in
            let parts = line.split(separator: "\t", maxSplits: 1).map(String.init)
            return (parts[0], parts.count > 1 ? parts[1] : "")
        }
    }

    /// What differs, at most five items: "training.batch_size is 32 on rank 1, 16 on rank 0".
    static func differences(_ mine: [(String, String)], reference: [(String, String)], rank: Int) -> String {
        let theirs = Dictionary(reference, uniquingKeysWith: { a, _ in a })
        let own = Dictionary(mine, uniquingKeysWith: { a, _ in a })
        var items: [String] = []
        for (key, value) in mine {
            if let other = theirs[key] {
                if other != value { items.append("\(key) is \(value) on rank \(rank), \(other) on rank 0") }
            } else {
                items.append("\(key) (\(value)) exists only on rank \(rank)")
            }
        }
        for (key, value) in reference where own[key] == nil { items.append("\(key) (\(value)) exists only on rank 0") }
        if items.isEmpty { items.append("the same entries in another order") }
        return items.prefix(5).joined(separator: "; ") + (items.count > 5 ? "; and \(items.count - 5) more" : "")
    }

    /// A 64-bit digest as two doubles, each exact (32 bits).
    static func halves(_ v: UInt64) -> [Double] { [Double(v >> 32), Double(v & 0xffff_ffff)] }
}
