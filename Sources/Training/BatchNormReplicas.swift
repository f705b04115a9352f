import Comm
import NN
import TensorCore

/// SyncBatchNorm's reducer: an allreduce (sum) over the trainer's communicator.
final class CommunicatorStatisticsReducer: StatisticsReducer {
    let comm: Communicator
    init(_ comm: Communicator) { self.comm = comm }
    func sum(_ values: UnsafeMutableBufferPointer<Float>) { comm.allreduceSum(values) }
}

/// The batch-normalisation layers of a data-parallel model and what keeps their replicas alike.
///
/// - With `synchronize` (`parallel.sync_batch_norm`) every layer gets a reducer over the
///   communicator: batch statistics, and backward's two per-channel sums, cover all ranks' samples.
///   These collectives run on the main thread inside forward and backward, so the trainer then
///   reduces gradient buckets after backward instead of on the background thread (two threads
///   must not issue collectives on one communicator in different orders).
/// - Either way, after every step rank 0's moving statistics are broadcast (PyTorch DDP's
///   `broadcast_buffers`): without synchronisation each rank's differ, and the replicas must
///   stay identical for evaluation (each rank evaluates a share of the test set), checkpoints
///   (rank 0 writes them) and a bit-exact resume. One packed broadcast of a few thousand floats.
struct BatchNormReplicas {
    let layers: [BatchNormalization]
    let synchronized: Bool
    private let packed: Tensor?

    init(model: Layer, comm: Communicator, synchronize: Bool) {
        layers = model.allLayers.compactMap { $0 as? BatchNormalization }
        synchronized = synchronize && comm.size > 1 && !layers.isEmpty
        for l in layers { l.reducer = synchronized ? CommunicatorStatisticsReducer(comm) : nil }
        let total = layers.flatMap(\.movingStatistics).reduce(0) { $0 + $1.count }
        packed = comm.size > 1 && total > 0 ? Tensor(zeros: [total]) : nil
    }

    /// Gives every rank rank 0's moving statistics.
    func broadcastMovingStatistics(_ comm: Communicator) {
        guard let packed else { return }
        var offset = 0
        for v in layers.flatMap(\.movingStatistics) {
            (packed.data + offset).update(from: v.value.data, count: v.count)
            offset += v.count
        }
        comm.broadcast(packed.buffer, root: 0)
        offset = 0
        for v in layers.flatMap(\.movingStatistics) {
            v.value.data.update(from: packed.data + offset, count: v.count)
            offset += v.count
        }
    }
}
