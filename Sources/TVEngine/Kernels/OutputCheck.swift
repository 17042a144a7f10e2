import Foundation
import TVStorage

/// Watches the output blocks a kernel pass produces for inf/NaN (a merge whose weights overflow
/// must not be written silently). Kernels call `scan` on each block right after computing it,
/// while it is in cache; the merge resets it per tensor and asks for the first hit afterwards.
final class OutputCheck: @unchecked Sendable {
    private let lock = NSLock()
    private var hit: Int?

    func reset() { lock.withLock { hit = nil } }

    /// Element index (within the tensor) of the first non-finite output seen, if any.
    var firstHit: Int? { lock.withLock { hit } }

    /// `p` points at the block's first value, element `firstElement` of the tensor.
    func scan(_ p: UnsafeRawPointer, count: Int, dtype: DType, firstElement: Int) {
        guard let i = NonFiniteScan.firstIndex(p, count: count, dtype: dtype) else { return }
        lock.withLock { hit = min(hit ?? Int.max, firstElement + i) }
    }
}
