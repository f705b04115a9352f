// A training process for the `mpirun` integration tests: runs one `Scenario` on this rank
// with the Open MPI communicator and writes its final parameters to `<out>.rank<r>`.
// Rank 0 prints how gradients were averaged ("allreduce: shared memory").
//   mpirun -np N MPIWorker <cnn|transformer|gan> <perRankBatch> <steps> <out> [--per-rank-seeds] [--no-overlap] [--no-shared-memory]
import Autograd
import Comm
import Foundation
import Scenarios
import TensorCore

let args = CommandLine.arguments
guard args.count >= 5, let scenario = Scenario(rawValue: args[1]), let batch = Int(args[2]), let steps = Int(args[3]) else {
    FileHandle.standardError.write(Data("usage: MPIWorker <cnn|transformer|gan> <perRankBatch> <steps> <out> [--per-rank-seeds] [--no-overlap] [--no-shared-memory]\n".utf8))
    exit(2)
}
let comm = MPICommunicator.initialize()
let sharedMemory = !args.contains("--no-shared-memory")
let probe = DataParallel(FlatParameters([Variable(Tensor([1], shape: [1]), requiresGrad: true)]), comm: comm, sharedMemory: sharedMemory)
if comm.rank == 0 { print("allreduce: \(probe.allreduceMethod)") }
do {
    let params = try scenario.run(comm: comm, perRankBatch: batch, steps: steps,
                                  perRankSeeds: args.contains("--per-rank-seeds"), overlap: !args.contains("--no-overlap"),
                                  sharedMemory: sharedMemory)
    let data = params.withUnsafeBufferPointer { Data(buffer: $0) }
    try data.write(to: URL(fileURLWithPath: "\(args[4]).rank\(comm.rank)"))
} catch {
    comm.abort("\(error)", code: 1)
}
comm.finalize()
