import CMPI
import Foundation

/// Open MPI, one process per rank. Started without `mpirun` it is an MPI singleton of size 1.
///
/// The float allreduce is a deterministic reduce-scatter + allgather: every rank sends chunk c
/// of its buffer to rank c (`MPI_Alltoallv`), rank c sums the N contributions in rank order,
/// and the sums are gathered back (`MPI_Allgatherv`). It moves the same bytes as a
/// bandwidth-optimal ring, but the order of the float additions is fixed, so the result does
/// not depend on which algorithm Open MPI picks and equals the in-process mode bit for bit.
///
/// With two ranks every algorithm adds each element exactly once, and float addition is
/// commutative, so Open MPI's own `MPI_Allreduce` gives the same bits with half the copying;
/// it is used then unless `DDP_ALLREDUCE=ordered` asks for the general scheme.
public final class MPICommunicator: Communicator, @unchecked Sendable {
    public let rank: Int
    public let size: Int
    public var backend: String { "mpi" }
    public let monitor: CollectiveMonitor
    let comm: MPI_Comm
    private let nativeSum: Bool
    private var scratch: UnsafeMutablePointer<Float>?
    private var scratchCount = 0
    private var sendCounts: [Int32], sendOffsets: [Int32], recvCounts: [Int32], recvOffsets: [Int32]

    /// Initialises MPI once per process (thread level `MPI_THREAD_MULTIPLE`, so a background
    /// thread may reduce gradient buckets while the main thread computes).
    public static func initialize() -> MPICommunicator {
        var flag: Int32 = 0
        MPI_Initialized(&flag)
        if flag == 0 {
            var provided: Int32 = 0
            MPI_Init_thread(nil, nil, Int32(MPI_THREAD_MULTIPLE), &provided)
            if provided < Int32(MPI_THREAD_SERIALIZED) {
                FileHandle.standardError.write(Data("MPI provides thread level \(provided); SwiftDDP needs at least MPI_THREAD_SERIALIZED\n".utf8))
                MPI_Abort(cmpi_comm_world(), 1)
            }
        }
        return MPICommunicator(comm: cmpi_comm_world())
    }

    private init(comm: MPI_Comm) {
        self.comm = comm
        var r: Int32 = 0, s: Int32 = 0
        MPI_Comm_rank(comm, &r)
        MPI_Comm_size(comm, &s)
        rank = Int(r)
        size = Int(s)
        monitor = CollectiveMonitor(rank: rank)
        nativeSum = size == 2 && ProcessInfo.processInfo.environment["DDP_ALLREDUCE"] != "ordered"
        sendCounts = Array(repeating: 0, count: size)
        sendOffsets = sendCounts
        recvCounts = sendCounts
        recvOffsets = sendCounts
    }

    /// Whether this process was started by an MPI launcher (mpirun, srun) rather than as a
    /// singleton; read from the environment, before `MPI_Init`.
    public static var launchedByMPI: Bool {
        let env = ProcessInfo.processInfo.environment
        return env["OMPI_COMM_WORLD_SIZE"] != nil || env["PMIX_RANK"] != nil || env["PMI_RANK"] != nil
    }

    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) {
        guard size > 1, let base = buffer.baseAddress else { return }
        monitor.track(.allreduce, bytes: buffer.count * 4) {
            nativeSum ? nativeAllreduce(base, buffer.count) : reduceScatterAllgather(base, buffer.count)
        }
    }

    private func nativeAllreduce(_ base: UnsafeMutablePointer<Float>, _ n: Int) {
        var offset = 0
        while offset < n {
            let count = min(n - offset, Int(Int32.max))
            MPI_Allreduce(cmpi_in_place(), base + offset, Int32(count), cmpi_float(), cmpi_sum(), comm)
            offset += count
        }
    }

    private func reduceScatterAllgather(_ base: UnsafeMutablePointer<Float>, _ n: Int) {
        let mine = chunkRange(n, rank: rank, of: size)
        let need = mine.count * size
        // A rank's chunk is empty when the buffer has fewer elements than ranks; MPI still
        // needs a valid address.
        if need > scratchCount || scratch == nil {
            scratch?.deallocate()
            scratch = .allocate(capacity: max(need, 1))
            scratchCount = max(need, 1)
        }
        let work = scratch!
        for r in 0..<size {
            let c = chunkRange(n, rank: r, of: size)
            sendCounts[r] = Int32(c.count)
            sendOffsets[r] = Int32(c.lowerBound)
            recvCounts[r] = Int32(mine.count)
            recvOffsets[r] = Int32(r * mine.count)
        }
        MPI_Alltoallv(base, sendCounts, sendOffsets, cmpi_float(), work, recvCounts, recvOffsets, cmpi_float(), comm)
        let m = mine.count
        let dst = base + mine.lowerBound
        dst.update(from: work, count: m)
        for r in 1..<size {
            let src = work + r * m
            for i in 0..<m { dst[i] += src[i] }
        }
        for r in 0..<size {
            let c = chunkRange(n, rank: r, of: size)
            recvCounts[r] = Int32(c.count)
            recvOffsets[r] = Int32(c.lowerBound)
        }
        MPI_Allgatherv(cmpi_in_place(), 0, cmpi_float(), base, recvCounts, recvOffsets, cmpi_float(), comm)
    }

    public func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int) {
        guard size > 1, let base = buffer.baseAddress else { return }
        monitor.track(.broadcast, bytes: buffer.count * 4) {
            var offset = 0
            while offset < buffer.count {
                let n = min(buffer.count - offset, Int(Int32.max))
                MPI_Bcast(base + offset, Int32(n), cmpi_float(), Int32(root), comm)
                offset += n
            }
        }
    }

    public func broadcast(bytes: UnsafeMutableRawBufferPointer, root: Int) {
        guard size > 1, let base = bytes.baseAddress else { return }
        monitor.track(.broadcast, bytes: bytes.count) { _ = MPI_Bcast(base, Int32(bytes.count), cmpi_uint8(), Int32(root), comm) }
    }

    public func allgather(_ values: [Double]) -> [[Double]] {
        guard size > 1 else { return [values] }
        let k = values.count
        var out = [Double](repeating: 0, count: k * size)
        var send = values
        monitor.track(.allgather, bytes: k * 8) {
            send.withUnsafeMutableBufferPointer { s in
                out.withUnsafeMutableBufferPointer { o in
                    _ = MPI_Allgather(s.baseAddress, Int32(k), cmpi_double(), o.baseAddress, Int32(k), cmpi_double(), comm)
                }
            }
        }
        return (0..<size).map { Array(out[($0 * k)..<(($0 + 1) * k)]) }
    }

    /// Whether every rank runs on this rank's node (`MPI_COMM_TYPE_SHARED`); asked once.
    private lazy var allOnOneNode: Bool = {
        var node: MPI_Comm?
        MPI_Comm_split_type(comm, cmpi_comm_type_shared(), Int32(rank), cmpi_info_null(), &node)
        var n: Int32 = 0
        MPI_Comm_size(node, &n)
        MPI_Comm_free(&node)
        return Int(n) == size
    }()
    private var segmentsMapped = 0

    /// A POSIX shared-memory object: rank 0 creates it with all its pages reserved (so a small
    /// /dev/shm gives an error here, not a SIGBUS later), every rank maps it, and rank 0
    /// unlinks the name once all have — a crash afterwards leaves nothing behind.
    public func mapSharedMemory(bytes: Int) -> SharedSegment? {
        guard size > 1, bytes > 0, allOnOneNode else { return nil }
        segmentsMapped += 1
        let name = "/swiftddp-\(getpid())-\(segmentsMapped)"
        var nameBytes = [UInt8](repeating: 0, count: 64)
        var fd: Int32 = -1
        if rank == 0 {
            fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0o600)
            if fd >= 0 && posix_fallocate(fd, 0, off_t(bytes)) != 0 {
                close(fd)
                shm_unlink(name)
                fd = -1
            }
            if fd >= 0 { for (i, b) in name.utf8.enumerated() { nameBytes[i] = b } }
        }
        nameBytes.withUnsafeMutableBytes { broadcast(bytes: $0, root: 0) }
        let shared = String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self)
        if rank != 0 && !shared.isEmpty { fd = shm_open(shared, O_RDWR, 0) }
        var base: UnsafeMutableRawPointer?
        if fd >= 0 {
            let p = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
            close(fd)
            if p != MAP_FAILED { base = p }
        }
        let mapped = allgather([base == nil ? 0 : 1]).allSatisfy { $0[0] == 1 }
        if rank == 0 && !shared.isEmpty { shm_unlink(shared) }
        guard mapped, let base else {
            if let base { munmap(base, bytes) }
            return nil
        }
        let address = UInt(bitPattern: base)
        return SharedSegment(base: base, bytes: bytes, release: { munmap(UnsafeMutableRawPointer(bitPattern: address), bytes) })
    }

    public func barrier() { monitor.track(.barrier, bytes: 0) { _ = MPI_Barrier(comm) } }

    public func abort(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data("rank \(rank): \(message)\n".utf8))
        MPI_Abort(comm, code)
        exit(code)
    }

    /// Ends MPI cleanly at the end of a successful run.
    public func finalize() {
        var flag: Int32 = 0
        MPI_Finalized(&flag)
        if flag == 0 { MPI_Finalize() }
    }
}
