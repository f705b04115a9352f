import Foundation

/// One block of memory that every rank of a group maps (ranks on one node): zero-filled at
/// creation, unmapped when the last reference in this process goes away. Made by
/// `Communicator.mapSharedMemory(bytes:)`.
public final class SharedSegment: @unchecked Sendable {
    public let base: UnsafeMutableRawPointer
    public let bytes: Int
    private let release: @Sendable () -> Void
    /// Called each time a wait on another rank's flag times out: the in-process group ends the
    /// waiting thread there when a rank has failed (under MPI the launcher ends the job).
    let onWaitTimeout: @Sendable () -> Void

    init(base: UnsafeMutableRawPointer, bytes: Int, release: @escaping @Sendable () -> Void,
         onWaitTimeout: @escaping @Sendable () -> Void = {}) {
        self.base = base
        self.bytes = bytes
        self.release = release
        self.onWaitTimeout = onWaitTimeout
    }

    deinit { release() }
}
