// A training process for the `mpirun` integration tests: runs one `Scenario` on this rank
// with the Open MPI communicator and writes its final parameters to `<out>.rank<r>`.
//   mpirun -np N MPIWorker <cnn|transformer|gan> <perRankBatch> <steps> <out> [--per-rank-seeds] [--no-overlap]
import Comm
import Foundation
import Scenarios

let args = CommandLine.arguments
guard args.count >= 5, let scenario = Scenario(rawValue: args[1]), let batch = Int(args[2]), let steps = Int(args[3]) else {
    FileHandle.standardError.write(Data("usage: MPIWorker <cnn|transformer|gan> <perRankBatch> <steps> <out> [--per-rank-seeds] [--no-overlap]\n".utf8))
    exit(2)
}
let comm = MPICommunicator.initialize()
do {
    let params = try scenario.run(comm: comm, perRankBatch: batch, steps: steps,
                                  perRankSeeds: args.contains("--per-rank-seeds"), overlap: !args.contains("--no-overlap"))
    let data = params.withUnsafeBufferPointer { Data(buffer: $0) }
    try data.write(to: URL(fileURLWithPath: "\(args[4]).rank\(comm.rank)"))
} catch {
    comm.abort("\(error)", code: 1)
}
comm.finalize()
