import Foundation

/// A column-major Double matrix (leading dimension = rows) whose storage comes from
/// `DenseScratchPool` and goes back to it when the matrix is released, so the SVD merges reuse the same
/// pages tensor after tensor instead of mapping (and faulting in) fresh ones for every tensor.
final class ScratchMatrix: @unchecked Sendable {
    let rows: Int
    let columns: Int
    let base: UnsafeMutablePointer<Double>
    private let capacity: Int

    /// Uninitialised storage for rows × columns values.
    init(rows: Int, columns: Int) {
        self.rows = rows
        self.columns = columns
        (base, capacity) = DenseScratchPool.shared.take(max(1, rows * columns))
    }

    deinit { DenseScratchPool.shared.giveBack(base, capacity: capacity) }

    var count: Int { rows * columns }
    var view: MatrixView { MatrixView(base: base, rows: rows, columns: columns) }
}

/// A column-major matrix in memory someone else owns (a `ScratchMatrix`, a decoded tensor).
/// A row-major m × n tensor is the column-major n × m matrix, its transpose, with no copy.
struct MatrixView: @unchecked Sendable {
    let base: UnsafeMutablePointer<Double>
    let rows: Int
    let columns: Int

    var count: Int { rows * columns }

    /// Columns `start ..< start + n` (a view into the same storage).
    func columns(_ start: Int, _ n: Int) -> MatrixView {
        MatrixView(base: base + start * rows, rows: rows, columns: n)
    }

    var allFinite: Bool {
        for j in 0..<count where !base[j].isFinite { return false }
        return true
    }
}

/// Grow-only Double buffers kept between tensors, for the whole-tensor methods' decoded operands
/// (DenseTensor) and the SVD methods' factorisations. Not ChunkRunner's ScratchPool, which never
/// releases a block: with tensors of many sizes it would keep every size. Retained memory is what
/// was in use at the same time at the peak (one tensor's operands and factorisation per concurrent
/// worker), not the model: a request takes the
/// smallest free buffer that fits; when none fits, the largest free one is released and a new
/// one allocated, so the number of buffers never exceeds the peak number in use at once.
final class DenseScratchPool: @unchecked Sendable {
    static let shared = DenseScratchPool()

    private let lock = NSLock()
    private var free: [(pointer: UnsafeMutablePointer<Double>, capacity: Int)] = []

    func take(_ count: Int) -> (UnsafeMutablePointer<Double>, Int) {
        let reused: (UnsafeMutablePointer<Double>, Int)? = lock.withLock {
            var best: Int?
            for (i, b) in free.enumerated() where b.capacity >= count && b.capacity < (best.map { free[$0].capacity } ?? .max) {
                best = i
            }
            if let best { return free.remove(at: best) }
            if let largest = free.indices.max(by: { free[$0].capacity < free[$1].capacity }) {
                free.remove(at: largest).pointer.deallocate()
            }
            return nil
        }
        if let reused { return reused }
        return (UnsafeMutablePointer<Double>.allocate(capacity: count), count)
    }

    func giveBack(_ pointer: UnsafeMutablePointer<Double>, capacity: Int) {
        lock.withLock { free.append((pointer, capacity)) }
    }

    /// The free buffers' capacities (tests).
    var freeCapacities: [Int] { lock.withLock { free.map(\.capacity) } }

    /// Releases every free buffer (tests; a long-running host after a merge).
    func drain() {
        lock.withLock {
            for b in free { b.pointer.deallocate() }
            free.removeAll()
        }
    }
}
