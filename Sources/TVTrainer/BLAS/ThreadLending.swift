import CKernels

/// A thread with no work of its own left lends itself to the threads still computing (CKernels'
/// lent_threads.h): their matrix products and AdamW passes hand half their output elements to it,
/// each element computed exactly as before, so results keep their bits. Used by parallel jobs of
/// unequal length (finetunes), so the last job runs on both cores instead of leaving one idle.
public final class ThreadLending: @unchecked Sendable {
    private let flag: UnsafeMutablePointer<Int32>

    public init() {
        flag = .allocate(capacity: 1)
        flag.initialize(to: 0)
    }

    deinit { flag.deallocate() }

    /// Only the tiled products split (OpenBLAS's path runs on the calling thread).
    public static var useful: Bool { MatrixProduct.tiled }

    /// Blocks the calling thread, running others' work, until `stop()` (returns at once after it).
    public func lend() { tv_lend_thread(flag) }

    public func stop() { tv_lend_stop(flag) }
}
