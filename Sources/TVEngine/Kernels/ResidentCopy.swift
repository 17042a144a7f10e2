import Foundation
import TVStorage

/// One tensor's operands read into memory once, for a method that passes over the tensor more than
/// once (TIES and breadcrumbs: selection passes, then the merge). The first pass reads each block
/// from the file straight into its place here (`ChunkRunner.forEachRawBlock(filling:)`), later
/// passes read it in place: one read from the page cache instead of three. Operands that are not
/// file-backed are read in place anyway and get no copy.
final class ResidentCopy: @unchecked Sendable {
    /// Largest copy made (all operands of one tensor); a larger tensor is read from the file per pass.
    static let limitBytes = 1 << 30

    private let buffer: ResidentBuffer
    private let memory: UnsafeMutableRawPointer
    private let capacity: Int
    /// Per operand (base first, then the models): where its bytes start, nil when read in place.
    let regions: [UnsafeMutableRawPointer?]
    /// Set after the filling pass; from then on passes read `regions`.
    private(set) var filled = false

    private init(buffer: ResidentBuffer, memory: UnsafeMutableRawPointer, capacity: Int, regions: [UnsafeMutableRawPointer?]) {
        self.buffer = buffer
        self.memory = memory
        self.capacity = capacity
        self.regions = regions
    }

    deinit { buffer.give(memory, capacity: capacity) }

    /// A copy to fill for `operands`, or nil when none is worth making (nothing file-backed, or
    /// larger than `limitBytes`).
    static func make(for operands: TensorOperands, buffer: ResidentBuffer) -> ResidentCopy? {
        let tensors = [operands.base] + operands.models
        let sizes = tensors.map { t in t.flatMap { SourceReader.usePread && $0.storage.mapping != nil ? $0.byteCount : nil } }
        // Regions 64-byte aligned.
        let total = sizes.reduce(0) { $0 + (($1 ?? 0) + 63) / 64 * 64 }
        guard total > 0, total <= limitBytes else { return nil }
        let (memory, capacity) = buffer.take(total)
        var offset = 0
        let regions: [UnsafeMutableRawPointer?] = sizes.map { size in
            guard let size else { return nil }
            defer { offset += (size + 63) / 64 * 64 }
            return memory + offset
        }
        return ResidentCopy(buffer: buffer, memory: memory, capacity: capacity, regions: regions)
    }

    func markFilled() { filled = true }
}

/// The one reusable allocation behind `ResidentCopy` (tensors are merged one at a time): kept
/// between tensors so its pages are faulted in once, replaced when a larger tensor needs more.
final class ResidentBuffer: @unchecked Sendable {
    private let lock = NSLock()
    private var spare: (pointer: UnsafeMutableRawPointer, capacity: Int)?

    deinit { spare?.pointer.deallocate() }

    func take(_ bytes: Int) -> (UnsafeMutableRawPointer, Int) {
        lock.lock()
        let s = spare
        spare = nil
        lock.unlock()
        if let s, s.capacity >= bytes { return (s.pointer, s.capacity) }
        s?.pointer.deallocate()
        return (.allocate(byteCount: bytes, alignment: 64), bytes)
    }

    func give(_ pointer: UnsafeMutableRawPointer, capacity: Int) {
        lock.lock()
        let old = spare
        if let o = old, o.capacity >= capacity {
            lock.unlock()
            pointer.deallocate()
            return
        }
        spare = (pointer, capacity)
        lock.unlock()
        old?.pointer.deallocate()
    }
}

/// Where a tensor's `ResidentCopy` lives while it is merged: shared by every copy of its
/// `TensorOperands`, emptied when the tensor's pages are released.
public final class ResidentSlot: @unchecked Sendable {
    private let lock = NSLock()
    private var value: ResidentCopy?

    public init() {}

    var copy: ResidentCopy? {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}
