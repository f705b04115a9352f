import Comm
import Foundation

/// Runs `setup` on every MPI rank and returns its result when it succeeded on all of them.
/// Otherwise the ranks learn who failed (one small allgather, so `setup` must issue no
/// collective itself), the lowest failing rank alone prints its error, and every rank exits
/// with that error's code after `MPI_Finalize`: a mistake every rank makes (a typo in the
/// config) is reported once, one that only some ranks make (a config file missing on one
/// node) by a rank that made it, and no rank is left waiting.
func agreeOnSetup<T>(_ comm: MPICommunicator, _ setup: () throws -> T) -> T {
    let outcome = Result { try setup() }
    var message = "", code: Int32 = 0
    if case .failure(let error) = outcome { (message, code) = describe(error) }
    let codes = comm.allgather([Double(code)]).map { Int32($0[0]) }
    guard let reporter = codes.firstIndex(where: { $0 != 0 }) else { return try! outcome.get() }
    if comm.rank == reporter {
        let failed = codes.indices.filter { codes[$0] != 0 }
        let which = failed.count == comm.size ? "" : "rank\(failed.count == 1 ? "" : "s") \(failed.map(String.init).joined(separator: ", ")) of \(comm.size): "
        printError("ddp: \(which)\(message)\n")
    }
    comm.finalize()
    exit(codes[reporter])
}
