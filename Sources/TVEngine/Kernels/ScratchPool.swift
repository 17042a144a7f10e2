import Foundation

/// Reusable per-worker scratch memory. Fresh allocations of a few MB come from mmap and cost a
/// page fault plus zeroing per page on first touch; taking blocks from this pool instead keeps the
/// same few resident blocks across all tensors of a pass. Thread-safe; a block is owned by one
/// worker between `take` and `give`.
final class ScratchPool: @unchecked Sendable {
    private struct Block { let pointer: UnsafeMutableRawPointer; let capacity: Int }
    private let lock = NSLock()
    private var free: [Block] = []

    deinit {
        for b in free { b.pointer.deallocate() }
    }

    /// A block of at least `bytes` bytes, 64-byte aligned.
    func take(_ bytes: Int) -> (UnsafeMutableRawPointer, Int) {
        lock.lock()
        if let i = free.firstIndex(where: { $0.capacity >= bytes }) {
            let b = free.remove(at: i)
            lock.unlock()
            return (b.pointer, b.capacity)
        }
        lock.unlock()
        let capacity = max(bytes, 1 << 20)
        return (.allocate(byteCount: capacity, alignment: 64), capacity)
    }

    func give(_ pointer: UnsafeMutableRawPointer, capacity: Int) {
        lock.lock()
        free.append(Block(pointer: pointer, capacity: capacity))
        lock.unlock()
    }
}
